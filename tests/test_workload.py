"""Other duties per role and mediation in sittings: exact times on tiny scenarios and
closed forms (M/M/1 with a second Poisson class, FIFO and preemptive priority)."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import run_counting_events, tiny
from sim.engine import single_run
from sim.scenario import validate_data

SEED = 5


def run(data: dict[str, Any], **kw: Any):
    return single_run(validate_data(data), SEED, 0, **kw)


def closed(rec) -> list[tuple]:
    return [r for r in rec.cases if r[6] != "open"]


def with_duties(data: dict[str, Any], per_week: float, duration: dict, rule: str = "disputes_wait") -> dict[str, Any]:
    data["roles"]["head"]["other_duties"] = {"tasks_per_person_week": per_week, "duration": duration, "rule": rule}
    return data


# --------------------------------------------------------------------------- other duties
def test_interrupted_duties_leave_every_dispute_exactly_as_without_them():
    base = tiny(roles__head={"staff_per_unit": 1})
    busy = with_duties(tiny(roles__head={"staff_per_unit": 1}), 30.0, {"dist": "fixed", "value": 3.0}, "disputes_interrupt")
    a, b = run(base, record_cases=True), run(busy, record_cases=True)
    assert a.cases == b.cases  # pre-empted tasks never delay a dispute; dispute draws are common
    assert b.metrics["time_share.other_duties.head"] > 0.4
    assert b.metrics["utilisation.head"] > a.metrics["utilisation.head"]


def test_time_split_sums_to_one_and_other_duties_match_the_offered_hours():
    data = with_duties(tiny(roles__head={"staff_per_unit": 1}, horizon_days=400), 20.0, {"dist": "fixed", "value": 2.0})
    m = run(data).metrics
    for role in ("head", "mediator"):
        parts = [m[f"time_share.{p}.{role}"] for p in ("disputes", "other_duties", "idle")]
        assert sum(parts) == pytest.approx(1.0, abs=1e-12)
    assert m["time_share.other_duties.head"] == pytest.approx(40.0 / 168.0, rel=0.05)  # 20 tasks x 2 h a week
    assert m["time_share.other_duties.mediator"] == 0.0
    assert m["utilisation.head"] == pytest.approx(m["time_share.disputes.head"] + m["time_share.other_duties.head"])


def test_other_duties_follow_an_office_roster_only_on_duty():
    data = with_duties(tiny(roles__head={"staff_per_unit": 1, "roster": "office"}, horizon_days=200),
                       10.0, {"dist": "fixed", "value": 1.0})
    m = run(data).metrics
    # 10 one-hour tasks in a 40-hour week (tasks arrive only on duty; overtime is not on-duty time)
    assert m["time_share.other_duties.head"] == pytest.approx(10.0 / 40.0, rel=0.08)


def test_unused_sections_add_no_metrics():
    m = run(tiny()).metrics
    assert not any(k.startswith("time_share.") for k in m)


def mm1(rule: str, days: float = 3000) -> dict[str, float]:
    """One handler, exponential 2-hour disputes at 0.1 an hour, tasks at 0.15 an hour of 2 hours."""
    data = tiny(roles__head={"staff_per_unit": 1}, horizon_days=days, warmup_days=20)
    data["levels"]["building"]["units"] = 1
    data["levels"]["building"]["handling"] = {"default": {"dist": "exponential", "mean": 2.0}}
    return run(with_duties(data, 0.15 * 168, {"dist": "exponential", "mean": 2.0}, rule)).metrics


def test_two_poisson_classes_on_one_server_fifo_match_mm1():
    m = mm1("disputes_wait")
    rho, mu, lam = 0.5, 0.5, 0.25
    assert m["utilisation.head"] == pytest.approx(rho, rel=0.05)
    assert m["time_share.disputes.head"] == pytest.approx(0.2, rel=0.06)
    assert m["wait_hours.building"] == pytest.approx(rho / (mu - lam), rel=0.12)  # M/M/1 FIFO: 2 hours


def test_disputes_interrupting_duties_wait_as_the_high_priority_class():
    m = mm1("disputes_interrupt")
    rho_d, s = 0.2, 2.0
    # preemptive priority: the high class sees an M/M/1 of its own, W_q = rho s / (1 - rho) = 0.5 h
    assert m["wait_hours.building"] == pytest.approx(rho_d * s / (1 - rho_d), rel=0.12)
    assert m["utilisation.head"] == pytest.approx(0.5, rel=0.05)


def test_interrupt_needs_a_roster_whole_staff_on_or_off():
    from sim.scenario import ScenarioError

    data = with_duties(tiny(roles__head={"staff_per_unit": 2, "roster": {"shifts": [
        {"days": ["mon"], "start": 8, "end": 12}, {"days": ["mon"], "start": 12, "end": 16, "staff": 1}]}}),
        5.0, {"dist": "fixed", "value": 1.0}, "disputes_interrupt")
    with pytest.raises(ScenarioError, match="disputes_interrupt"):
        validate_data(data)


# --------------------------------------------------------------------------- sittings
def sittings(count: float, gap: float, **level: Any) -> dict[str, Any]:
    data = tiny()
    data["levels"]["building"]["sittings"] = {"count": {"dist": "fixed", "value": count},
                                              "gap_days": {"dist": "fixed", "value": gap}, **level}
    return data


def test_one_sitting_gives_todays_results():
    a, b = run(tiny(), record_cases=True), run(sittings(1, 3.0), record_cases=True)
    # repr: NaN (open cases, metrics a scenario cannot have) equals itself only as text
    assert repr(a.cases) == repr(b.cases) and repr(a.metrics) == repr(b.metrics)


def test_three_sittings_a_day_apart_take_two_days_and_three_handlings():
    rec = run(sittings(3, 1.0), record_cases=True)
    rows = closed(rec)
    assert len(rows) > 20
    for r in rows:  # 2 h + 1 d + 2 h + 1 d + 2 h, plenty of staff
        assert r[8] == pytest.approx((3 * 2.0 + 48.0) / 24.0, abs=1e-9)


def test_later_sittings_use_their_own_length():
    rec = run(sittings(2, 0.5, length={"default": {"dist": "fixed", "value": 4.0}}), record_cases=True)
    for r in closed(rec):
        assert r[8] == pytest.approx((2.0 + 12.0 + 4.0) / 24.0, abs=1e-9)


def test_days_between_sittings_count_toward_the_deadline():
    data = sittings(3, 1.0)
    data["levels"]["building"]["deadline_days"] = 1.5
    rec = run(data, record_cases=True)
    rows = closed(rec)
    assert rows and all(r[5] == "community" for r in rows)
    for r in rows:  # escalated at 1.5 days (in the second gap), then 5 hours at the community
        assert r[8] == pytest.approx(1.5 + 5.0 / 24.0, abs=1e-9)
    assert rec.metrics["escalated_deadline.building"] > 0


def test_a_sitting_waits_for_a_handler_of_the_same_unit():
    data = sittings(2, 0.0)  # the second sitting queues at once, behind cases already waiting
    data["roles"]["head"] = {"staff_per_unit": 1}
    data["arrivals"]["rate_per_household_year"] = 8.76 * 4
    rec = run(data, record_cases=True)
    waits = [r[8] * 24.0 - 4.0 for r in closed(rec)]
    assert min(waits) == pytest.approx(0.0, abs=1e-9) and max(waits) > 0.5


def _events(data: dict[str, Any]) -> tuple[Any, int]:
    from sim.engine.model import Model

    return run_counting_events(Model(validate_data(data), SEED, 0))


def test_one_sitting_costs_no_event_and_tasks_only_their_own():
    plain, n_plain = _events(tiny())
    one, n_one = _events(sittings(1, 2.0))
    assert repr(one.metrics) == repr(plain.metrics) and n_one == n_plain
    three, n_three = _events(sittings(3, 0.5))
    assert n_three > n_plain  # each further sitting is a gap and a handling: events of its own
