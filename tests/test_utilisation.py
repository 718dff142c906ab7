"""Utilisation counts on-duty time only; work past the end of a shift is overtime."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.engine.model import single_run
from sim.metrics import OffDutyWork
from sim.rosters import weekly_profile
from sim.scenario import load_scenario
from sim.scenario.schema import Role

FANGXING = Path(__file__).resolve().parent.parent / "scenarios" / "fangxing.yaml"


def test_work_after_closing_time_is_overtime():
    office = weekly_profile(Role(staff_per_unit=1, roster="office"))  # Mon-Fri 9-17 (or as declared)
    opens = office.next_on_duty(0.0)
    closes = office.next_change(opens)
    off = OffDutyWork(office, warmup=0.0)
    off.start(closes - 1.0)
    off.end(closes + 3.0)
    assert off.area == pytest.approx(3.0)
    off.start(opens + 168.0)
    off.end(opens + 169.0)
    assert off.area == pytest.approx(3.0)  # on duty: no overtime


def test_only_work_after_the_warm_up_counts():
    office = weekly_profile(Role(staff_per_unit=1, roster="office"))
    closes = office.next_change(office.next_on_duty(0.0))
    off = OffDutyWork(office, warmup=closes + 2.0)
    off.start(closes - 1.0)
    off.end(closes + 3.0)
    assert off.area == pytest.approx(1.0)


def test_utilisation_never_exceeds_one_and_overtime_is_reported():
    """At 0.25 cases per household a year mediators used to show 1.14 and 1.19."""
    v = single_run(load_scenario(FANGXING, {"arrivals.rate_per_household_year": 0.25}), 3, 0).metrics
    utils = {k: x for k, x in v.items() if k.startswith("utilisation.")}
    assert utils and all(0.0 <= x <= 1.0 for x in utils.values()), utils
    assert v["overtime_hours.community_mediator"] > 0.0
    assert v["overtime_hours.street_mediator"] > 0.0
