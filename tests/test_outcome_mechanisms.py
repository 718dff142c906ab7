"""Case difficulty, outcomes that depend on time and load, and re-opening, on tiny scenarios."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import tiny
from sim.engine import single_run
from sim.engine.arrivals import CaseSource
from sim.engine.model import Model
from sim.hierarchy import build_hierarchy
from sim.mechanisms.outcomes import LevelOutcome, OutcomeRule
from sim.scenario import ScenarioError, validate_data

SEED = 11
COLS = ["case_id", "arrival_day", "building", "severity", "category", "level", "outcome", "close_day", "days_to_close"]


def run(data, seed=SEED, **kw):
    return single_run(validate_data(data), seed, 0, **kw)


def cases(data, seed=SEED, **kw):
    rec = run(data, seed, record_cases=True, **kw)
    return rec, pd.DataFrame(rec.cases, columns=COLS)


def engine_metrics(rec) -> dict[str, float]:
    """The metrics every run reports (a mechanism's own metrics left out)."""
    return {k: v for k, v in rec.metrics.items() if not k.startswith(("reopen", "cases_reopened", "days_to_reopen"))}


def two_chances(p_building: float, p_community: float, **changes) -> dict:
    return tiny(levels__building__settle=p_building, levels__community__settle=p_community,
                horizon_days=200, **changes)


# --------------------------------------------------------------------------- switched off
def test_unused_mechanisms_add_no_draws_no_rules_and_no_hooks():
    sc = validate_data(tiny())
    model = Model(sc, SEED, 0)
    assert model.outcome_rules is None and model.reopen is None
    assert CaseSource(sc, build_hierarchy(sc), SEED, 0).difficulty is None


def test_difficulty_with_weight_zero_is_the_independent_model_bit_for_bit():
    base = two_chances(0.6, 0.5)
    zero = two_chances(0.6, 0.5, difficulty={"weight": 0.0, "by_category": {"neighbour": 1.0}})
    sc = validate_data(zero)
    assert CaseSource(sc, build_hierarchy(sc), SEED, 0).difficulty is None
    assert repr(run(zero).metrics) == repr(run(base).metrics)  # repr: NaN equals itself only as text


def test_reopening_with_chance_zero_and_neutral_outcome_rules_change_no_engine_metric():
    base = two_chances(0.6, 0.5)
    off = two_chances(0.6, 0.5, reopening={"chance": 0.0, "days": {"dist": "fixed", "value": 3}},
                      outcomes={"community": {"queue_threshold": 1000, "settle_drop_per_queued": 0.5}})
    rec = run(off)
    assert repr(engine_metrics(rec)) == repr(run(base).metrics)
    assert rec.metrics["reopened_share"] == 0.0 and rec.metrics["cases_reopened"] == 0.0


# --------------------------------------------------------------------------- difficulty
def test_full_weight_makes_a_case_that_failed_below_fail_at_an_equally_hard_level_above():
    # weight 1 at both levels: both uniforms are Phi(z), so a case failing at the building
    # (Phi(z) >= 0.5) fails at the community too (settle 0.5): no community settlements
    rec = run(two_chances(0.5, 0.5, difficulty={"weight": 1.0}))
    m = rec.metrics
    assert m["settled_share.community"] == 0.0
    assert m["settled_share.building"] + m["unresolved_share"] == pytest.approx(1.0)
    assert 0.4 < m["settled_share.building"] < 0.6


def test_weights_per_level_and_shifts_are_checked_with_their_key():
    with pytest.raises(ScenarioError) as err:
        validate_data(tiny(difficulty={"weight": {"cellar": 0.5}, "by_severity": {"huge": 1.0},
                                       "by_category": {"neighbour": 9.0}}))
    paths = {p.path for p in err.value.problems}
    assert {"difficulty.weight.cellar", "difficulty.by_severity.huge", "difficulty.by_category.neighbour"} <= paths


def test_a_harder_category_settles_less_at_the_first_level():
    easy = run(two_chances(0.6, 0.5, difficulty={"weight": 0.8})).metrics
    hard = run(two_chances(0.6, 0.5, difficulty={"weight": 0.8, "by_category": {"neighbour": 1.0}})).metrics
    assert hard["settled_share.building"] < easy["settled_share.building"] - 0.1


def _binomial_band(p: float, n: int, z: float = 4.5) -> tuple[float, float]:
    half = z * math.sqrt(p * (1 - p) / n)
    return p - half, p + half


def _settle_above_after_failure(p1: float, p2: float, w1: float, w2: float) -> float:
    """P(settle at level 2 | failed at level 1) under the copula: the levels' scores are
    standard normal with correlation w1 * w2 (worked out from the bivariate normal)."""
    from scipy.stats import multivariate_normal, norm

    a1, a2 = norm.ppf(p1), norm.ppf(p2)
    both = multivariate_normal(mean=[0, 0], cov=[[1, w1 * w2], [w1 * w2, 1]]).cdf([a1, a2])
    return (p2 - both) / (1 - p1)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(p1=st.floats(0.2, 0.8), p2=st.floats(0.3, 0.8), w=st.floats(0.5, 0.95), seed=st.integers(0, 10_000))
def test_difficulty_keeps_the_first_level_share_and_lowers_the_upper_level_share_after_failure(p1, p2, w, seed):
    data = two_chances(p1, p2, difficulty={"weight": w})
    data["arrivals"]["rate_per_household_year"] = 43.8  # about 12 cases a day, 2,400 in all
    _, df = cases(data, seed)
    closed = df[df.outcome != "open"]
    n = len(closed)
    at_building = (closed.level == "building").sum()
    low, high = _binomial_band(p1, n)
    assert low <= at_building / n <= high  # the marginal share at the first level is the stated one
    failed = closed[closed.level != "building"]
    k = len(failed)
    share = (failed.outcome == "settled").sum() / k
    expected = _settle_above_after_failure(p1, p2, w, w)
    assert expected < p2  # cases failing below are harder above
    low, high = _binomial_band(expected, k)
    assert low <= share <= high


# --------------------------------------------------------------------------- time and load
def test_outcome_rule_arithmetic_by_hand():
    rule = OutcomeRule(LevelOutcome(hardening_days=2.0, queue_threshold=3, settle_drop_per_queued=0.1,
                                    handling_cut_per_queued=0.2, handling_floor=0.5))
    assert rule.chance(0.8, 48.0, 0) == pytest.approx(0.8 * math.exp(-1.0))
    assert rule.chance(0.8, 0.0, 5) == pytest.approx(0.8 * 0.8)
    assert rule.chance(0.8, 0.0, 20) == 0.0
    assert rule.handling(10.0, 3) == 10.0
    assert rule.handling(10.0, 4) == pytest.approx(8.0)
    assert rule.handling(10.0, 9) == pytest.approx(5.0)  # the floor


def test_hardening_equals_the_fixed_share_it_implies_for_cases_of_one_age():
    # no waiting, fixed 2-hour handling: every case is 2 hours old at the building's decision,
    # so hardening over 1 day is settle 1.0 * exp(-1/12) with the same uniforms
    hard = run(two_chances(1.0, 1.0, outcomes={"building": {"hardening_days": 1.0}}))
    fixed = run(two_chances(math.exp(-2.0 / 24.0), 1.0))
    assert repr(hard.metrics) == repr(fixed.metrics)
    assert hard.metrics["settled_share.building"] < 0.97


def test_a_queue_lowers_the_settle_share_and_shortens_handling():
    data = two_chances(1.0, 1.0)
    data["roles"]["head"]["staff_per_unit"] = 1
    data["arrivals"]["rate_per_household_year"] = 70.0  # 0.8 cases an hour at two heads with 2-hour cases
    plain = run(data).metrics
    loaded = run({**data, "outcomes": {"building": {"settle_drop_per_queued": 0.2}}}).metrics
    rushed = run({**data, "outcomes": {"building": {"handling_cut_per_queued": 0.2}}}).metrics
    assert plain["settled_share.building"] == 1.0
    assert loaded["settled_share.building"] < 0.9
    assert rushed["wait_hours.building"] < plain["wait_hours.building"]
    assert rushed["settled_share.building"] == 1.0


def test_outcome_rules_name_levels():
    with pytest.raises(ScenarioError) as err:
        validate_data(tiny(outcomes={"cellar": {"hardening_days": 3}}))
    assert "outcomes.cellar" in {p.path for p in err.value.problems}


# --------------------------------------------------------------------------- re-opening
def test_every_settlement_reopens_once_and_returns_to_the_same_level():
    rec, df = cases(tiny(reopening={"chance": 1.0, "days": {"dist": "fixed", "value": 3}}))
    closed = df[df.outcome != "open"]
    assert len(closed) > 20 and (closed.level == "building").all()
    # 2 hours, 3 days until it re-opens, 2 hours again
    assert np.allclose(closed.days_to_close, (2 + 72 + 2) / 24)
    m = rec.metrics
    assert m["reopened_share"] == 1.0 and m["days_to_reopen.mean"] == pytest.approx(3.0)
    assert m["cases_arrived"] == run(tiny()).metrics["cases_arrived"]  # a re-opening is no new arrival
    assert m["cases_reopened"] >= m["cases_settled"]  # every case settled in the end had re-opened first


def test_a_reopened_case_returning_above_settles_there():
    rec, df = cases(tiny(reopening={"chance": {"building": 1.0, "community": 0.0}, "returns_to": "above",
                                    "days": {"dist": "fixed", "value": 1}}))
    closed = df[df.outcome != "open"]
    assert (closed.level == "community").all()
    assert np.allclose(closed.days_to_close, (2 + 24 + 5) / 24)
    assert rec.metrics["settled_share.community"] == 1.0
    assert rec.metrics["reopened_share"] == 1.0


def test_reopening_share_follows_its_chance_and_final_outcomes_add_up():
    data = two_chances(0.7, 0.6, reopening={"chance": 0.3, "days": {"dist": "exponential", "mean": 5}})
    data["arrivals"]["rate_per_household_year"] = 87.6
    m = run(data).metrics
    assert 0.25 < m["reopened_share"] < 0.35
    shares = m["settled_share.building"] + m["settled_share.community"] + m["unresolved_share"]
    assert shares == pytest.approx(1.0)


def test_a_reopened_case_shows_in_its_trace_and_the_description():
    from sim.mechanisms import describe

    data = tiny(reopening={"chance": 1.0, "days": {"dist": "fixed", "value": 3}},
                difficulty={"weight": 0.5}, outcomes={"community": {"hardening_days": 30}})
    rec = run(data, record_cases=True)
    visits = pd.DataFrame(rec.visits, columns=["case_id", "rep", "step", "where", "arrive_day", "start_day",
                                               "end_day", "off_duty_wait_hours", "outcome"])
    first = visits[visits.case_id == visits.case_id.min()].sort_values("step")
    assert list(first.outcome) == ["reopened", "settled"]
    assert first.arrive_day.iloc[1] - first.end_day.iloc[0] == pytest.approx(3.0)
    kinds = [row[0] for row in describe(validate_data(data))]
    assert kinds == ["difficulty", "outcomes", "reopening"]


def test_variants_validate_and_every_new_value_is_an_assumption_with_its_source():
    from conftest import SCENARIOS
    from sim.scenario import load_scenario

    files = sorted((SCENARIOS / "variants").glob("*.yaml"))
    assert len(files) >= 5
    for path in files:
        sc = load_scenario(path)
        new = [f"difficulty.{k}" for k in ("weight",) if sc.difficulty is not None]
        new += [f"outcomes.{lv}.{k}" for lv, o in sc.outcomes.items() for k in o.model_fields_set if k != "description"]
        new += [f"reopening.{k}" for k in ("chance", "days") if sc.reopening is not None]
        for key in new:
            note = sc.sources.get(key)
            assert note is not None and getattr(note, "assumption", None), (path.name, key)
