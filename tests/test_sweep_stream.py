"""Sweep tasks and the streamed point store: one task per point (or several), the same table
whatever the grouping and the number of workers, points as Parquet files as they finish."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sim import run
from sim.experiments import sweep as sweep_mod
from sim.experiments.executors import LocalExecutor, SerialExecutor
from sim.experiments.inputs import resolve_base
from sim.experiments.sweep import grid_points, point_hash, point_scenario, sweep
from sim.results.points import finished_points, read_point

LADDER = Path(__file__).parent / "scenarios" / "ladder.yaml"
GRID = {"roles.grid_staff.staff_per_unit": [1, 2], "levels.grid.settle": [0.5, 0.6, 0.7]}
REPS, SEED, HORIZON = 3, 17, 12.0


@pytest.fixture(scope="module")
def serial() -> pd.DataFrame:
    return sweep(LADDER, GRID, REPS, SEED, horizon_days=HORIZON, workers=1)


def test_table_is_the_same_whatever_the_grouping_and_workers(serial: pd.DataFrame, tmp_path: Path) -> None:
    for workers, per_task in ((2, 1), (2, 4), (1, 5)):
        out = tmp_path / f"w{workers}-p{per_task}"
        table = sweep(LADDER, GRID, REPS, SEED, horizon_days=HORIZON, workers=workers, points_per_task=per_task, out=out)
        pd.testing.assert_frame_equal(table, serial, check_exact=True)
        assert finished_points(out / "points") == 6
        pd.testing.assert_frame_equal(pd.read_parquet(out / "sweep.parquet"), serial, check_exact=True)


def test_a_point_equals_a_run_of_its_scenario(serial: pd.DataFrame) -> None:
    """Replication r of a point is replication r of ``sim.run`` on the point's scenario (same seed streams)."""
    point = grid_points(GRID)[4]
    scenario = point_scenario(resolve_base(LADDER), point)
    alone = run(scenario, REPS, SEED, horizon_days=HORIZON).summary.reset_index(drop=True)
    rows = serial[(serial["roles.grid_staff.staff_per_unit"] == point["roles.grid_staff.staff_per_unit"])
                  & (serial["levels.grid.settle"] == point["levels.grid.settle"])]
    mine = rows.drop(columns=list(GRID)).reset_index(drop=True)
    assert repr(mine.to_dict("list")) == repr(alone[list(mine.columns)].to_dict("list"))


def test_point_files_are_a_parquet_dataset_of_replications(serial: pd.DataFrame, tmp_path: Path) -> None:
    sweep(LADDER, GRID, REPS, SEED, horizon_days=HORIZON, out=tmp_path)
    reps = pd.read_parquet(tmp_path / "points")
    metrics = serial.groupby(list(GRID)).size()
    assert list(reps.columns) == ["point", "replication", "metric", "value"]
    assert len(reps) == REPS * int(metrics.sum()) and reps["point"].nunique() == 6
    assert sorted(reps["replication"].unique()) == list(range(REPS))
    # the mean of a point's replications is the table's mean for that point and metric
    base = resolve_base(LADDER)
    h = point_hash(grid_points(GRID)[0], REPS, SEED, HORIZON, base.hash)
    mine = reps[(reps["point"] == h) & (reps["metric"] == "settled_share.building")]["value"]
    row = serial[(serial["roles.grid_staff.staff_per_unit"] == 1) & (serial["levels.grid.settle"] == 0.5)
                 & (serial["metric"] == "settled_share.building")]
    assert len(mine) == REPS and mine.mean() == pytest.approx(float(row["mean"].iloc[0]), rel=1e-12)
    doc = read_point(tmp_path / "points", h)
    assert doc["overrides"] == grid_points(GRID)[0] and doc["reps"] == REPS and doc["seed"] == SEED
    assert doc["replications"]["settled_share.building"] == mine.tolist()


def test_points_of_the_previous_json_format_are_read_back(serial: pd.DataFrame, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    sweep(LADDER, GRID, REPS, SEED, horizon_days=HORIZON, out=tmp_path)
    points = tmp_path / "points"
    for f in sorted(points.glob("*.parquet"))[:2]:  # rewrite two points as the previous version stored them
        doc = read_point(points, f.stem)
        (points / f"{f.stem}.json").write_text(json.dumps(doc, default=float))
        f.unlink()
    ran = []
    real = sweep_mod._point_task
    monkeypatch.setattr(sweep_mod, "_point_task", lambda task: ran.append(task) or real(task))
    again = sweep(LADDER, GRID, REPS, SEED, horizon_days=HORIZON, out=tmp_path)
    assert ran == [] and finished_points(points) == 6
    pd.testing.assert_frame_equal(again, serial, check_exact=True)


def test_a_failing_group_fails_each_of_its_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail_on_settle_06(task):
        if task.scenario.levels["grid"].settle == 0.6:
            raise ValueError("no")
        return real(task)

    real = sweep_mod._point_task
    monkeypatch.setattr(sweep_mod, "_point_task", fail_on_settle_06)
    with pytest.raises(sweep_mod.PointsFailed) as info:
        sweep(LADDER, GRID, REPS, SEED, horizon_days=HORIZON, out=tmp_path, points_per_task=2)
    # groups of two in grid order: (1, .5)+(1, .6), (1, .7)+(2, .5), (2, .6)+(2, .7)
    failed = sorted((p["roles.grid_staff.staff_per_unit"], p["levels.grid.settle"]) for p, _ in info.value.failures.values())
    assert failed == [(1, 0.5), (1, 0.6), (2, 0.6), (2, 0.7)]
    assert finished_points(tmp_path / "points") == 2


@pytest.mark.parametrize("ex", [SerialExecutor(), LocalExecutor(workers=2)], ids=["serial", "local"])
def test_results_handed_over_are_not_kept(ex) -> None:
    seen: dict[int, int] = {}
    out = ex.map(_square, list(range(6)), on_result=seen.__setitem__, keep_results=False)
    assert out.results == [None] * 6 and seen == {i: i * i for i in range(6)} and out.ok
    assert ex.map(_square, [3, 4]).results == [9, 16]


def _square(x: int) -> int:
    return x * x


def test_sweep_command_takes_points_per_task(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sim.cli import main

    args = ["sweep", str(LADDER), "--grid", "roles.grid_staff.staff_per_unit=1,2", "--reps", "2", "--seed", "4",
            "--horizon-days", "12", "--quiet", "--json"]
    assert main([*args, "--points-per-task", "2"]) == 0
    grouped = capsys.readouterr().out
    assert main(args) == 0 and capsys.readouterr().out == grouped
    with pytest.raises(SystemExit) as info:  # argparse's usage error
        main([*args, "--points-per-task", "0"])
    assert info.value.code == 2 and "--points-per-task: expected a number greater than 0" in capsys.readouterr().err


def test_points_per_task_by_default() -> None:
    from sim.experiments.executors import DaskExecutor
    from sim.experiments.sweep import auto_points_per_task

    assert auto_points_per_task(SerialExecutor(), 1000) == 1 and auto_points_per_task(LocalExecutor(2), 1000) == 1
    dask = DaskExecutor.__new__(DaskExecutor)  # no cluster needed: only its number of task slots is read
    dask.workers = 2
    # up to 8 points a task, keeping at least 8 tasks per worker slot
    assert [auto_points_per_task(dask, n) for n in (1000, 128, 127, 40, 15)] == [8, 8, 7, 2, 1]
