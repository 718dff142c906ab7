"""Part-time availability acts continuously: every extra person, every bit of availability, adds on-duty hours."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.engine.model import single_run
from sim.rosters import HOURS_PER_WEEK, WeeklyProfile, weekly_profile
from sim.scenario import load_scenario
from sim.scenario.schema import Role

FANGXING = Path(__file__).resolve().parent.parent / "scenarios" / "fangxing.yaml"


@pytest.mark.parametrize("roster", ["always", "office"])
@pytest.mark.parametrize("staff", [1, 2, 3, 4, 5, 6, 7])
@pytest.mark.parametrize("availability", [0.35, 0.5, 0.05, 1.0])
def test_on_duty_hours_of_a_week_are_staff_times_availability_times_rostered_hours(roster, staff, availability):
    role = Role(staff_per_unit=staff, roster=roster, availability=availability)
    hours = weekly_profile(role).on_duty_hours(0.0, HOURS_PER_WEEK)
    assert hours == pytest.approx(staff * availability * role.rostered_hours(), rel=0, abs=1e-7)


def test_each_extra_person_adds_capacity():
    hours = [weekly_profile(Role(staff_per_unit=n, roster="office", availability=0.35)).on_duty_hours(0.0, 168.0)
             for n in range(2, 8)]
    assert all(b > a for a, b in zip(hours, hours[1:]))


def test_hours_per_week_are_not_rounded():
    role = Role(staff_per_unit=3, roster="office", hours_per_week=6.0)  # 18 of 40 rostered hours
    assert weekly_profile(role).on_duty_hours(0.0, HOURS_PER_WEEK) == pytest.approx(18.0, rel=0, abs=1e-7)


def test_full_availability_keeps_the_plain_roster():
    assert weekly_profile(Role(staff_per_unit=3, roster="always")).steps == ((0.0, 3),)
    office = weekly_profile(Role(staff_per_unit=2, roster="office")).steps
    assert {c for _, c in office} == {0, 2}


def test_staffing_rows_differ_for_two_three_and_four_grid_workers():
    """Before, 2, 3 and 4 grid workers at availability 0.35 all put one person on duty: identical rows.
    (At Fangxing's earlier arrival rate of 0.08: at its calibrated, lower rate the grid queues so little
    that 3 and 4 workers wait alike.)"""
    results = [single_run(load_scenario(FANGXING, {"roles.grid_worker.staff_per_unit": n,
                                                   "arrivals.rate_per_household_year": 0.08}), 7, 0,
                          horizon_days=90.0).metrics for n in (2, 3, 4)]
    waits = [r["wait_hours.grid"] for r in results]
    assert waits[0] > waits[1] > waits[2], waits


def test_volunteers_turn_out_day_by_day_with_the_stated_mean():
    from sim.engine.model import Model
    from sim.rosters import TurnoutProfile

    sc = load_scenario(FANGXING)
    m = Model(sc, 7, 0)
    profiles = [lv.profile for lv in m.levels if isinstance(lv.profile, TurnoutProfile)]
    assert profiles, "Fangxing's volunteers join a level"
    profile = profiles[0]
    (turnout,) = profile.turnouts
    days = 2000
    counts = [turnout.on_day(d) for d in range(days)]
    assert len(set(counts)) > 1  # turn-out varies from day to day
    assert sum(counts) / days == pytest.approx(turnout.staff * turnout.share, rel=0.05)
    level = next(lv for lv in m.levels if lv.profile is profile)
    role = sc.roles[sc.levels[level.name].volunteers[0]]
    weeks = days / 7
    base = profile.base.on_duty_hours(0.0, days * 24.0) / weeks
    volunteer_hours = profile.on_duty_hours(0.0, days * 24.0) / weeks - base
    expected = role.staff_per_unit * role.on_duty_share() * role.rostered_hours() * profile.factor
    assert volunteer_hours == pytest.approx(expected, rel=0.05)
    # the draws come from the mechanism's own stream: another replication draws other days
    other = [lv.profile for lv in Model(sc, 7, 1).levels if isinstance(lv.profile, TurnoutProfile)][0].turnouts[0]
    assert [other.on_day(d) for d in range(60)] != counts[:60]


def test_the_next_change_of_shift_is_strictly_later_even_where_a_start_reads_a_hair_below_itself():
    """A profile made by hand may start a step at an hour that is no dyadic number (0.1): in
    many weeks ``week x 168 + 0.1`` minus the week's start reads a hair below 0.1. The next
    change (and rise) after such an instant is the one after that start (every caller relies
    on time moving on: a wake-up, the overtime area, other duties' on-duty time)."""
    p = WeeklyProfile(((0.0, 1), (0.1, 2), (40.3, 0)))
    hairs = 0
    for week in range(2000):
        t = week * HOURS_PER_WEEK + 0.1
        hairs += (t - week * HOURS_PER_WEEK) < 0.1
        assert p.next_change(t) > t
        assert p.next_change(t) - t <= 40.3
        assert t < p.next_rise(t) <= t + HOURS_PER_WEEK  # rises at 0 h and 0.1 h: next week's start
    assert hairs > 100  # the case occurs
