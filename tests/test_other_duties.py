"""Other duties: the task stream's rate by weekday and hour (exact rates, counts per weekday
and hour against their expectation), the factors' checks, and a stream without factors left
exactly as it was."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy import stats

from conftest import tiny
from sim.draws import Uniforms
from sim.engine import single_run
from sim.mechanisms.other_duties import arrival_plan, candidates, duty_weights
from sim.rosters import weekly_profile
from sim.scenario import ScenarioError, validate_data

SEED = 5
SHIFTS = {"shifts": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": 8.5, "end": 17.5},
                     {"days": ["sat", "sun"], "start": 9, "end": 17, "staff": 2}]}


def duties(per_week: float = 10.0, **extra: Any) -> dict[str, Any]:
    return {"tasks_per_person_week": per_week, "duration": {"dist": "fixed", "value": 1.0}, **extra}


def scenario(roster: Any, staff: int, **extra: Any):
    data = tiny(roles__head={"staff_per_unit": staff, "roster": roster, "other_duties": duties(**extra)})
    return validate_data(data)


def plan_of(roster: Any, staff: int, units: int, **extra: Any):
    sc = scenario(roster, staff, **extra)
    role = sc.roles["head"]
    return arrival_plan(role.other_duties, weekly_profile(role), staff, units)


# --------------------------------------------------------------------------- exact rates
def test_weekday_factors_share_the_weekly_tasks_by_on_duty_day():
    # office hours, 3 units of 2 people, 10 tasks a person a week: 60 tasks a week. Monday
    # counts 2 of the 6 on-duty weekday factors (2+1+1+1+1; the weekend is off duty): 20 tasks
    # in its 8 hours, 2.5 an hour; Tuesday 10 tasks, 1.25 an hour; nothing off duty.
    plan = plan_of("office", 2, 3, weekday_factors=[2, 1, 1, 1, 1, 0.5, 0.5])
    assert plan.rate(10.0) == pytest.approx(2.5, rel=1e-12)
    assert plan.rate(24.0 + 12.0) == pytest.approx(1.25, rel=1e-12)
    assert plan.rate(20.0) == 0.0 and plan.rate(5 * 24.0 + 10.0) == 0.0
    assert plan.on_time and plan.skip_off and plan.top == pytest.approx(2 / 1.2)


def test_hour_factors_under_a_changing_head_count():
    # 8 on duty 08:30-17:30 on weekdays, 2 on weekend days 09:00-17:00; 1 unit, 5 tasks a
    # person a week: 40 tasks. Hour factor 3 from 08:00 to 16:00, 0 otherwise (mean 1): the
    # on-duty staff-hours weighted by it are 5 x 8 x 7.5 x 3 + 2 x 2 x 7 x 3 = 984, so a weekday
    # hour at full strength gets 40 x 8 x 3 / 984 tasks, a weekend hour 40 x 2 x 3 / 984.
    hours = [0.0] * 8 + [3.0] * 8 + [0.0] * 8
    plan = plan_of(SHIFTS, 8, 1, per_week=5.0, hour_factors=hours)
    assert not plan.on_time
    assert plan.rate(10.0) == pytest.approx(40 * 8 * 3 / 984, rel=1e-12)
    assert plan.rate(5 * 24.0 + 10.0) == pytest.approx(40 * 2 * 3 / 984, rel=1e-12)
    assert plan.rate(8.25) == 0.0 and plan.rate(16.5) == 0.0  # before the shift; factor 0 after 16:00


def test_expected_tasks_a_week_stay_tasks_per_person_week():
    for roster, staff in (("always", 3), ("office", 2), (SHIFTS, 8)):
        plan = plan_of(roster, staff, 4, per_week=6.5, weekday_factors=[1.5, 1.5, 1, 1, 1, 0.5, 0.5],
                       hour_factors=[0.5] * 12 + [1.5] * 12)
        assert expected_per_hour(plan).sum() == pytest.approx(6.5 * staff * 4, rel=1e-12)


# --------------------------------------------------------------------------- counts
def expected_per_hour(plan) -> np.ndarray:
    """Expected tasks in each hour of the week: the rate integrated over the on-duty staff-hours."""
    weights = np.array(duty_weights(plan.profile))
    f = np.ones(168) if plan.factors is None else np.array(plan.factors)
    return f * weights / (plan.mean_gap * plan.top * plan.peak)


def counts_per_hour(plan, weeks: int, seed: int) -> np.ndarray:
    rngs = np.random.default_rng(seed).spawn(3)
    counts = np.zeros(168)
    for t, _, kept in candidates(plan, *(Uniforms(r) for r in rngs)):
        if t >= weeks * 168.0:
            return counts
        if kept:
            counts[int(t % 168.0)] += 1


@pytest.mark.parametrize("roster,staff", [("always", 2), ("office", 2), (SHIFTS, 8)])
def test_counts_by_weekday_and_hour_match_their_expectation(roster: Any, staff: int):
    weeks = 300
    plan = plan_of(roster, staff, 2, per_week=4.0, weekday_factors=[1.6, 1.2, 1, 1, 1, 0.7, 0.5],
                   hour_factors=[0.2] * 8 + [2.0] * 8 + [0.8] * 8)
    seen, expected = counts_per_hour(plan, weeks, 11), expected_per_hour(plan) * weeks
    assert not seen[expected == 0].any()  # nothing off duty
    for axis in (1, 0):  # per weekday, then per hour of the day
        o, e = seen.reshape(7, 24).sum(axis=axis), expected.reshape(7, 24).sum(axis=axis)
        keep = e > 0
        chi2 = float((((o - e) ** 2)[keep] / e[keep]).sum())
        assert chi2 < stats.chi2.ppf(0.999, keep.sum() - 1), (o, e)


# --------------------------------------------------------------------------- the engine
def run(data: dict[str, Any]):
    return single_run(validate_data(data), SEED, 0, record_cases=True)


@pytest.mark.parametrize("roster", ["always", "office"])
def test_factors_of_one_leave_the_run_exactly_as_without_them(roster: str):
    base = tiny(roles__head={"staff_per_unit": 1, "roster": roster}, horizon_days=60)
    base["roles"]["head"]["other_duties"] = duties(20.0, duration={"dist": "exponential", "mean": 2.0})
    flat = tiny(roles__head={"staff_per_unit": 1, "roster": roster}, horizon_days=60)
    flat["roles"]["head"]["other_duties"] = duties(20.0, duration={"dist": "exponential", "mean": 2.0},
                                                   weekday_factors=[1.0] * 7, hour_factors=[1.0] * 24)
    a, b = run(base), run(flat)
    assert repr(a.metrics) == repr(b.metrics) and repr(a.cases) == repr(b.cases)


def test_time_on_other_duties_keeps_the_weekly_count_with_factors():
    # 1 person always on duty, 14 one-hour tasks a week squeezed into Monday and Tuesday
    # afternoons: the share of time on tasks is 14 / 168 whatever the shape; the count of
    # tasks in 400 weeks is Poisson, so the share's sd is (14 / 168) / sqrt(14 x 400).
    data = tiny(roles__head={"staff_per_unit": 1}, horizon_days=2800, warmup_days=0)
    data["arrivals"]["rate_per_household_year"] = 0.01
    data["roles"]["head"]["other_duties"] = duties(14.0, weekday_factors=[3.5, 3.5, 0, 0, 0, 0, 0],
                                                   hour_factors=[0.0] * 12 + [2.0] * 12)
    m = single_run(validate_data(data), SEED, 0).metrics
    share, sd = 14 / 168, (14 / 168) / math.sqrt(14 * 400)
    assert abs(m["time_share.other_duties.head"] - share) < 4 * sd


def test_stability_estimate_is_the_weekly_average_whatever_the_shape():
    from sim.stability import estimate

    plain = scenario("office", 2)
    shaped = scenario("office", 2, weekday_factors=[3, 2, 1, 0.5, 0.5, 0, 0], hour_factors=[0.0] * 9 + [3.0] * 8 + [0.0] * 7)
    a, b = estimate(plain), estimate(shaped)
    assert [x.offered for x in a] == [x.offered for x in b]
    none = estimate(validate_data(tiny(roles__head={"staff_per_unit": 2, "roster": "office"})))
    # two units of 2 people, 10 one-hour tasks a person a week: 40 staff-hours over 168 hours
    assert b[0].offered_on_duty - none[0].offered_on_duty == pytest.approx(40 / 168, rel=1e-9)


# --------------------------------------------------------------------------- checks
@pytest.mark.parametrize("extra,message", [
    ({"weekday_factors": [1, 1, 1]}, "weekday_factors"),
    ({"hour_factors": [2.0] * 24}, "must average 1"),
    ({"weekday_factors": [1, 1, 1, 1, 1, 1, -1]}, "weekday_factors"),
    ({"weekday_factors": [0, 0, 0, 0, 0, 3.5, 3.5]}, "no task could arrive"),  # office hours: weekdays only
])
def test_bad_factors_are_reported_with_their_key(extra: dict[str, Any], message: str):
    with pytest.raises(ScenarioError, match=message) as err:
        scenario("office", 2, **extra)
    assert "roles.head.other_duties" in str(err.value)


# --------------------------------------------------------------------------- priority by severity
def blocked(rule: str, **extra: Any) -> dict[str, Any]:
    """One handler, buried under tasks that each take 10,000 hours (the first arrives within an
    hour or so, the rest queue behind it); micro and big disputes of 2 hours."""
    data = tiny(roles__head={"staff_per_unit": 1})
    data["levels"]["building"]["units"] = 1
    data["arrivals"]["severity_mix"] = {"micro": 0.5, "small": 0.0, "big": 0.5, "major": 0.0}
    data["roles"]["head"]["other_duties"] = duties(300.0, duration={"dist": "fixed", "value": 10000.0}, rule=rule, **extra)
    return data


def test_by_severity_big_disputes_interrupt_tasks_and_micro_ones_wait_behind_them():
    rec = run(blocked("by_severity", interrupt_severities=["big"]))
    rows = rec.cases
    first_task = 3.0 / 24.0  # every dispute after 3 hours meets a task in hand and a queue of tasks
    late = [r for r in rows if r[1] > first_task]
    bigs = sorted((r for r in rows if r[3] == "big"), key=lambda r: r[1])
    assert any(r[3] == "micro" for r in late) and len(bigs) > 10
    assert all(r[6] == "open" for r in late if r[3] == "micro")  # behind the queue of tasks, first come first served
    end = 0.0  # the big disputes pre-empt the task and queue only behind each other: 2 hours each
    for r in bigs:
        end = max(r[1] * 24.0, end) + 2.0
        assert r[6] == "settled" and r[7] * 24.0 == pytest.approx(end, abs=1e-9)


def test_by_severity_listing_every_severity_is_disputes_interrupt():
    a = run(blocked("disputes_interrupt"))
    b = run(blocked("by_severity", interrupt_severities=["micro", "small", "big", "major"]))
    assert repr(a.metrics) == repr(b.metrics) and repr(a.cases) == repr(b.cases)


def test_by_severity_needs_known_severities_and_an_on_off_roster():
    with pytest.raises(ScenarioError, match="interrupt_severities: unknown severity 'huge'"):
        validate_data(blocked("by_severity", interrupt_severities=["huge"]))
    with pytest.raises(ScenarioError, match="interrupt_severities: rule by_severity needs"):
        validate_data(blocked("by_severity"))
    with pytest.raises(ScenarioError, match="only used with rule by_severity"):
        validate_data(blocked("disputes_wait", interrupt_severities=["big"]))
    data = blocked("by_severity", interrupt_severities=["big"])
    data["roles"]["head"]["roster"] = SHIFTS
    with pytest.raises(ScenarioError, match="rule: by_severity needs a roster"):
        validate_data(data)
