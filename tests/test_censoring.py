"""Results that see cases still open at the end: targets, quantiles and a growing backlog."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from sim.engine.model import single_run
from sim.mechanisms.context import MetricSink
from sim.metrics import Metrics
from sim.scenario import load_scenario

FANGXING = Path(__file__).resolve().parent.parent / "scenarios" / "fangxing.yaml"


def _metrics() -> Metrics:
    return Metrics(["grid"], warmup=0.0, horizon=100 * 24.0, severities=("minor",), target_days=(5.0,))


def test_open_cases_past_their_target_count_as_missed():
    m = _metrics()
    m.arrive(0, 0.0, 0)
    m.record_settlement(0, 0, 2 * 24.0, True)  # settled in 2 days: met
    m.arrive(1, 24.0, 0)
    m.record_settlement(1, 0, 24.0 + 9 * 24.0, True)  # settled late
    m.arrive(2, 48.0, 0)  # still open at day 100: missed
    m.arrive(3, 97 * 24.0, 0)  # open, target not yet passed: not counted
    m.arrive(4, 10 * 24.0, 0)
    m.record_unresolved(4)  # unresolved: missed
    sink = MetricSink()
    m.report(sink, ["grid_worker"], [1.0], True, 1000, 100 * 24.0)
    v = sink.values
    assert v["within_target_share"] == pytest.approx(1 / 4)
    assert v["within_target_share.minor"] == pytest.approx(1 / 4)
    assert v["within_target_share_closed"] == pytest.approx(1 / 3)
    assert v["open_past_target"] == 1.0


def test_censored_quantile_is_above_the_closed_one_when_old_cases_stay_open():
    m = _metrics()
    for i in range(80):
        m.arrive(i, 0.0, 0)
        m.record_settlement(i, 0, 24.0, True)  # 1 day each
    for i in range(80, 100):
        m.arrive(i, 0.0, 0)  # open for 100 days
    assert m.quantile_days(0.9) == pytest.approx(1.0, rel=0.01)
    assert math.isnan(m.censored_quantile_days(0.9, 100 * 24.0))  # 80% settled: the p90 is not reached
    assert m.censored_quantile_days(0.5, 100 * 24.0) == pytest.approx(1.0, rel=0.01)


def test_without_open_cases_the_censored_quantile_is_the_closed_one():
    m = _metrics()
    for i in range(50):
        m.arrive(i, 0.0, 0)
        m.record_settlement(i, 0, (i + 1) * 3.0, True)
    assert m.censored_quantile_days(0.9, 1e6) == m.quantile_days(0.9)


@pytest.fixture(scope="module")
def overloaded():
    return single_run(load_scenario(FANGXING, {"arrivals.rate_per_household_year": 0.4}), 3, 0).metrics


def test_overload_shows_in_the_headline_metrics(overloaded):
    v = overloaded
    assert v["open_cases_end"] > 1000
    assert v["within_target_share"] < v["within_target_share_closed"] - 0.1
    assert v["days_to_settle.p90"] > 2 * v["days_to_settle_closed.p90"] or math.isnan(v["days_to_settle.p90"])
    assert v["open_past_target"] > 1000
    assert v["backlog_growing"] == 1.0


def test_the_usual_load_is_not_flagged():
    v = single_run(load_scenario(FANGXING), 3, 0).metrics
    assert v["backlog_growing"] == 0.0
    assert v["within_target_share"] == pytest.approx(v["within_target_share_closed"], abs=0.03)
