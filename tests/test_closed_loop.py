"""The closed loop measures from hand-over to the start of handling: off-duty waits and pool routes included."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.engine.model import Model, single_run
from sim.mechanisms.closed_loop import ClosedLoopRuntime
from sim.scenario import load_scenario

ZHONGLOU = Path(__file__).resolve().parent.parent / "scenarios" / "zhonglou.yaml"
SHORT = {"closed_loop.respond_days.departments": 0.1, "closed_loop.respond_days.street": 0.1}


# Without elapsed time after handling, a case fails at the street when a handler finishes it, late in the
# day; with it (base/urban_community.yaml), the few hand-overs of one year fall at any hour.
NO_FOLLOW_UP = {f"levels.{lv}.follow_up_days": None for lv in ("building", "grid", "community", "street", "departments")}


def test_waiting_for_the_office_to_open_makes_a_hand_over_late():
    """Departments keep office hours: a case handed over in the evening waits past 0.1 days."""
    v = single_run(load_scenario(ZHONGLOU, {**SHORT, **NO_FOLLOW_UP}), 3, 0).metrics
    assert v["handover_on_time_share.departments"] < 0.5
    assert v["handover_late.departments"] > 0


def test_late_hand_overs_escalate():
    v = single_run(load_scenario(ZHONGLOU, {**SHORT, "closed_loop.on_late": "escalate"}), 3, 0).metrics
    assert v["escalated_late.departments"] > 0
    assert v["escalated_late.departments"] <= v["handover_late.departments"]  # the last may still be waiting at the end


def test_cases_routed_to_a_pool_are_handed_over_too():
    m = Model(load_scenario(ZHONGLOU), 3, 0)
    rec = m.run()
    street = m.scenario.level_names.index("street")
    loop = next(rt for rt in m.mechanisms if isinstance(rt, ClosedLoopRuntime))
    pool_cases = rec.metrics["cases.pool.non_litigation_centre"]
    assert pool_cases > 0
    assert loop.handed[street] >= pool_cases + m.metrics.wait_n[street]


@pytest.mark.parametrize("on_late", ["count", "escalate"])
def test_generous_response_times_are_met(on_late):
    v = single_run(load_scenario(ZHONGLOU, {"closed_loop.respond_days.departments": 20.0,
                                            "closed_loop.respond_days.street": 20.0,
                                            "closed_loop.on_late": on_late}), 3, 0).metrics
    assert v["handover_on_time_share.departments"] == 1.0
