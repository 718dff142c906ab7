"""Mediation in sittings: continuity of the same person (exact times on a hand-made stream of
cases, equality with the same unit when each unit has one handler, the checks) and a
statistical test against a closed form (one handler, exponential sittings)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy import stats

from conftest import tiny
from sim.engine import single_run
from sim.engine.arrivals import CaseBlock
from sim.scenario import ScenarioError, validate_data

SEED = 5


def run(data: dict[str, Any], rep: int = 0, **kw: Any):
    return single_run(validate_data(data), SEED, rep, **kw)


def with_sittings(data: dict[str, Any], continuity: str, count: Any, gap: Any, **more: Any) -> dict[str, Any]:
    data["levels"]["building"]["sittings"] = {"count": count, "gap_days": gap, "continuity": continuity, **more}
    return data


def fixed(value: float) -> dict[str, Any]:
    return {"dist": "fixed", "value": value}


# --------------------------------------------------------------------------- exact times
class Given:
    """Stands in for the arrivals: cases at given hours at building 0, 2-hour handling, all settle."""

    times: list[float] = []

    def __init__(self, *_: Any):
        pass

    def blocks(self, horizon: float):
        n = len(self.times)
        yield CaseBlock(list(self.times), [0] * n, [0] * n, [0] * n, [[2.0, 5.0]] * n, [[0.0, 0.0]] * n, [[0.0, 0.0]] * n)


def close_hours(monkeypatch, continuity: str, times: list[float]) -> dict[float, float]:
    """{arrival hour: closing hour} of two sittings 6 hours apart, one building of two heads."""
    monkeypatch.setattr("sim.engine.model.CaseSource", type("G", (Given,), {"times": times}))
    data = with_sittings(tiny(roles__head={"staff_per_unit": 2}, horizon_days=3), continuity, fixed(2), fixed(0.25))
    data["levels"]["building"]["units"] = 1
    rec = run(data, record_cases=True)
    return {round(r[1] * 24.0, 9): round(r[7] * 24.0, 9) for r in rec.cases}


def test_later_sittings_wait_for_their_own_member(monkeypatch):
    # A at 0 takes member 0 (both free since 0: the first), sits 0-2, comes back at 8 for member 0.
    # B at 1 takes member 1, sits 1-3, comes back at 9 for member 1.
    # C at 7 takes member 0 (free since 2, member 1 only since 3), sits 7-9, comes back at 15.
    times = [0.0, 1.0, 7.0]
    person = close_hours(monkeypatch, "person", times)
    # person: A waits from 8 for member 0, busy with C until 9, while member 1 is idle: 9-11.
    # B at 9 finds member 1 free: 9-11. C at 15: member 0 is free: 15-17.
    assert person == {0.0: 11.0, 1.0: 11.0, 7.0: 17.0}
    unit = close_hours(monkeypatch, "unit", times)
    # unit: A at 8 takes the idle head: 8-10. B at 9 finds both busy (A, C; B's return at 9 comes
    # before C's end at 9 in the event order) and takes the head C frees at 9: 9-11. C: 15-17.
    assert unit == {0.0: 10.0, 1.0: 11.0, 7.0: 17.0}


def test_a_freed_member_serves_the_first_request_it_can(monkeypatch):
    # A 0-2 (member 0, free again since 2), back at 8 for member 0. B at 6.5 takes member 1
    # (free since 0), 6.5-8.5, back at 14.5. C at 7 takes member 0, 7-9, back at 15.
    # At 8 A queues for member 0; D at 8.2 queues behind it. At 8.5 member 1 is freed: A is first
    # in the queue but waits for member 0, so D (any member) gets member 1: 8.5-10.5, back at 16.5.
    # At 9 member 0 is freed: A 9-11. B 14.5-16.5 and C 15-17 find their members free.
    # D comes back at 16.5 (its gap began before B's sitting, so it queues first) and gets
    # member 1 when B ends at 16.5: 16.5-18.5.
    person = close_hours(monkeypatch, "person", [0.0, 6.5, 7.0, 8.2])
    assert person == {0.0: 11.0, 6.5: 16.5, 7.0: 17.0, 8.2: 18.5}


def test_one_handler_per_unit_person_is_unit_bit_for_bit():
    def data(continuity: str, staff: int) -> dict[str, Any]:
        d = tiny(roles__head={"staff_per_unit": staff, "roster": "office"}, horizon_days=60)
        d["arrivals"]["rate_per_household_year"] = 8.76 * 1.5
        d["roles"]["head"]["other_duties"] = {"tasks_per_person_week": 6.0, "duration": {"dist": "exponential", "mean": 2.0}}
        d["levels"]["building"]["deadline_days"] = 6
        return with_sittings(d, continuity, {"dist": "empirical", "values": [1, 2, 2, 3]},
                             {"dist": "lognormal", "mean": 1.0, "sd": 0.8})

    a, b = run(data("unit", 1), record_cases=True), run(data("person", 1), record_cases=True)
    assert repr(a.cases) == repr(b.cases) and repr(a.metrics) == repr(b.metrics)  # repr: NaN equals itself as text
    c, d = run(data("unit", 2), record_cases=True), run(data("person", 2), record_cases=True)
    assert repr(c.cases) != repr(d.cases)  # with two heads, continuity matters
    assert d.metrics["days_to_settle.mean"] > c.metrics["days_to_settle.mean"]


@pytest.mark.parametrize("change, message", [
    ({"roster": {"shifts": [{"days": ["mon"], "start": 8, "end": 12},
                            {"days": ["mon"], "start": 12, "end": 16, "staff": 1}]}}, "whole staff is on or off"),
    ({"other_duties": {"tasks_per_person_week": 5, "duration": fixed(1.0), "rule": "disputes_interrupt"}}, "interrupt"),
    ({"other_duties": {"tasks_per_person_week": 5, "duration": fixed(1.0), "rule": "by_severity",
                       "interrupt_severities": ["big"]}}, "by_severity"),
])
def test_person_continuity_needs_plain_staff(change, message):
    data = with_sittings(tiny(roles__head={"staff_per_unit": 2, **change}), "person", fixed(2), fixed(1))
    with pytest.raises(ScenarioError, match=message):
        validate_data(data)


def test_person_continuity_refuses_volunteers():
    data = with_sittings(tiny(), "person", fixed(2), fixed(1))
    data["roles"]["helper"] = {"staff_per_unit": 1}
    data["levels"]["building"]["volunteers"] = ["helper"]
    with pytest.raises(ScenarioError, match="volunteers"):
        validate_data(data)


# --------------------------------------------------------------------------- closed form
REPS, DAYS, WARMUP = 6, 800.0, 20.0
LAM, S, N = 0.2, 1.0, 3  # cases an hour, hours a sitting (exponential), sittings a case


def test_sittings_on_one_handler_match_the_closed_form():
    """N exponential sittings (mean s) with no days between, one handler, Poisson arrivals: each
    later sitting queues at the back of the line at once. Every sitting takes the same
    exponential time whatever the case's sitting number, so this is a single-node Kelly network
    (customer types with fixed routes, first-come-first-served, class-free exponential service):
    the number of cases present is geometric, as in an M/M/1 with rho = lambda N s. Hence
    (Little) the mean time to settle W = N s / (1 - rho), and a new case waits for one sitting of
    every case present (PASTA): W_first = s rho / (1 - rho); utilisation is rho.
    Each estimate must lie within its 99% interval over replications (Bonferroni over the three),
    and the 95% interval must be narrow (under 10% of the closed form), so that a real
    difference of that size is caught. Ignoring the sitting count would give W = 1.25 hours, not 7.5."""
    data = tiny(roles__head={"staff_per_unit": 1}, horizon_days=DAYS, warmup_days=WARMUP)
    data["levels"]["building"]["units"] = 1
    data["levels"]["building"]["handling"] = {"default": {"dist": "exponential", "mean": S}}
    data["arrivals"]["rate_per_household_year"] = LAM * 8760.0 / data["households"]
    with_sittings(data, "person", fixed(N), fixed(0.0))
    rho = LAM * N * S
    expect = np.array([N * S / (1 - rho), S * rho / (1 - rho), rho])
    got = np.array([[m["days_to_settle.mean"] * 24.0, m["wait_hours.building"], m["utilisation.head"]]
                    for m in (run(data, rep=r).metrics for r in range(REPS))])
    mean, se = got.mean(axis=0), got.std(axis=0, ddof=1) / np.sqrt(REPS)
    assert np.all(np.abs(mean - expect) <= stats.t.ppf(1 - 0.01 / 6, REPS - 1) * se), (mean, se, expect)
    assert np.all(stats.t.ppf(0.975, REPS - 1) * se < 0.10 * expect), (se, expect)
