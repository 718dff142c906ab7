"""Meetings, pools, partners, channels, volunteers and closed-loop rules on hand-checkable scenarios.

Every scenario here is the two-level ``tiny`` scenario of conftest (building -> community,
fixed handling times, 0.1 cases an hour) with one mechanism added, so what the mechanism
must do can be checked case by case from the case table or exactly against an equivalent
scenario run with the same seed (common random numbers).
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import pytest

from conftest import tiny
from sim.engine import single_run
from sim.mechanisms.meetings import HOURS_PER_MONTH, Schedule, sitting_clock
from sim.rosters import WeeklyProfile, add_profiles
from sim.scenario import ScenarioError, validate_data

SEED = 11
WED_10 = 2 * 24 + 10.0  # Wednesday 10:00 in hours from Monday 00:00


def run(data: dict[str, Any], **kw: Any):
    return single_run(validate_data(data), SEED, 0, **kw)


def rows_at(record, where: str) -> list[tuple]:
    """Case rows (case_id, arrival_day, building, severity, category, level, outcome, close_day, days)."""
    return [r for r in record.cases if r[5] == where]


def meeting_data(capacity: int = 3, overflow: str = "carry", duration: float = 2.0) -> dict[str, Any]:
    d = tiny(horizon_days=35)
    d["levels"]["building"]["settle"] = 0.0  # every case fails at the building...
    d["meetings"] = {"weekly": {  # ...and is referred to the Wednesday meeting
        "level": "building", "schedule": {"every": "week", "weekday": "wed", "hour": 10},
        "capacity": capacity, "settle": 1.0, "duration_hours": duration, "overflow": overflow}}
    return d


# --------------------------------------------------------------------------- meetings
def test_meeting_settles_only_at_its_sittings_and_at_most_capacity_each():
    rec = run(meeting_data(), record_cases=True)
    settled = rows_at(rec, "meeting.weekly")
    per_sitting = Counter(round(r[7] * 24.0, 6) for r in settled)
    # every settlement is at the end of a Wednesday 10:00 sitting (2 hours long)
    for hour in per_sitting:
        assert (hour - (WED_10 + 2.0)) % 168.0 == pytest.approx(0.0, abs=1e-6)
    # 35 days from Monday: sittings on days 2, 9, 16, 23, 30; ~17 referrals a week > capacity 3
    assert len(per_sitting) == 5
    assert all(n == 3 for n in per_sitting.values())
    m = rec.metrics
    assert m["sittings.meeting.weekly"] == 5 and m["most_per_sitting.meeting.weekly"] == 3
    # conservation: the carried-over backlog is still open, nothing was dropped
    assert m["cases_arrived"] == m["cases_settled"] + m["cases_unresolved"] + m["open_cases_end"]
    assert m["waiting_end.meeting.weekly"] == m["referred.meeting.weekly"] - 15


def test_meeting_overflow_escalates_at_the_sitting():
    rec = run(meeting_data(overflow="escalate"), record_cases=True)
    up = rows_at(rec, "community")
    assert up, "cases beyond capacity should have gone up to the community"
    # community handling is 5 hours with ample staff: they close 5 hours after a sitting starts
    for r in up:
        assert (r[7] * 24.0 - (WED_10 + 5.0)) % 168.0 == pytest.approx(0.0, abs=1e-6)
    assert rec.metrics["waiting_end.meeting.weekly"] <= rec.metrics["referred.meeting.weekly"]


def test_meeting_shares_sum_to_one_with_levels_and_unresolved():
    d = meeting_data(capacity=50)
    d["meetings"]["weekly"]["settle"] = 0.5
    d["levels"]["community"]["settle"] = 0.5
    m = run(d).metrics
    shares = m["settled_share.building"] + m["settled_share.community"] + m["settled_share.meeting.weekly"] + m["unresolved_share"]
    assert shares == pytest.approx(1.0)
    assert 0 < m["settled_share.meeting.weekly"] < 1


def test_quarterly_and_monthly_schedules():
    first, period = sitting_clock(Schedule(every="quarter", day=3, hour=9))
    assert first == 2 * 24 + 9 and period == pytest.approx(3 * HOURS_PER_MONTH)
    d = meeting_data(capacity=1000)
    d["horizon_days"] = 200
    d["meetings"]["weekly"]["schedule"] = {"every": "quarter", "day": 1, "hour": 10}
    # sittings at 0.4, 91.7 and 182.9 days: three in 200 days
    assert run(d).metrics["sittings.meeting.weekly"] == 3


def test_meeting_schema_errors_name_the_key():
    d = meeting_data()
    d["meetings"]["weekly"]["level"] = "tower"
    d["meetings"]["weekly"]["severities"] = ["huge"]
    with pytest.raises(ScenarioError) as err:
        validate_data(d)
    paths = {p.path for p in err.value.problems}
    assert {"meetings.weekly.level", "meetings.weekly.severities.0"} <= paths


# --------------------------------------------------------------------------- pools and partners
def pool_data(staff: dict[str, int], mediator_availability: float = 1.0) -> dict[str, Any]:
    d = tiny(horizon_days=30)
    d["arrivals"]["rate_per_household_year"] = 17.52  # 0.2 an hour against 10-hour cases: a queue
    d["roles"]["mediator"]["availability"] = mediator_availability
    d["pools"] = {"centre": {"level": "building", "mode": "instead", "staff": staff,
                             "handling": {"default": {"dist": "fixed", "value": 10.0}}, "settle": 1.0}}
    return d


def most_in_service(rows: list[tuple], hours: float) -> int:
    """Most cases in service at once, from close times of fixed-length services."""
    events = sorted([(round(r[7] * 24 - hours, 6), 1) for r in rows] + [(round(r[7] * 24, 6), -1) for r in rows])
    busy = best = 0
    for _, step in events:
        busy += step
        best = max(best, busy)
    return best


def test_pool_staff_from_two_roles_serve_one_queue():
    rec = run(pool_data({"head": 1, "mediator": 1}), record_cases=True)
    rows = rows_at(rec, "pool.centre")
    assert rows and not rows_at(rec, "building")  # every case went to the centre instead
    assert most_in_service(rows, 10.0) == 2  # both members work, never more than both
    assert rec.metrics["wait_hours.pool.centre"] > 0
    # one shared queue of two: exactly a partner with two staff (fixed times: no other randomness)
    partner = pool_data({"head": 1})
    partner["partners"] = {"centre": {**partner.pop("pools")["centre"], "staff": 2}}
    other = run(partner).metrics
    assert other["wait_hours.partner.centre"] == pytest.approx(rec.metrics["wait_hours.pool.centre"])
    assert other["settled_share.partner.centre"] == pytest.approx(rec.metrics["settled_share.pool.centre"])


def test_pool_member_availability_counts():
    rec = run(pool_data({"head": 1, "mediator": 1}, mediator_availability=0.0), record_cases=True)
    assert most_in_service(rows_at(rec, "pool.centre"), 10.0) == 1


def test_partner_after_failure_takes_only_its_categories():
    d = tiny(horizon_days=30)
    d["categories"] = ["neighbour", "property"]
    d["arrivals"]["category_mix"] = {"neighbour": 0.5, "property": 0.5}
    d["levels"]["building"]["settle"] = 0.0
    d["partners"] = {"firm": {"level": "building", "mode": "after", "categories": ["property"], "staff": 5,
                              "handling": {"default": {"dist": "fixed", "value": 1.0}}, "settle": 1.0}}
    rec = run(d, record_cases=True)
    assert {r[4] for r in rows_at(rec, "partner.firm")} == {"property"}
    assert {r[4] for r in rows_at(rec, "community")} == {"neighbour"}


def test_add_profiles_sums_step_functions():
    a = WeeklyProfile(((0.0, 1), (9.0, 3), (17.0, 1)))
    b = WeeklyProfile(((0.0, 2), (12.0, 0)))
    assert add_profiles(a, b).steps == ((0.0, 3), (9.0, 5), (12.0, 3), (17.0, 1))


# --------------------------------------------------------------------------- channels
def test_channel_cases_skip_the_building():
    d = tiny(horizon_days=60)
    d["channels"] = {"qr": {"share": 0.4, "enters_at": "community"}}
    rec = run(d, record_cases=True)
    m = rec.metrics
    up = rows_at(rec, "community")
    # the building settles everything it sees, so community cases are exactly the channel's
    assert len(up) == pytest.approx(m["arrived_share.channel.qr"] * m["cases_arrived"])
    assert all(r[8] * 24.0 == pytest.approx(5.0) for r in up)  # 5 h at the community, no 2 h at the building
    n = m["cases_arrived"]
    assert abs(m["arrived_share.channel.qr"] - 0.4) < 4 * math.sqrt(0.24 / n)
    # the channel draws from its own stream: the arrivals are the same without it
    assert run(tiny(horizon_days=60)).metrics["cases_arrived"] == n


def test_channel_shares_may_not_exceed_one():
    d = tiny()
    d["channels"] = {"a": {"share": 0.7, "enters_at": "community"}, "b": {"share": 0.4, "enters_at": "community"}}
    with pytest.raises(ScenarioError, match="channels"):
        validate_data(d)


# --------------------------------------------------------------------------- volunteers
def busy_data(**role: Any) -> dict[str, Any]:
    d = tiny(horizon_days=60)
    d["arrivals"]["rate_per_household_year"] = 26.28  # 0.3 an hour
    d["levels"]["building"].update(units=1, handling={"default": {"dist": "exponential", "mean": 5.0}}, settle=0.5)
    d["roles"]["head"] = {"staff_per_unit": 2, **role}
    return d


@pytest.mark.parametrize("volunteers", [
    {"staff_per_unit": 4, "availability": 0.5},
    {"staff_per_unit": 4, "hours_per_week": 84.0},
    {"staff_per_unit": 8, "roster": "office", "hours_per_week": 20.0},
])
def test_volunteers_with_half_availability_behave_like_half_the_staff(volunteers):
    fixed = dict(busy_data())
    if volunteers.get("roster") == "office":
        fixed["roles"]["head"] = {"staff_per_unit": 4, "roster": "office"}
    same = run(busy_data(**volunteers)).metrics
    ref = run(fixed).metrics
    assert same["wait_hours.building"] == ref["wait_hours.building"]  # identical under common random numbers
    assert same["days_to_settle.mean"] == ref["days_to_settle.mean"]
    full = run(busy_data(staff_per_unit=volunteers["staff_per_unit"])).metrics
    assert full["wait_hours.building"] < ref["wait_hours.building"]  # and it is not the whole roll


def test_level_volunteers_join_the_handlers():
    d = busy_data(staff_per_unit=1)
    d["roles"]["volunteer"] = {"staff_per_unit": 1, "availability": 1.0}  # turns out every day (0.5 would vary)
    d["levels"]["building"]["volunteers"] = ["volunteer"]
    assert run(d).metrics["wait_hours.building"] == run(busy_data()).metrics["wait_hours.building"]


# --------------------------------------------------------------------------- closed loop
def loop_data(on_late: str) -> dict[str, Any]:
    d = tiny(horizon_days=30)
    d["levels"]["building"]["settle"] = 0.2
    d["roles"]["mediator"]["staff_per_unit"] = 1
    d["levels"]["community"]["handling"] = {"default": {"dist": "fixed", "value": 20.0}}  # a queue forms
    d["levels"]["community"]["settle"] = 0.5
    d["closed_loop"] = {"respond_days": {"community": 0.5}, "on_late": on_late}
    return d


def test_late_hand_overs_are_counted_or_sent_up():
    counted = run(loop_data("count")).metrics
    sent = run(loop_data("escalate")).metrics
    assert counted["handover_late.community"] > 0 and counted["escalated_late.community"] == 0
    assert sent["escalated_late.community"] == sent["handover_late.community"] > 0
    assert sent["unresolved_share"] > counted["unresolved_share"]
    assert 0 < counted["handover_on_time_share.community"] < 1
    for m in (counted, sent):
        assert m["cases_arrived"] == m["cases_settled"] + m["cases_unresolved"] + m["open_cases_end"]


def test_report_back_adds_its_time_to_every_settlement():
    base = tiny(horizon_days=20)
    base["levels"]["building"]["settle"] = 0.5
    loop = tiny(horizon_days=20)
    loop["levels"]["building"]["settle"] = 0.5
    loop["closed_loop"] = {"report_back_days": 1.0}
    a, b = run(base).metrics, run(loop).metrics
    assert b["days_to_settle.mean"] - a["days_to_settle.mean"] == pytest.approx(1.0, abs=0.02)


def test_respond_must_be_shorter_than_the_deadline():
    d = loop_data("count")
    d["levels"]["community"]["deadline_days"] = 0.4
    with pytest.raises(ScenarioError, match="respond_days"):
        validate_data(d)


def test_partner_on_office_hours_starts_cases_only_on_duty():
    d = tiny(horizon_days=30)
    d["partners"] = {"lawyers": {"level": "building", "mode": "instead", "staff": 1, "roster": "office",
                                 "handling": {"default": {"dist": "fixed", "value": 1.0}}, "settle": 1.0}}
    rec = run(d, record_cases=True)
    rows = rows_at(rec, "partner.lawyers")
    assert len(rows) > 50
    for r in rows:
        start = (r[7] * 24.0 - 1.0) % 168.0
        day, hour = divmod(start, 24.0)
        assert day < 5 and 9.0 - 1e-6 <= hour < 17.0, (day, hour)


def test_meeting_share_refers_that_share_of_failed_cases():
    d = meeting_data(capacity=1000)
    d["horizon_days"] = 120
    d["meetings"]["weekly"]["share"] = 0.3
    m = run(d).metrics
    failed = m["referred.meeting.weekly"] + m["escalated_failed.building"]  # every case fails at the building
    p = m["referred.meeting.weekly"] / failed
    assert abs(p - 0.3) < 4 * math.sqrt(0.21 / failed)


def test_unknown_roles_and_levels_in_mechanisms_are_reported_with_their_key():
    d = tiny()
    d["levels"]["building"]["volunteers"] = ["ghost"]
    d["pools"] = {"c": {"level": "building", "staff": {"phantom": 1},
                        "handling": {"default": {"dist": "fixed", "value": 1.0}}, "settle": 1.0}}
    d["channels"] = {"qr": {"share": 0.1, "enters_at": "attic"}}
    d["closed_loop"] = {"respond_days": {"cellar": 1.0}}
    with pytest.raises(ScenarioError) as err:
        validate_data(d)
    paths = {p.path for p in err.value.problems}
    assert {"levels.building.volunteers.0", "pools.c.staff.phantom", "channels.qr.enters_at",
            "closed_loop.respond_days.cellar"} <= paths


def test_a_scenario_without_mechanisms_builds_none():
    from sim.engine.model import Model

    model = Model(validate_data(tiny()), SEED, 0)
    assert model.mechanisms == () and all(lv.hooks is None and lv.respond is None for lv in model.levels)


# --------------------------------------------------------------------------- the registry
def test_every_mechanism_with_a_section_gives_the_scenario_its_field():
    from sim.mechanisms import REGISTRY
    from sim.scenario.schema import Scenario

    for mech in REGISTRY:
        if mech.name in ("volunteers", "sittings"):  # a field of each level, not a section of its own
            assert mech.name in Scenario.model_fields["levels"].annotation.__args__[1].model_fields
            continue
        if mech.name == "other_duties":  # a field of each role
            assert mech.name in Scenario.model_fields["roles"].annotation.__args__[1].model_fields
            continue
        annotation = repr(Scenario.model_fields[mech.name].annotation)
        assert any(model.__name__ in annotation for model in mech.models), mech.name


def test_each_mechanism_produces_exactly_the_metrics_of_its_catalogue_group():
    """A scenario's metrics beyond the engine's belong to the mechanisms it uses, by catalogue group."""
    from conftest import SCENARIOS
    from sim import catalogue
    from sim.mechanisms import used
    from sim.scenario import load_scenario

    seen: set[str] = set()
    for name in ("fangxing", "runzhou", "zhonglou", "shuangluan", "tuanjieba", "wangquan", "sanjiang", "chenjiaqiao",
                 "lianhuashan"):
        sc = load_scenario(SCENARIOS / f"{name}.yaml", {"warmup_days": 0.0})
        metrics = single_run(sc, SEED, 0, horizon_days=20.0).metrics
        groups = {catalogue.info(m).entry.group for m in metrics} - {"engine"}
        with_metrics = {m.name for m in used(sc)} & {e.group for e in catalogue.METRICS}
        assert groups == with_metrics, name
        seen |= groups
    assert seen == {"meetings", "pools", "partners", "channels", "closed_loop", "prevention", "detection", "collective",
                    "court_link", "other_duties"}  # every group was exercised


def test_describe_and_checks_iterate_the_registry_in_order():
    from sim.mechanisms import REGISTRY, describe, problems

    d = tiny()
    d["roles"]["volunteer"] = {"staff_per_unit": 1}
    d["levels"]["building"]["volunteers"] = ["volunteer"]
    d["channels"] = {"qr": {"share": 0.1, "enters_at": "community"}}
    d["meetings"] = {"weekly": {"level": "building", "capacity": 2, "settle": 0.5}}
    d["closed_loop"] = {"report_back_days": 1.0}
    sc = validate_data(d)
    kinds = [row[0] for row in describe(sc)]
    assert kinds == ["meeting", "channel", "volunteers", "closed loop"]
    order = [m.name for m in REGISTRY]
    assert order.index("meetings") < order.index("channels") < order.index("volunteers") < order.index("closed_loop")
    assert problems(sc) == []
