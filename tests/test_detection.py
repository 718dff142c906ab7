"""Detection on tiny scenarios: disputes exist before they are found, and may grow meanwhile."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import tiny
from sim.engine import single_run
from sim.scenario import validate_data
from sim.scenario.problems import ScenarioError

COLS = ["case_id", "arrival_day", "building", "severity", "category", "level", "outcome", "close_day", "days_to_close"]


def with_detection(grow_days=None, **channels):
    data = tiny(levels__building__handling={"micro": {"dist": "fixed", "value": 2.0},
                                            "default": {"dist": "fixed", "value": 4.0}})
    data["detection"] = {"channels": channels or {"residents": {"rate_per_day": 1.0}}}
    if grow_days is not None:
        data["detection"]["grows_after_days"] = {"dist": "fixed", "value": grow_days}
    return data


def run(data, seed=3):
    """The record and its case rows in the order the disputes arose (rows are kept in closing order)."""
    rec = single_run(validate_data(data), seed, 0, record_cases=True)
    return rec, pd.DataFrame(rec.cases, columns=COLS).sort_values("case_id").reset_index(drop=True)


def test_cases_enter_when_found_and_keep_their_draws_without_growth():
    base, plain = run(tiny(levels__building__handling={"micro": {"dist": "fixed", "value": 2.0},
                                                       "default": {"dist": "fixed", "value": 4.0}}))
    rec, cases = run(with_detection())
    # the same disputes (onset, building, severity) in the same order; found later
    n = min(len(plain), len(cases))
    assert n > 20
    pd.testing.assert_frame_equal(cases[["arrival_day", "building", "severity"]].iloc[:n],
                                  plain[["arrival_day", "building", "severity"]].iloc[:n])
    closed = cases[cases.outcome != "open"]
    undetected = closed.days_to_close - 2 / 24  # handling 2 h once found
    assert (undetected > 0).all()
    m = rec.metrics
    assert m["days_to_settle.mean"] == pytest.approx(2 / 24, abs=1e-12)  # counted from detection
    assert m["found_before_growth_share"] == 1.0
    assert m["detected_share.residents"] == 1.0
    assert abs(m["days_undetected.mean"] - 1.0) < 0.5  # exponential, mean 1 day, ~48 cases


def test_undetected_disputes_grow_and_get_the_handling_of_their_new_severity():
    rec, cases = run(with_detection(grow_days=1e-6))
    closed = cases[cases.outcome != "open"]
    assert (closed.severity == "major").all()  # three steps of a millionth of a day: all grew to the top
    m = rec.metrics
    assert m["found_before_growth_share"] == 0.0
    assert m["days_to_settle.mean"] == pytest.approx(4 / 24, abs=1e-12)  # handling of a major case


def test_channels_compete_and_coverage_limits_what_a_channel_sees():
    rec, _ = run(with_detection(residents={"rate_per_day": 0.1}, riders={"rate_per_day": 100.0, "coverage": 0.0}))
    assert rec.metrics["detected_share.riders"] == 0.0
    rec, _ = run(with_detection(residents={"rate_per_day": 0.001}, riders={"rate_per_day": 100.0, "coverage": 1.0}))
    m = rec.metrics
    assert m["detected_share.riders"] > 0.9
    assert m["days_undetected.mean"] < 0.1
    assert math.isclose(m["detected_share.riders"] + m["detected_share.residents"], 1.0)


@pytest.mark.parametrize("channels, message", [
    ({"riders": {"rate_per_day": 1.0, "coverage": 0.5}}, "no channel sees every dispute"),
    ({"riders": {"rate_per_day": 1.0, "categories": ["noise"]}, "residents": {"rate_per_day": 1.0}},
     "detection.channels.riders.categories.0: 'noise' is not a declared category"),
    ({"riders": {"rate_per_day": 0.0}}, "rate_per_day"),
])
def test_invalid_detection_is_reported_with_its_path(channels, message):
    with pytest.raises(ScenarioError, match=message):
        validate_data(with_detection(**channels))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rate=st.floats(0.05, 20.0), grow=st.floats(0.01, 50.0), seed=st.integers(0, 10_000))
def test_disputes_only_grow_and_days_undetected_are_positive(rate, grow, seed):
    data = with_detection(grow_days=grow, residents={"rate_per_day": rate})
    data["arrivals"]["severity_mix"] = {"micro": 0.5, "small": 0.5, "big": 0.0, "major": 0.0}
    data["horizon_days"] = 10
    plain = data.copy()
    del plain["detection"]
    _, before = run(plain, seed)
    rec, after = run(data, seed)
    order = {"micro": 0, "small": 1, "big": 2, "major": 3}
    n = min(len(before), len(after))
    assert (after.severity.iloc[:n].map(order).values >= before.severity.iloc[:n].map(order).values).all()
    m = rec.metrics
    if m["cases_arrived"]:
        assert m["days_undetected.mean"] > 0
        assert 0.0 <= m["found_before_growth_share"] <= 1.0
