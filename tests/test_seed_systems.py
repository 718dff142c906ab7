"""Sanjiang, Chenjiaqiao and Lianhuashan (seed 001): they cite their seed, and each mechanism they
need moves the metrics as the model says when it is taken out (paired runs, common random numbers)."""

from __future__ import annotations

import copy
import re

import pytest

from conftest import SCENARIOS
from sim.engine import single_run
from sim.provenance import parameter_table
from sim.scenario import validate_data
from sim.scenario.loader import load_scenario_full

SYSTEMS = ["sanjiang", "chenjiaqiao", "lianhuashan"]
REPS = 4


def data(name: str) -> dict:
    return load_scenario_full(SCENARIOS / f"{name}.yaml").data


def runs(d: dict, horizon: float = 200) -> list[dict[str, float]]:
    sc = validate_data(d)
    return [single_run(sc, 11, rep, horizon_days=horizon).metrics for rep in range(REPS)]


@pytest.mark.parametrize("name", SYSTEMS)
def test_every_parameter_has_a_source_or_is_an_assumption_and_the_seed_is_cited(name):
    rows = parameter_table(data(name))
    for row in rows:
        assert row["assumption"] or row["source"] not in ("", "(no source given)"), row["parameter"]
    cited = set(re.findall(r"\d{3}_[0-9a-f]{16}\.txt", " ".join(r["source"] for r in rows)))
    assert cited == {"001_f0efce73611703b2.txt"}


def test_sanjiang_without_its_judges_studio_sends_more_cases_to_court():
    with_studio = data("sanjiang")
    without = copy.deepcopy(with_studio)
    del without["court_link"]["studio"]
    a, b = runs(with_studio, 365), runs(without, 365)
    assert all(x["cases_to_court"] <= y["cases_to_court"] for x, y in zip(a, b))
    assert sum(y["cases_to_court"] - x["cases_to_court"] for x, y in zip(a, b)) > 0
    # what does not go to court takes the same routes: the studio only takes court-bound cases
    assert all(x["settled_share.street"] == y["settled_share.street"] for x, y in zip(a, b))


def test_chenjiaqiao_prevention_removes_exactly_the_cases_it_counts():
    with_measure = data("chenjiaqiao")
    without = copy.deepcopy(with_measure)
    del without["prevention"]
    for x, y in zip(runs(with_measure), runs(without)):
        assert y["cases_arrived"] - x["cases_arrived"] == x["cases_prevented.targeted_evaluation"] > 0


def test_chenjiaqiao_collective_cases_add_their_count_and_load_the_street():
    with_kind = data("chenjiaqiao")
    without = copy.deepcopy(with_kind)
    del without["collective"]
    a, b = runs(with_kind), runs(without)
    for x, y in zip(a, b):
        assert x["cases_arrived"] - y["cases_arrived"] == x["collective_cases.owners_vs_property"] > 0
    assert sum(x["utilisation.street_mediator"] - y["utilisation.street_mediator"] for x, y in zip(a, b)) > 0


def test_lianhuashan_undetected_disputes_grow_and_reach_higher_levels():
    with_detection = data("lianhuashan")
    without = copy.deepcopy(with_detection)
    del without["detection"]
    a, b = runs(with_detection), runs(without)
    for x in a:
        assert 0.0 < x["found_before_growth_share"] < 1.0
        assert x["days_undetected.mean"] > 0
        assert x["detected_share.residents"] > x["detected_share.elderly_visits"]
    assert sum(x["settled_share.building"] for x in a) < sum(y["settled_share.building"] for y in b)
