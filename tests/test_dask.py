"""The Dask path: a sweep and replications on a LocalCluster equal the local run's exactly."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim import load_scenario, run
from sim.experiments.executors import DaskExecutor, make_executor
from sim.experiments.sweep import sweep

LADDER = Path(__file__).parent / "scenarios" / "ladder.yaml"
GRID = {"roles.grid_staff.staff_per_unit": [1, 2], "levels.grid.settle": [0.5, 0.7]}


@pytest.fixture(scope="module")
def cluster():
    from dask.distributed import LocalCluster

    c = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    yield c
    c.close()


def test_sweep_on_dask_equals_local_run(cluster, tmp_path: Path) -> None:
    local = sweep(LADDER, GRID, reps=2, seed=9, horizon_days=12, workers=1)
    remote = sweep(LADDER, GRID, reps=2, seed=9, horizon_days=12, out=tmp_path, scheduler=cluster.scheduler_address)
    pd.testing.assert_frame_equal(local, remote, check_exact=True)
    assert len(list((tmp_path / "points").glob("*.parquet"))) == 4


def test_replications_on_dask_equal_local(cluster) -> None:
    sc = load_scenario(LADDER)
    local = run(sc, 3, 2, horizon_days=12, workers=2)
    with make_executor("dask", scheduler=cluster.scheduler_address) as ex:
        assert isinstance(ex, DaskExecutor) and ex.workers == 2
        remote = run(sc, 3, 2, horizon_days=12, executor=ex)
        failed = ex.map(_fail_on_one, [0, 1, 2])
    pd.testing.assert_frame_equal(local.replications, remote.replications, check_exact=True)
    assert set(failed.failures) == {1} and "ValueError" in failed.failures[1].reason and failed.results[2] == 2


def _fail_on_one(i: int) -> int:
    if i == 1:
        raise ValueError("one")
    return i
