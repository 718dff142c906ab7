"""Prevention on tiny scenarios: a measure thins the arrivals of its categories over time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import tiny
from sim.engine import single_run
from sim.mechanisms.prevention import Prevention
from sim.scenario import validate_data
from sim.scenario.problems import ScenarioError

COLS = ["case_id", "arrival_day", "building", "severity", "category", "level", "outcome", "close_day", "days_to_close"]
KEY = ["arrival_day", "building", "severity", "category"]


def two_categories(**prevention):
    data = tiny(categories=["neighbour", "property"], arrivals__category_mix={"neighbour": 0.5, "property": 0.5},
                horizon_days=60)
    if prevention:
        data["prevention"] = prevention
    return data


def rows(data, seed=3):
    rec = single_run(validate_data(data), seed, 0, record_cases=True)
    return rec, pd.DataFrame(rec.cases, columns=COLS)


def test_full_effect_removes_the_category_and_keeps_every_other_case():
    _, plain = rows(two_categories())
    rec, cases = rows(two_categories(evaluation={"categories": ["property"], "effect": 1.0}))
    assert (cases.category == "neighbour").all()
    kept = plain[plain.category == "neighbour"][KEY].reset_index(drop=True)
    pd.testing.assert_frame_equal(cases[KEY].reset_index(drop=True), kept)
    m = rec.metrics
    assert m["cases_prevented.evaluation"] == (plain.category == "property").sum()
    assert m["prevented_share.evaluation"] == 1.0


def test_a_measure_acts_from_its_start_day():
    _, plain = rows(two_categories())
    rec, cases = rows(two_categories(evaluation={"categories": ["property"], "effect": 1.0, "start_day": 30}))
    expected = plain[(plain.category == "neighbour") | (plain.arrival_day < 30)][KEY].reset_index(drop=True)
    pd.testing.assert_frame_equal(cases[KEY].reset_index(drop=True), expected)
    assert rec.metrics["cases_prevented.evaluation"] == ((plain.category == "property") & (plain.arrival_day >= 30)).sum()


def test_ramp_is_linear_from_start_to_full_effect():
    pv = Prevention(categories=["x"], effect=0.4, start_day=10, ramp_days=20)
    assert np.allclose(pv.factor(np.array([0.0, 10.0, 20.0, 30.0, 100.0])), [0.0, 0.0, 0.2, 0.4, 0.4])
    step = Prevention(categories=["x"], effect=0.4, start_day=10)
    assert np.allclose(step.factor(np.array([9.9, 10.0])), [0.0, 0.4])


@pytest.mark.parametrize("prevention, message", [
    ({"evaluation": {"categories": ["noise"], "effect": 0.3}}, "prevention.evaluation.categories.0: 'noise'"),
    ({"evaluation": {"categories": ["property"], "effect": 0.3, "start_day": 90}}, "start_day: 90 is not before"),
    ({"evaluation": {"categories": ["property"], "effect": 1.3}}, "effect"),
])
def test_invalid_prevention_is_reported_with_its_path(prevention, message):
    with pytest.raises(ScenarioError, match=message):
        validate_data(two_categories(**prevention))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(effect=st.floats(0.0, 1.0), start=st.floats(0.0, 50.0), ramp=st.floats(0.0, 40.0), seed=st.integers(0, 10_000))
def test_kept_cases_are_a_subset_and_counts_add_up(effect, start, ramp, seed):
    _, plain = rows(two_categories(), seed)
    rec, cases = rows(two_categories(m={"categories": ["property"], "effect": effect, "start_day": start,
                                        "ramp_days": ramp}), seed)
    assert len(cases) + rec.metrics["cases_prevented.m"] == len(plain)
    merged = cases[KEY].merge(plain[KEY], how="left", indicator=True)
    assert (merged["_merge"] == "both").all()
    assert (cases[cases.arrival_day < start].category.values == plain[plain.arrival_day < start].category.values).all()
