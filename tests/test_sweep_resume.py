"""A sweep interrupted part-way resumes without redoing finished points and gives exactly the full table."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from sim.experiments import sweep as sweep_mod
from sim.experiments.sweep import grid_points, parse_grid, point_hash, sweep

LADDER = Path(__file__).parent / "scenarios" / "ladder.yaml"
GRID = {"roles.grid_staff.staff_per_unit": [1, 2], "levels.grid.settle": [0.5, 0.6, 0.7]}
REPS, SEED, HORIZON = 2, 21, 12.0


class Counting:
    """Wraps the per-replication task function to count how many replications really ran."""

    def __init__(self) -> None:
        self.calls = 0
        self.real = sweep_mod._point_task

    def __call__(self, task):
        self.calls += 1
        return self.real(task)


def _interrupt_after(k: int):
    done = [0]

    def progress(n: int = 1) -> None:
        done[0] += n
        if done[0] >= k:
            raise KeyboardInterrupt

    return progress


def test_grid_parsing_and_points() -> None:
    grid = parse_grid(["a.b=1,2", "c=0.5,x,true"])
    assert grid == {"a.b": [1, 2], "c": [0.5, "x", True]}
    pts = grid_points(grid)
    assert len(pts) == 6 and pts[0] == {"a.b": 1, "c": 0.5} and pts[1] == {"a.b": 1, "c": "x"}
    h = point_hash({"a": 1}, 2, 3, None, "s")
    assert h == point_hash({"a": 1}, 2, 3, None, "s")
    assert len({h, point_hash({"a": 2}, 2, 3, None, "s"), point_hash({"a": 1}, 3, 3, None, "s"),
                point_hash({"a": 1}, 2, 4, None, "s"), point_hash({"a": 1}, 2, 3, 9.0, "s"),
                point_hash({"a": 1}, 2, 3, None, "t")}) == 6


def test_interrupted_sweep_resumes_to_the_same_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    full_dir, cut_dir = tmp_path / "full", tmp_path / "cut"
    full = sweep(LADDER, GRID, REPS, SEED, out=full_dir, horizon_days=HORIZON)
    n_points = len(grid_points(GRID))

    counter = Counting()
    monkeypatch.setattr(sweep_mod, "_point_task", counter)
    with pytest.raises(KeyboardInterrupt):
        sweep(LADDER, GRID, REPS, SEED, out=cut_dir, horizon_days=HORIZON, progress=_interrupt_after(2))
    assert counter.calls == 2 * REPS
    assert len(list((cut_dir / "points").glob("*.parquet"))) == 2
    assert not (cut_dir / "sweep.csv").exists() and not (cut_dir / "manifest.json").exists()
    assert not [p for p in cut_dir.rglob("*") if p.name.endswith(".tmp")]  # nothing half-written

    counter.calls = 0
    resumed = sweep(LADDER, GRID, REPS, SEED, out=cut_dir, horizon_days=HORIZON)
    assert counter.calls == (n_points - 2) * REPS  # finished points were read, not rerun
    pd.testing.assert_frame_equal(resumed, full, check_exact=True)
    assert (cut_dir / "sweep.csv").read_bytes() == (full_dir / "sweep.csv").read_bytes()
    pd.testing.assert_frame_equal(pd.read_parquet(cut_dir / "sweep.parquet"), pd.read_parquet(full_dir / "sweep.parquet"),
                                  check_exact=True)
    manifest = json.loads((cut_dir / "manifest.json").read_text())
    assert manifest["kind"] == "sweep" and len(manifest["points"]) == n_points

    counter.calls = 0
    again = sweep(LADDER, GRID, REPS, SEED, out=cut_dir, horizon_days=HORIZON)
    assert counter.calls == 0
    pd.testing.assert_frame_equal(again, full, check_exact=True)

    counter.calls = 0
    sweep(LADDER, GRID, REPS, SEED + 1, out=cut_dir, horizon_days=HORIZON)  # another seed is another point
    assert counter.calls == n_points * REPS


def test_sweep_command_resumes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sw"
    args = ["sweep", str(LADDER), "--grid", "roles.grid_staff.staff_per_unit=1,2", "--reps", "2", "--seed", "4",
            "--horizon-days", "12", "--out", str(out), "--quiet", "--json"]
    assert main(args) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["roles.grid_staff.staff_per_unit"] for r in rows} == {1, 2}
    table = pd.read_csv(out / "sweep.csv")
    assert list(table.columns[:2]) == ["roles.grid_staff.staff_per_unit", "metric"]
    counter = Counting()
    monkeypatch.setattr(sweep_mod, "_point_task", counter)
    assert main(args) == 0 and counter.calls == 0
    capsys.readouterr()
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    assert main(args[:-4] + ["--out", str(other), "--quiet"]) == 2  # not a sweep folder: refused without --force
    assert (other / "notes.txt").exists()


def test_sweep_killed_hard_resumes_to_the_same_table(tmp_path: Path) -> None:
    """SIGKILL the `sim sweep` process after its first point: nothing half-written, the rerun completes it."""
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "killed"
    grid = ["--grid", "levels.grid.settle=0.4,0.6,0.8,0.9", "--grid", "roles.grid_staff.staff_per_unit=2,3"]
    cmd = [sys.executable, "-c", "import sys; from sim.cli import main; sys.exit(main(sys.argv[1:]))", "sweep", str(LADDER), *grid, "--reps", "2", "--seed", "6",
           "--horizon-days", "60", "--out", str(out), "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not list((out / "points").glob("*.parquet")) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.01)
        assert proc.poll() is None, "the sweep ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    done = len(list((out / "points").glob("*.parquet")))
    assert 1 <= done < 8 and not (out / "sweep.csv").exists()
    for f in (out / "points").glob("*.parquet"):
        assert sorted(set(pd.read_parquet(f)["replication"])) == [0, 1]  # every point file is whole
    counter = Counting()
    import sim.experiments.sweep as mod

    mod._point_task = counter
    try:
        resumed = sweep(LADDER, parse_grid([g for g in grid if g != "--grid"]), 2, 6, out=out, horizon_days=60.0)
    finally:
        mod._point_task = counter.real
    assert counter.calls == (8 - done) * 2
    fresh = sweep(LADDER, parse_grid([g for g in grid if g != "--grid"]), 2, 6, horizon_days=60.0)
    pd.testing.assert_frame_equal(resumed, fresh, check_exact=True)
