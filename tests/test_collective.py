"""Collective cases on tiny scenarios: their own arrivals, households involved, scaled handling."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import tiny
from sim.engine import single_run
from sim.scenario import validate_data
from sim.scenario.problems import ScenarioError

COLS = ["case_id", "arrival_day", "building", "severity", "category", "level", "outcome", "close_day", "days_to_close"]
FIRST_ID = 1_000_000_000
KIND = {"level": "community", "rate_per_unit_year": 200.0, "households": {"dist": "fixed", "value": 10},
        "severity_mix": {"micro": 1.0}, "category": "neighbour", "handling_factor": 2.0,
        "handling_per_household": 0.1}  # handling x 2 * (1 + 0.1 * 9) = x 3.8


def run(data, seed=3):
    rec = single_run(validate_data(data), seed, 0, record_cases=True)
    return rec, pd.DataFrame(rec.cases, columns=COLS)


def with_kind(**changes):
    data = tiny(horizon_days=60)
    data["collective"] = {"owners": {**KIND, **changes}}
    return data


def test_collective_cases_take_scaled_handling_and_leave_household_cases_alone():
    _, plain = run(tiny(horizon_days=60))
    rec, cases = run(with_kind())
    own = cases[cases.case_id < FIRST_ID].reset_index(drop=True)
    pd.testing.assert_frame_equal(own, plain)  # plenty of staff: nothing waits, nothing changes
    coll = cases[(cases.case_id >= FIRST_ID) & (cases.outcome != "open")]
    assert len(coll) > 10
    assert coll.days_to_close.sub(2 * 3.8 / 24).abs().max() < 1e-9  # settled at the building: 2 h x 3.8
    m = rec.metrics
    assert m["collective_cases.owners"] == (cases.case_id >= FIRST_ID).sum()
    assert m["households_involved.owners"] == 10.0
    assert m["cases_arrived"] == len(cases)


def test_own_settle_chance_and_entry_level():
    _, cases = run(with_kind(settle={"building": 0.0}))
    coll = cases[(cases.case_id >= FIRST_ID) & (cases.outcome != "open")]
    assert (coll.level == "community").all()
    assert coll.days_to_close.sub((2 + 5) * 3.8 / 24).abs().max() < 1e-9
    _, cases = run(with_kind(enters_at="community"))
    coll = cases[(cases.case_id >= FIRST_ID) & (cases.outcome != "open")]
    assert (coll.level == "community").all()
    assert coll.days_to_close.sub(5 * 3.8 / 24).abs().max() < 1e-9


@pytest.mark.parametrize("changes, message", [
    ({"level": "estate"}, "collective.owners.level: 'estate' is not a level"),
    ({"category": "property"}, "collective.owners.category: 'property' is not a declared category"),
    ({"severity_mix": {"micro": 0.5}}, "collective.owners.severity_mix: must sum to 1"),
    ({"settle": {"street": 0.5}}, "collective.owners.settle.street: 'street' is not a level"),
])
def test_invalid_collective_is_reported_with_its_path(changes, message):
    with pytest.raises(ScenarioError, match=message):
        validate_data(with_kind(**changes))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rate=st.floats(1.0, 500.0), households=st.floats(1.0, 80.0), seed=st.integers(0, 10_000))
def test_collective_cases_land_in_buildings_of_their_unit(rate, households, seed):
    data = tiny(horizon_days=30)
    data["levels"]["grid"] = data["levels"].pop("community")
    data["levels"]["grid"]["units"] = 2
    data["levels"]["building"]["units"] = 4
    data["levels"]["community"] = {"units": 1, "role": "mediator", "handling": {"default": {"dist": "fixed", "value": 1.0}},
                                   "settle": 1.0}
    data["collective"] = {"estate": {**KIND, "level": "grid", "rate_per_unit_year": rate,
                                     "households": {"dist": "fixed", "value": households}}}
    rec, cases = run(data, seed)
    coll = cases[cases.case_id >= FIRST_ID]
    assert coll.building.between(0, 3).all()
    m = rec.metrics
    if m["collective_cases.estate"]:
        assert m["households_involved.estate"] == max(1, round(households))


def test_a_scenario_without_the_new_sections_wires_nothing_in():
    """No block transforms, no further sources, no exit route: the arrival loop and the case end as before."""
    from sim.engine.model import Model

    model = Model(validate_data(tiny()), 3, 0)
    assert model.block_hooks == () and model.sources == () and model.exit is None
    model = Model(validate_data(with_kind()), 3, 0)
    assert len(model.sources) == 1 and model.block_hooks == () and model.exit is None
