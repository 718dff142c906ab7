"""Experiment layer: worker-count invariance, paired differences, killed-worker retries, output analysis."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim import load_scenario, run
from sim.cli import main
from sim.engine.model import ReplicationRecord
from sim.experiments import sweep as sweep_mod
from sim.experiments.compare import CompareResult
from sim.experiments.executors import LocalExecutor, SerialExecutor
from sim.experiments.output_analysis import mser, replications_needed
from sim.experiments.replicate import RunResult
from sim.experiments.stats import paired_difference
from sim.experiments.sweep import PointsFailed, sweep

LADDER = Path(__file__).parent / "scenarios" / "ladder.yaml"
GRID = {"roles.grid_staff.staff_per_unit": [1, 2, 3]}


# --------------------------------------------------------------------------- invariance
def test_replications_identical_for_one_and_two_workers() -> None:
    sc = load_scenario(LADDER)
    one = run(sc, 4, 11, horizon_days=15, workers=1)
    two = run(sc, 4, 11, horizon_days=15, workers=2)
    pd.testing.assert_frame_equal(one.replications, two.replications, check_exact=True)
    pd.testing.assert_frame_equal(one.summary, two.summary, check_exact=True)
    assert one.replications["cases_arrived"].nunique() > 1  # replications really differ from each other


def test_sweep_identical_for_one_and_two_workers() -> None:
    one = sweep(LADDER, GRID, reps=3, seed=5, horizon_days=13, workers=1)
    two = sweep(LADDER, GRID, reps=3, seed=5, horizon_days=13, workers=2)
    pd.testing.assert_frame_equal(one, two, check_exact=True)
    assert list(one.columns) == ["roles.grid_staff.staff_per_unit", "metric", "mean", "ci_low", "ci_high", "n"]
    assert len(one) == 3 * one["metric"].nunique()
    waits = one[one["metric"] == "wait_hours.grid"].set_index("roles.grid_staff.staff_per_unit")["mean"]
    assert waits[1] > waits[3]  # the override reached the model


# --------------------------------------------------------------------------- paired differences
def _fake_run(name: str, values: list[float]) -> RunResult:
    sc = load_scenario(LADDER).model_copy(update={"name": name})
    recs = [ReplicationRecord(rep=i, seed=1, metrics={"x": v}, backlog=[]) for i, v in enumerate(values)]
    return RunResult(sc, 1, 10.0, recs)


def test_paired_difference_by_hand() -> None:
    a, b = [1.0, 2.0, 3.0, 4.0], [1.0, 3.0, 5.0, 7.0]  # differences 0, 1, 2, 3: no skew, so the t interval
    mean = 1.5
    sd = math.sqrt(((0 - mean) ** 2 + (1 - mean) ** 2 + (2 - mean) ** 2 + (3 - mean) ** 2) / 3)
    half = stats.t.ppf(0.975, 3) * sd / 2
    got = paired_difference(np.array(a), np.array(b))
    assert got[0] == pytest.approx(mean) and got[3] == 4
    assert got[1] == pytest.approx(mean - half) and got[2] == pytest.approx(mean + half)


def test_skewed_differences_get_hall_s_interval_by_hand() -> None:
    d = np.array([0.0, 0.0, 0.0, 4.0])  # mean 1, sd 2, third central moment mean((d-1)^3) = (3 * -1 + 27) / 4 = 6
    gamma = 6.0 / 2.0**3  # skewness 0.75
    a_, b_ = gamma / (3 * 2.0), gamma / (6 * 2.0)  # sqrt(n) = 2
    t = stats.t.ppf(0.975, 3)
    inv = lambda v: (np.cbrt(1 + 3 * a_ * (v - b_)) - 1) / a_  # noqa: E731  Hall's g inverted (real cube root)
    se = 2.0 / 2.0
    got = paired_difference(np.zeros(4), d)
    assert got[1] == pytest.approx(1.0 - se * inv(t)) and got[2] == pytest.approx(1.0 - se * inv(-t))
    assert got[2] - 1.0 > 1.0 - got[1]  # right skew: the interval reaches further above the mean


def test_compare_table_has_paired_differences() -> None:
    a, b = [1.0, 2.0, 3.0, 4.0], [1.0, 3.0, 5.0, 7.0]
    mean = 1.5
    half = stats.t.ppf(0.975, 3) * math.sqrt(5 / 3) / 2
    table = CompareResult([_fake_run("A", a), _fake_run("B", b), _fake_run("C", [v + 10 for v in a])]).table()
    row_b = table[table["scenario"] == "B"].iloc[0]
    assert row_b["diff"] == pytest.approx(mean) and row_b["diff_ci_low"] == pytest.approx(mean - half)
    assert not row_b["significant"]  # the interval (-0.55, 3.55) contains zero
    row_c = table[table["scenario"] == "C"].iloc[0]
    assert row_c["diff"] == pytest.approx(10) and row_c["diff_ci_low"] == pytest.approx(10)  # zero variance
    assert bool(row_c["significant"])


# --------------------------------------------------------------------------- killed workers
def _square_or_die_once(arg: tuple[int, str]) -> int:
    """Task 1 kills its own worker process on its first attempt only (a marker file remembers)."""
    i, marker = arg
    if i == 1 and not os.path.exists(marker):
        Path(marker).touch()
        os._exit(17)
    return i * i


def _square_or_always_die(arg: tuple[int, str]) -> int:
    i, _ = arg
    if i == 2:
        os._exit(17)
    return i * i


def _raise_for_three(i: int) -> int:
    if i == 3:
        raise ValueError("three is bad")
    return i


def test_killed_worker_is_retried(tmp_path: Path) -> None:
    marker = str(tmp_path / "died")
    out = LocalExecutor(workers=2, retries=2).map(_square_or_die_once, [(i, marker) for i in range(5)])
    assert os.path.exists(marker)  # the worker really died once
    assert out.ok and out.results == [0, 1, 4, 9, 16]


def test_always_dying_task_is_reported_and_others_finish(tmp_path: Path) -> None:
    seen: list[int] = []
    out = LocalExecutor(workers=2, retries=1).map(_square_or_always_die, [(i, "") for i in range(5)],
                                                  on_result=lambda i, v: seen.append(i))
    assert set(out.failures) == {2}
    assert "died" in out.failures[2].reason and out.failures[2].attempts >= 2
    assert out.results == [0, 1, None, 9, 16] and sorted(seen) == [0, 1, 3, 4]


def test_task_exception_is_reported_not_retried() -> None:
    for ex in (SerialExecutor(), LocalExecutor(workers=2)):
        out = ex.map(_raise_for_three, list(range(5)))
        assert set(out.failures) == {3} and "three is bad" in out.failures[3].reason
        assert out.failures[3].attempts == 1 and out.results[4] == 4


def _dying_point_task(task):
    """Stands in for sweep._point_task: the point with 3 grid staff always kills its worker."""
    if task.scenario.roles["grid_staff"].staff_per_unit == 3:
        os._exit(9)
    return _REAL_POINT_TASK(task)


_REAL_POINT_TASK = sweep_mod._point_task


def test_sweep_reports_failed_point_and_keeps_the_others(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sweep_mod, "_point_task", _dying_point_task)
    with pytest.raises(PointsFailed) as info:
        sweep(LADDER, GRID, reps=2, seed=3, horizon_days=12, out=tmp_path, workers=2, retries=1)
    assert [p for p, _ in info.value.failures.values()] == [{"roles.grid_staff.staff_per_unit": 3}]
    assert "died" in str(info.value)
    assert len(list((tmp_path / "points").glob("*.parquet"))) == 2  # both finished points were written
    report = json.loads((tmp_path / "failures.json").read_text())
    assert report[0]["point"] == {"roles.grid_staff.staff_per_unit": 3}
    assert not (tmp_path / "sweep.csv").exists()
    monkeypatch.setattr(sweep_mod, "_point_task", _REAL_POINT_TASK)
    table = sweep(LADDER, GRID, reps=2, seed=3, horizon_days=12, out=tmp_path, workers=1)
    assert sorted(table["roles.grid_staff.staff_per_unit"].unique()) == [1, 2, 3]
    assert not (tmp_path / "failures.json").exists()


# --------------------------------------------------------------------------- output analysis
def test_mser5_finds_the_transient() -> None:
    rng = np.random.default_rng(2024)
    t = np.arange(500)
    noise = rng.normal(0.0, 1.0, t.size)
    transient = mser(20.0 * np.exp(-t / 10.0) + noise)
    # the bias 20 exp(-t/10) falls below the noise sd at t = 30 and below 0.1 sd at t = 53
    assert 15 <= transient <= 100 and transient % 5 == 0
    assert mser(noise) < 15  # a stationary series needs (almost) no truncation


def test_replications_algorithm_matches_the_normal_approximation() -> None:
    mu, sigma, precision = 10.0, 2.0, 0.05

    def draws(reps: list[int]) -> list[dict[str, float]]:
        return [{"x": float(np.random.default_rng([7, r]).normal(mu, sigma))} for r in reps]

    res = replications_needed(draws, "x", precision, batch=4, budget=300)
    n_approx = (stats.norm.ppf(0.975) * sigma / (precision * mu)) ** 2  # about 61
    assert res.replications is not None and 0.6 * n_approx <= res.replications <= 1.5 * n_approx
    again = replications_needed(draws, "x", precision, batch=1, budget=300)
    assert again.replications == res.replications  # batching does not change the answer


def test_warmup_and_reps_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["warmup", str(LADDER), "--reps", "2", "--horizon-days", "40", "--json", "--quiet"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert 0 <= doc["suggested_warmup_days"] <= 20 and len(doc["per_replication_days"]) == 2
    code = main(["reps", str(LADDER), "--metric", "cases_arrived", "--precision", "0.2", "--horizon-days", "12",
                 "--max-reps", "40", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["replications"] is not None and doc["relative_half_width"] <= 0.2
