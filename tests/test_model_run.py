"""Model.run and Model.run_in_slices: pausing changes nothing; the collector is put back."""

from __future__ import annotations

import gc

import pytest
from conftest import SCENARIOS, TEST_SCENARIOS, tiny

from sim.engine.model import GC_YOUNG_THRESHOLD, Model
from sim.scenario import load_scenario, validate_data


def _record(model_run) -> tuple:
    rec = model_run  # repr: NaN (open cases' close times) is unequal to itself
    return repr(rec.metrics), rec.backlog, repr(rec.cases), repr(rec.visits), rec.unstable_level


def _sliced(model: Model, hours: float) -> tuple[object, list[float]]:
    steps = model.run_in_slices(hours)
    pauses: list[float] = []
    while True:
        try:
            pauses.append(next(steps))
        except StopIteration as done:
            return done.value, pauses


@pytest.mark.parametrize("path, days, hours", [
    (TEST_SCENARIOS / "ladder.yaml", 60.0, 24.0),
    (SCENARIOS / "zhaojialou.yaml", 40.0, 7.5),  # deadlines, rosters, other duties, partners
    (SCENARIOS / "nangan.yaml", 40.0, 24.0),  # meetings ending at midnight: ties with the slice ends
])
def test_pausing_every_few_hours_gives_the_same_record_as_one_run(path, days, hours):
    sc = load_scenario(path, {"warmup_days": 5})
    whole = Model(sc, 11, 1, horizon_days=days, record_cases=True).run()
    sliced, pauses = _sliced(Model(sc, 11, 1, horizon_days=days, record_cases=True), hours)
    assert _record(sliced) == _record(whole)
    # it paused at every slice's end up to the horizon (a slice ending there comes first), and only there
    assert pauses == pytest.approx([hours * k for k in range(1, int(days * 24.0 / hours) + 1)])


def test_a_run_stopped_as_unstable_stops_at_the_same_instant_when_sliced():
    # 2 cases an hour on 2 buildings of 1 head each, 2 hours a case: each building loaded twice over
    sc = validate_data(tiny(roles__head__staff_per_unit=1, arrivals__rate_per_household_year=175.2,
                            max_open_cases=30, horizon_days=200))
    whole = Model(sc, 3, 0).run()
    sliced, pauses = _sliced(Model(sc, 3, 0), 5.0)
    assert whole.unstable_level == "building"
    assert _record(sliced) == _record(whole)
    assert pauses and pauses[-1] < 200 * 24.0  # stopped long before the horizon


def test_the_collector_is_put_back_after_a_run_and_after_a_failure():
    before = gc.get_threshold(), gc.get_freeze_count()
    assert before[0][0] < GC_YOUNG_THRESHOLD  # else the test shows nothing
    sc = validate_data(tiny())
    Model(sc, 1, 0).run()
    assert (gc.get_threshold(), gc.get_freeze_count()) == before

    model = Model(sc, 1, 0)
    during: list[tuple] = []

    def failing_step() -> None:
        during.append((gc.get_threshold(), gc.get_freeze_count()))
        raise KeyError("a failure inside the run")

    model.env.step = failing_step  # type: ignore[method-assign]
    with pytest.raises(KeyError):
        model.run()
    assert during and during[0][0][0] == GC_YOUNG_THRESHOLD and during[0][1] > before[1]  # tuned during the run
    assert (gc.get_threshold(), gc.get_freeze_count()) == before


def test_a_slice_must_be_positive():
    model = Model(validate_data(tiny()), 1, 0)
    with pytest.raises(ValueError, match="positive"):
        next(model.run_in_slices(0.0))
