"""The case process on small scenarios whose outcome can be worked out by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from conftest import tiny
from sim.engine import single_run
from sim.scenario import validate_data


def run_cases(data, seed=3, **kw):
    rec = single_run(validate_data(data), seed, 0, record_cases=True, **kw)
    cols = ["case_id", "arrival_day", "building", "severity", "category", "level", "outcome", "close_day", "days_to_close"]
    return rec, pd.DataFrame(rec.cases, columns=cols)


def test_settles_at_the_first_level_that_succeeds():
    rec, cases = run_cases(tiny())
    closed = cases[cases.outcome != "open"]
    assert len(closed) > 20
    assert (closed.level == "building").all()
    # plenty of staff, fixed 2-hour handling: every case takes exactly 2 hours
    assert closed.days_to_close.sub(2 / 24).abs().max() < 1e-9
    assert rec.metrics["settled_share.building"] == 1.0
    assert rec.metrics["wait_hours.building"] == 0.0


def test_escalates_when_a_level_fails():
    rec, cases = run_cases(tiny(levels__building__settle=0.0))
    closed = cases[cases.outcome != "open"]
    assert (closed.level == "community").all()
    assert closed.days_to_close.sub(7 / 24).abs().max() < 1e-9  # 2 h + 5 h
    assert rec.metrics["escalated_failed.building"] == rec.metrics["cases_arrived"] - _open_at_building(cases)


def _open_at_building(cases):
    # cases still in building handling at the horizon have not escalated yet
    return int(((cases.outcome == "open") & (cases.arrival_day > cases.arrival_day.max() - 2 / 24)).sum())


def test_case_above_ceiling_is_triaged_then_referred_up():
    data = tiny(arrivals__severity_mix={"micro": 0.0, "small": 0.0, "big": 1.0, "major": 0.0})
    data["levels"]["building"]["ceiling"] = "small"
    data["levels"]["building"]["triage"] = {"dist": "fixed", "value": 0.5}
    rec, cases = run_cases(data)
    closed = cases[cases.outcome != "open"]
    assert (closed.level == "community").all()
    assert closed.days_to_close.sub(5.5 / 24).abs().max() < 1e-9  # triage 0.5 h, not handling 2 h
    assert rec.metrics["escalated_ceiling.building"] > 0
    assert rec.metrics["escalated_failed.building"] == 0
    # big cases may not be settled below the community, so settling there is within the ceiling
    assert rec.metrics["within_ceiling_share"] == 1.0


def test_deadline_during_handling_escalates_at_the_deadline():
    data = tiny()
    data["levels"]["building"]["handling"] = {"default": {"dist": "fixed", "value": 100.0}}
    data["levels"]["building"]["deadline_days"] = 1.0
    rec, cases = run_cases(data)
    closed = cases[cases.outcome != "open"]
    assert (closed.level == "community").all()
    assert closed.days_to_close.sub(29 / 24).abs().max() < 1e-9  # 24 h deadline + 5 h
    assert rec.metrics["escalated_deadline.building"] > 0


def test_deadline_while_waiting_escalates_without_handling():
    data = tiny()
    data["roles"]["head"]["staff_per_unit"] = 1
    data["levels"]["building"]["units"] = 1
    data["levels"]["building"]["handling"] = {"default": {"dist": "fixed", "value": 20.0}}  # 0.1/h * 20 h: overloaded
    data["levels"]["building"]["deadline_days"] = 1.0
    rec, cases = run_cases(data)
    closed = cases[cases.outcome != "open"]
    at_building = closed[closed.level == "building"]
    at_community = closed[closed.level == "community"]
    assert len(at_building) > 0 and len(at_community) > len(at_building)
    # a case either finished its 20 h handling within the deadline or left after exactly 24 h (+5 h)
    assert (at_building.days_to_close <= 1.0 + 1e-9).all()
    assert at_community.days_to_close.sub(29 / 24).abs().max() < 1e-9
    assert rec.metrics["escalated_deadline.building"] == len(at_community)


def test_unsettled_at_the_top_leaves_unresolved():
    rec, cases = run_cases(tiny(levels__building__settle=0.0, levels__community__settle=0.0))
    closed = cases[cases.outcome != "open"]
    assert (closed.outcome == "unresolved").all()
    assert rec.metrics["unresolved_share"] == 1.0
    assert rec.metrics["cases_unresolved"] == rec.metrics["cases_arrived"] - rec.metrics["open_cases_end"]
    assert math.isnan(rec.metrics["days_to_settle.mean"])


def test_settle_probability_is_respected():
    rec, _ = run_cases(tiny(levels__building__settle=0.3, horizon_days=400))
    n = rec.metrics["cases_settled"] + rec.metrics["cases_unresolved"]
    p = rec.metrics["settled_share.building"]
    assert abs(p - 0.3) < 4 * math.sqrt(0.3 * 0.7 / n)


def test_office_hours_roster_makes_weekend_cases_wait_for_monday():
    data = tiny()
    data["roles"]["head"]["roster"] = "office"
    data["levels"]["building"]["handling"] = {"default": {"dist": "fixed", "value": 1.0}}
    rec, cases = run_cases(data)
    b = cases[(cases.level == "building") & (cases.outcome == "settled")]
    close_h = (b.close_day * 24) % 168
    # settled only while the office is open, Mon-Fri 9:00-17:00 (+ the hour of work in hand)
    day, hour = close_h // 24, close_h % 24
    assert (day <= 4).all() and ((hour >= 10 - 1e-9) & (hour <= 18 + 1e-9)).all()
    arrive_h = (b.arrival_day * 24) % 168
    sat = b[(arrive_h >= 5 * 24) & (arrive_h < 6 * 24)]
    assert len(sat) > 0
    # a Saturday case starts at 9:00 on Monday at the earliest
    assert ((sat.close_day * 24 - sat.arrival_day * 24) >= (168 - arrive_h[sat.index] + 9 + 1 - 1e-9)).all()


def test_work_in_hand_carries_over_the_end_of_a_shift():
    data = tiny()
    data["roles"]["head"]["roster"] = "office"
    data["roles"]["head"]["staff_per_unit"] = 1
    data["levels"]["building"]["units"] = 1
    data["levels"]["building"]["handling"] = {"default": {"dist": "fixed", "value": 3.0}}
    rec, cases = run_cases(data, horizon_days=60)
    b = cases[(cases.level == "building") & (cases.outcome == "settled")]
    hour = (b.close_day * 24) % 24
    # some cases started before 17:00 finish after it: the shift change did not drop them
    assert ((hour > 17 + 1e-9) & (hour <= 20 + 1e-9)).any()
    assert not ((hour > 20 + 1e-9) | (hour < 12 - 1e-9)).any()


def test_partial_roster_uses_only_staff_on_duty():
    # 2 staff on weekdays, 1 at weekends (a PriorityResource with an off-duty blocker)
    data = tiny()
    data["roles"]["head"]["staff_per_unit"] = 2
    data["roles"]["head"]["roster"] = {"shifts": [
        {"days": ["mon", "tue", "wed", "thu", "fri"], "start": 0, "end": 24},
        {"days": ["sat", "sun"], "start": 0, "end": 24, "staff": 1},
    ]}
    data["levels"]["building"]["units"] = 1
    data["levels"]["building"]["handling"] = {"default": {"dist": "fixed", "value": 12.0}}
    rec, cases = run_cases(data, horizon_days=28)
    b = cases[(cases.level == "building") & (cases.outcome == "settled")].copy()
    b["start_h"] = b.close_day * 24 - 12.0
    # count cases in service at each weekend hour: never more than one
    for t in range(5 * 24 + 12, 7 * 24, 3):  # Saturday noon onwards (after Friday's work is done)
        for week in range(4):
            now = week * 168 + t
            busy = ((b.start_h <= now) & (b.close_day * 24 > now)).sum()
            assert busy <= 1


def test_follow_up_time_adds_to_settlement_without_occupying_staff():
    data = tiny()
    data["roles"]["head"]["staff_per_unit"] = 1
    data["levels"]["building"]["units"] = 1
    data["levels"]["building"]["follow_up_days"] = {"default": {"dist": "fixed", "value": 2.0}}
    rec, cases = run_cases(data)
    closed = cases[cases.outcome != "open"]
    assert (closed.level == "building").all()
    # 2 hours of handling (no queue: the follow-up does not hold the one handler) + 2 days
    assert closed.days_to_close.min() == pytest.approx(2 / 24 + 2)
    assert (closed.days_to_close >= 2 / 24 + 2 - 1e-9).all()
    assert rec.metrics["utilisation.head"] < 0.3  # 0.1 cases/h x 2 h: the 48 h follow-up is not staff time
    assert rec.metrics["days_to_settle.p50"] == pytest.approx(2 / 24 + 2, rel=0.01)


def test_follow_up_past_the_deadline_escalates_at_the_deadline():
    data = tiny()
    data["levels"]["building"]["follow_up_days"] = {"default": {"dist": "fixed", "value": 3.0}}
    data["levels"]["building"]["deadline_days"] = 1.0
    rec, cases = run_cases(data)
    closed = cases[cases.outcome != "open"]
    assert (closed.level == "community").all()
    assert closed.days_to_close.sub(29 / 24).abs().max() < 1e-9
    assert rec.metrics["escalated_deadline.building"] >= len(closed)
    assert rec.metrics["escalated_failed.building"] == 0
