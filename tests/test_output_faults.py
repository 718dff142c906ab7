"""The output half of hostile and broken input: no write outside --out, --force replaces only
complete results, one writer per folder, no leftovers (files or processes) after a kill, damaged
results folders named, and memory that does not grow with the run length when --out is given.

Every CLI outcome goes through ``outcome`` and is counted; the tally is printed at the end
(``pytest -s``) and must show none unclean.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Iterator

import pytest
from conftest import TEST_SCENARIOS

from sim.cli import main
from sim.results import OutputExists, UnsafePath, inside, output_lock, read_folder
from sim.results.atomic import replace_with, temp_beside

LADDER = str(TEST_SCENARIOS / "ladder.yaml")
FAST = ["--reps", "2", "--horizon-days", "12", "--quiet"]
GRID = ["--grid", "roles.grid_staff.staff_per_unit=1,2"]
# an overloaded ladder: the warning printed before the replications start says when they run
SLOW = ["--set", "arrivals.rate_per_household_year=2.5", "--max-open-cases", "10000000", "--horizon-days", "3650",
        "--quiet"]


@pytest.fixture(scope="module")
def tally() -> Iterator[Counter]:
    counts: Counter = Counter()
    yield counts
    print(f"\noutput faults: {counts['tried']} tried, {counts['clean']} clean, {counts['not clean']} not clean")
    assert counts["not clean"] == 0


def outcome(tally: Counter, capsys, *argv: str, expect: int) -> str:
    """Run the CLI in-process: it must exit ``expect`` with a message (not 0) and no traceback. Returns stderr."""
    tally["tried"] += 1
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code
    except BaseException:
        tally["not clean"] += 1
        raise
    err = capsys.readouterr().err
    clean = code == expect and "Traceback" not in err and (code == 0 or bool(err.strip()))
    tally["clean" if clean else "not clean"] += 1
    assert clean, (argv[:3], code, err[-800:])
    return err


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------------- no write outside --out
@pytest.mark.parametrize("name", ["../escape", "/tmp/abs", "..", "../out2/x", "a/../../b"])
def test_inside_refuses_paths_leaving_the_folder(tmp_path, name):
    with pytest.raises(UnsafePath):
        inside(tmp_path / "out", (tmp_path / "out" / name) if name != "/tmp/abs" else name)


def test_inside_refuses_a_symlink_out(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "link").symlink_to(tmp_path)
    with pytest.raises(UnsafePath):
        inside(tmp_path / "out", "link/x.csv")
    assert inside(tmp_path / "out", "x.csv") == (tmp_path / "out" / "x.csv").resolve()


@pytest.mark.parametrize("name", ["../escape", "a/b", "..", ""])
def test_a_scenario_built_around_validation_cannot_write_outside(tmp_path, name):
    import sim

    good = sim.load(LADDER).scenario
    bad = good.model_copy(update={"name": name})
    base = tmp_path / "deep" / "here"
    base.mkdir(parents=True)
    with pytest.raises(UnsafePath):
        sim.compare([good, bad], reps=1, horizon_days=5, out=base / "cmp")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["deep", "here"]  # nothing written, nothing left


# --------------------------------------------------------------------------- --force replaces last
@pytest.mark.parametrize("command,argv", [
    ("sweep", ["--grid", "households=-1,600"]),
    ("sweep", ["--grid", "no.such.key=1,2"]),
    ("staff", ["--vary", "roles.grid_staff.staff_per_unit=1..2", "--target", "nonsense<<1"]),
    ("sensitivity", ["--param", "levels.grid.settle=0.5..0.7", "--metric", "no_such_metric", "--samples", "2"]),
])
def test_force_keeps_the_old_folder_when_the_new_run_is_refused(tally, capsys, tmp_path, command, argv):
    out = tmp_path / "res"
    outcome(tally, capsys, "sweep", LADDER, *GRID, *FAST, "--out", str(out), expect=0)
    before = snapshot(out)
    outcome(tally, capsys, command, LADDER, *argv, *FAST, "--out", str(out), "--force", expect=2)
    assert snapshot(out) == before and hidden(tmp_path) == []


def test_force_replaces_a_complete_folder_only_at_the_end(tally, capsys, tmp_path):
    out = tmp_path / "res"
    outcome(tally, capsys, "run", LADDER, *FAST, "--out", str(out), expect=0)
    outcome(tally, capsys, "sweep", LADDER, *GRID, *FAST, "--out", str(out), "--force", expect=0)
    assert json.loads((out / "manifest.json").read_text())["kind"] == "sweep"
    assert not (out / "summary.json").exists() and hidden(tmp_path) == []


def test_force_over_a_file_leaves_nothing_behind(tally, capsys, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    outcome(tally, capsys, "run", LADDER, *FAST, "--out", str(afile), "--force", expect=0)
    assert afile.is_dir() and hidden(tmp_path) == []


# --------------------------------------------------------------------------- one writer per folder
def test_a_second_writer_is_refused_while_the_first_holds_the_lock(tally, capsys, tmp_path):
    out = tmp_path / "res"
    with output_lock(out):
        err = outcome(tally, capsys, "run", LADDER, *FAST, "--out", str(out), expect=2)
        assert f"{out} is being written by another process (pid {os.getpid()})" in err
    assert not out.exists() and hidden(tmp_path) == []
    outcome(tally, capsys, "run", LADDER, *FAST, "--out", str(out), expect=0)


def test_a_lock_of_a_dead_process_is_taken_over(tally, capsys, tmp_path):
    out = tmp_path / "res"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (tmp_path / ".res.lock").write_text(dead.stdout)
    outcome(tally, capsys, "run", LADDER, *FAST, "--out", str(out), expect=0)
    assert out.is_dir() and hidden(tmp_path) == []


def test_the_final_rename_never_replaces_a_folder_that_appeared(tmp_path):
    out = tmp_path / "res"
    tmp = temp_beside(out)
    (tmp / "new.txt").write_text("new")
    out.mkdir()
    (out / "theirs.txt").write_text("theirs")
    with pytest.raises(OutputExists, match="appeared while this run was writing it"):
        replace_with(tmp, out, force=False)
    assert [p.name for p in out.iterdir()] == ["theirs.txt"]


def test_two_processes_writing_the_same_folder(tmp_path):
    """Two `sim run --out SAME` at once: exactly one writes, the other says why it did not."""
    out = tmp_path / "res"
    cmd = [sys.executable, "-m", "sim.cli", "run", LADDER, "--reps", "2", "--horizon-days", "200", "--quiet",
           "--out", str(out)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    codes = sorted(c for c, _ in results)
    assert codes == [0, 2], results
    loser = next(err for c, err in results if c == 2)
    assert ("is being written by another process" in loser or "already exists" in loser) and "Traceback" not in loser
    assert read_folder(out).kind == "run" and hidden(tmp_path) == []


# --------------------------------------------------------------------------- leftovers of a killed run
def _start_and_wait_for_replications(argv: list[str]) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", *argv], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    first = proc.stderr.readline()
    assert "warning: unstable" in first, first
    time.sleep(1.5)  # the replications are spooling case rows by now
    return proc


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids = (task / "children").read_text().split()
        out += [int(k) for k in kids]
    return out


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status


def test_sigkill_leftovers_are_removed_by_the_next_run(tally, capsys, tmp_path):
    out = tmp_path / "res"
    proc = _start_and_wait_for_replications(["run", LADDER, *SLOW, "--reps", "2", "--out", str(out)])
    proc.kill()
    proc.wait(timeout=30)
    proc.stderr.close()
    left = hidden(tmp_path)
    assert any(n.startswith(f".res.cases.{proc.pid}.") for n in left) and ".res.lock" in left, left
    outcome(tally, capsys, "run", LADDER, *FAST, "--out", str(out), expect=0)
    assert hidden(tmp_path) == [] and read_folder(out).kind == "run"


def test_leftovers_of_a_live_process_are_not_touched(tmp_path):
    from sim.results import remove_leftovers

    out = tmp_path / "res"
    mine = temp_beside(out, "cases")
    assert remove_leftovers(out) == [] and mine.exists()
    assert remove_leftovers(out, pid=os.getpid()) == [mine] and not mine.exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_die_with_their_parent(tmp_path):
    out = tmp_path / "res"
    proc = _start_and_wait_for_replications(["run", LADDER, *SLOW, "--reps", "4", "--workers", "2", "--out", str(out)])
    try:
        deadline = time.time() + 20
        workers: list[int] = []
        while len(workers) < 2 and time.time() < deadline:
            workers = _children(proc.pid)
            time.sleep(0.2)
        assert len(workers) >= 2, workers
        proc.kill()
        proc.wait(timeout=30)
        deadline = time.time() + 10
        while any(_alive(w) for w in workers) and time.time() < deadline:
            time.sleep(0.2)
        assert not any(_alive(w) for w in workers), "workers outlived their parent"
    finally:
        proc.stderr.close()
        for w in _children(proc.pid) if _alive(proc.pid) else []:
            os.kill(w, signal.SIGKILL)


# --------------------------------------------------------------------------- damaged results folders
@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "res"
    assert main(["run", LADDER, *FAST, "--out", str(out)]) == 0
    return out


def _copy(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst)
    return dst


@pytest.mark.parametrize("damage,named", [
    (lambda d: (d / "manifest.json").write_text('{"kind": "run", "scen'), "manifest.json is damaged: not valid JSON"),
    (lambda d: (d / "manifest.json").write_bytes(b"\xff\xfe\x00"), "manifest.json is damaged: not UTF-8"),
    (lambda d: (d / "manifest.json").write_text("[1, 2]"), "manifest.json is damaged: expected a JSON object"),
    (lambda d: (d / "replications.csv").write_bytes((d / "replications.csv").read_bytes()[:-40]),
     "replications.csv is damaged or truncated"),
    (lambda d: (d / "cases.parquet").unlink(), "cases.parquet is missing"),
    (lambda d: (d / "backlog.csv").write_text("day,open\n1,2\n"), "backlog.csv is damaged or truncated"),
])
@pytest.mark.parametrize("command", ["plot", "report"])
def test_damaged_folders_are_named_not_tracebacks(tally, capsys, tmp_path, run_folder, damage, named, command):
    d = _copy(run_folder, tmp_path / "res")
    damage(d)
    err = outcome(tally, capsys, command, str(d), "--out", str(tmp_path / ("p" if command == "plot" else "r.html")),
                  expect=2)
    assert named in err


def test_an_older_folder_without_checksums_reads_with_a_note(tally, capsys, tmp_path, run_folder):
    d = _copy(run_folder, tmp_path / "res")
    m = json.loads((d / "manifest.json").read_text())
    del m["files"]
    (d / "manifest.json").write_text(json.dumps(m))
    res = subprocess.run([sys.executable, "-m", "sim.cli", "plot", str(d), "--out", str(tmp_path / "p")],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr[-800:]
    assert f"note: {d}: written by an older version that recorded no checksums; its tables are read unchecked" \
        in res.stderr
    assert (tmp_path / "p" / "funnel.png").exists()


def test_the_manifest_records_rows_and_checksums(run_folder):
    files = json.loads((run_folder / "manifest.json").read_text())["files"]
    assert {"replications.csv", "summary.json", "backlog.csv", "cases.parquet", "cases.csv.gz"} <= set(files)
    assert files["replications.csv"]["rows"] == 2 and len(files["summary.json"]["sha256"]) == 64


def test_a_damaged_sweep_point_is_run_again(tally, capsys, tmp_path):
    out = tmp_path / "res"
    outcome(tally, capsys, "sweep", LADDER, *GRID, *FAST, "--out", str(out), expect=0)
    table = (out / "sweep.csv").read_bytes()
    point = sorted((out / "points").glob("*.parquet"))[0]
    point.write_bytes(point.read_bytes()[:-40])  # truncated: its footer is gone
    outcome(tally, capsys, "sweep", LADDER, *GRID, *FAST, "--out", str(out), expect=0)
    assert (out / "sweep.csv").read_bytes() == table
    import pandas as pd

    rows = pd.read_parquet(point)  # run again and rewritten whole
    assert set(rows["point"]) == {point.stem} and sorted(set(rows["replication"])) == [0, 1]


# --------------------------------------------------------------------------- memory: case rows streamed
def test_case_rows_are_streamed_in_batches(tmp_path):
    """write_cases never holds a whole spooled file: the process grows by far less than the
    table would take in memory (300,000 rows: reading the file whole, as before, takes about 40 MB)."""
    script = f"""
import resource, sys
from pathlib import Path
from types import SimpleNamespace
import pandas as pd, pyarrow.parquet as pq
from sim.engine.spool import CaseSpool
from sim.engine.model import CASE_COLUMNS
from sim.results import write_cases
rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
folder = Path({str(tmp_path)!r})
spool = CaseSpool(folder / ".out.cases.1.x", 0, CASE_COLUMNS)
types = {{"case_id": 1, "building": 1, "arrival_day": 1.5, "close_day": 2.5, "days_to_close": 1.0}}
for k in range(150):
    spool.write([tuple(types.get(c, f"{{c}}-{{k}}-{{i}}") for c in CASE_COLUMNS) for i in range(2000)])
spool.close()
(folder / "out").mkdir()
record = SimpleNamespace(cases=None, rep=0, extra={{"case_files": spool.files}})
write_cases(folder / "out", [record])  # warm up: imports and first allocations
before = rss()
rows = write_cases(folder / "out", [record])
grown = rss() - before
whole = int(pd.read_parquet(spool.files[0]).memory_usage(deep=True).sum())
print(rows, grown, whole)
"""
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False)
    assert res.returncode == 0, res.stderr[-2000:]
    rows, grown, whole = (int(x) for x in res.stdout.split())
    assert rows == 300_000 and whole > 30e6, (rows, whole)
    assert grown < whole / 2, (grown, whole)  # reading the file whole grows by more than whole
    import pandas as pd

    back = pd.read_parquet(tmp_path / "out" / "cases.parquet")
    csv = pd.read_csv(tmp_path / "out" / "cases.csv.gz")
    assert len(back) == len(csv) == 300_000 and list(back["rep"].unique()) == [0]
    assert back["case_id"].tolist() == csv["case_id"].tolist()


# --------------------------------------------------------------------------- wording
def test_utilisation_is_printed_with_three_significant_digits():
    from sim.stability import LevelLoad, warnings

    line = warnings([LevelLoad("grid", 1.0, 3.2e300, 1.0, 3.2e300, 1.23456e301, 0, None)])[0]
    assert "estimated utilisation 3.2e+300 (busiest unit #0: 1.23e+301)" in line and len(line) < 300
    line = warnings([LevelLoad("grid", 1.0, 1.0, 0.8, 1.0 / 0.8, 1.0 / 0.7, 2, 3.0)])[0]
    assert "estimated utilisation 1.25 (busiest unit #2: 1.43)" in line


def test_ctrl_c_during_a_sweep_says_what_was_kept(tally, capsys, tmp_path, monkeypatch):
    from sim.experiments import sweep as sweep_mod

    out = tmp_path / "res"
    real = sweep_mod._point_task
    calls = [0]

    def stop_after_one_point(task):
        calls[0] += 1
        if calls[0] > 2:
            raise KeyboardInterrupt
        return real(task)

    monkeypatch.setattr(sweep_mod, "_point_task", stop_after_one_point)
    tally["tried"] += 1
    assert main(["sweep", LADDER, *GRID, *FAST, "--out", str(out)]) == 130
    err = capsys.readouterr().err.strip()
    assert err == (f"sim: interrupted; the 1 finished point(s) are kept in {out / 'points'}: run the same command "
                   f"again to resume (the tables are written when every point is done)")
    tally["clean"] += 1
    assert "nothing was written there" not in err


def test_relative_out_folders_are_written_where_they_are_named(tally, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    outcome(tally, capsys, "sweep", LADDER, *GRID, *FAST, "--out", "D", expect=0)
    outcome(tally, capsys, "run", LADDER, *FAST, "--out", "R", expect=0)
    assert sorted(p.name for p in (tmp_path / "D").iterdir()) == ["manifest.json", "points", "sweep.csv",
                                                                 "sweep.parquet"]
    assert len(list((tmp_path / "D" / "points").glob("*.parquet"))) == 2
    assert {"manifest.json", "summary.json", "cases.parquet"} <= {p.name for p in (tmp_path / "R").iterdir()}
    assert read_folder("D").kind == "sweep" and read_folder("R").kind == "run"
    assert hidden(tmp_path) == []
