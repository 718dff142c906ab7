"""Fuzzing: mutated valid scenarios either run or fail with a ScenarioError, nothing else.

Hypothesis deletes keys, renames them, changes the type of values and pushes numbers to
odd values (zero, negative, huge, tiny, fractional; names that are paths, unwritable text) in two valid scenarios that together use
most of the schema: ceilings, triage, deadlines, rosters, per_parent, explicit parents,
named units, a shared queue, weekly factors and targets. Whatever comes out must either
load and run a short replication (and pass the stability estimate) or be refused with a
ScenarioError whose every problem names a key path or a file position.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.engine.model import single_run
from sim.hierarchy import build_hierarchy
from sim.scenario import ScenarioError, validate_data
from sim.scenario.loader import apply_overrides
from sim.stability import estimate

LADDER: dict[str, Any] = {
    "name": "fuzz",
    "time_unit": "hours",
    "severities": ["micro", "small", "big"],
    "categories": ["neighbour", "family"],
    "households": 600,
    "arrivals": {
        "rate_per_household_year": 3.0,
        "severity_mix": {"micro": 0.6, "small": 0.3, "big": 0.1},
        "category_mix": {"neighbour": 0.5, "family": 0.5},
        "weekday_factors": [1, 1, 1, 1, 1, 1.5, 1.5],
    },
    "roles": {
        "head": {"staff_per_unit": 1, "roster": {"shifts": [{"days": ["mon", "tue", "sat"], "start": 8, "end": 20}]}},
        "grid_worker": {"staff_per_unit": 3, "availability": 0.5, "roster": "office"},
        "mediator": {"staff_per_unit": 2},
    },
    "levels": {
        "building": {"per_parent": 3, "role": "head", "handling": {"default": {"dist": "lognormal", "mean": 1.0, "sd": 0.5}},
                     "settle": {"micro": 0.7, "default": 0.0}, "ceiling": "micro",
                     "triage": {"dist": "fixed", "value": 0.2}, "deadline_days": 2},
        "grid": {"parents": [0, 0, 1], "role": "grid_worker",
                 "handling": {"default": {"dist": "gamma", "mean": 2.0, "sd": 1.0},
                              "small": {"dist": "triangular", "low": 1, "mode": 2, "high": 4}},
                 "settle": 0.8, "queue": "shared"},
        "community": {"units": 2, "role": "mediator", "handling": {"default": {"dist": "empirical", "values": [2, 3, 5]}},
                      "settle": 0.9},
        "street": {"units": 1, "role": "mediator", "handling": {"default": {"dist": "exponential", "mean": 4}}, "settle": 0.5},
    },
    "target_days": {"default": 7, "micro": 2},
    "horizon_days": 10,
    "warmup_days": 1,
    "replications": 2,
    "seed": 3,
    "max_open_cases": 5000,
    "sources": {"": {"assumption": "fuzz"}, "households": "made up"},
}

NAMED: dict[str, Any] = {
    "name": "named",
    "time_unit": "days",
    "severities": ["minor", "major"],
    "categories": ["any"],
    "households": 40,
    "arrivals": {"rate_per_household_year": 5, "severity_mix": {"minor": 0.9, "major": 0.1}, "category_mix": {"any": 1}},
    "roles": {"a": {"staff_per_unit": 1}, "b": {"staff_per_unit": 2, "roster": "office"}},
    "levels": {
        "building": {"units_named": [{"name": "b1", "parent": "g1"}, {"name": "b2", "parent": "g2"}, {"name": "b3", "parent": "g2"}],
                     "role": "a", "handling": {"default": {"dist": "fixed", "value": 0.1}}, "settle": 0.5},
        "grid": {"units_named": [{"name": "g1", "parent": "c"}, {"name": "g2", "parent": "c"}], "role": "b",
                 "handling": {"default": {"dist": "exponential", "mean": 0.2}}, "settle": {"minor": 0.9, "major": 0.2}},
        "community": {"units_named": [{"name": "c"}], "role": "b", "handling": {"default": {"dist": "fixed", "value": 0.5}},
                      "settle": 1.0, "deadline_days": 3},
    },
    "horizon_days": 5,
    "warmup_days": 0,
    "target_days": 3,
}

ODD_VALUES = [None, 0, -1, 0.5, 1.5, 2, 10**12, -0.0, float("inf"), float("nan"), "x", "", True, [], [1, 2], {}, {"a": 1},
              {"dist": "exponential", "mean": 1}, "micro", "office", "always",
              # values past what the engine can compute: refused at validation, never a crash in a run
              1e-300, 5e-324, 1e300, 10**30, 2**63, "../x", "\ud800", {"dist": "gamma", "mean": 1e-300, "sd": 2}]


def paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path (tuples of keys and list indices) in a nested mapping."""
    out = []
    if isinstance(node, dict):
        for k, v in node.items():
            out.append(prefix + (k,))
            out += paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.append(prefix + (i,))
            out += paths(v, prefix + (i,))
    return out


def mutate(data: dict[str, Any], path: tuple, op: str, value: Any, factor: float) -> None:
    parent = data
    for k in path[:-1]:
        parent = parent[k]
    key = path[-1]
    if op == "delete":
        del parent[key]
    elif op == "rename" and isinstance(parent, dict):
        parent[str(key)[:-1] + "x" if len(str(key)) > 1 else "zz"] = parent.pop(key)
    elif op == "scale" and isinstance(parent[key], (int, float)) and not isinstance(parent[key], bool):
        new = parent[key] * factor
        parent[key] = int(new) if isinstance(parent[key], int) and math.isfinite(new) else new
    else:
        parent[key] = copy.deepcopy(value)


@st.composite
def mutated(draw) -> dict[str, Any]:
    data = copy.deepcopy(draw(st.sampled_from([LADDER, NAMED])))
    for _ in range(draw(st.integers(1, 2))):
        all_paths = paths(data)
        if not all_paths:
            break
        path = draw(st.sampled_from(all_paths))
        op = draw(st.sampled_from(["delete", "rename", "retype", "scale", "scale", "scale"]))
        value = draw(st.sampled_from(ODD_VALUES))
        factor = draw(st.sampled_from([-1, 0, 0.001, 0.5, 0.9, 1.1, 2, 7, 1e6]))
        mutate(data, path, op, value, factor)
    return data


def check(data: dict[str, Any]) -> str:
    """'invalid' (a ScenarioError with located problems) or 'ran'; anything else is a bug."""
    try:
        sc = validate_data(data, "fuzz.yaml")
        build_hierarchy(sc, "fuzz.yaml")
    except ScenarioError as exc:
        assert exc.problems, "a ScenarioError must say what is wrong"
        for p in exc.problems:
            assert p.message and p.file and str(p).startswith(p.file)
        return "invalid"
    loads = estimate(sc)
    assert len(loads) == len(sc.levels) and all(ld.utilisation >= 0 for ld in loads)
    expected_cases = sc.arrivals.rate_per_household_year * sc.households / 365.0
    if expected_cases > 3000:  # a valid but huge scenario: one day would take too long for a unit test
        return "valid-not-run"
    fast = sc.model_copy(update={"warmup_days": 0.0, "max_open_cases": min(sc.max_open_cases, 2000)})
    rec = single_run(fast, seed=1, rep=0, horizon_days=1.0)
    assert rec.metrics["cases_arrived"] >= 0 and len(rec.backlog) >= 1
    return "ran"


def test_the_base_scenarios_run():
    assert check(copy.deepcopy(LADDER)) == "ran"
    assert check(copy.deepcopy(NAMED)) == "ran"


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_scenarios_run_or_raise_scenario_error(data):
    check(data)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(st.sampled_from([p for p in paths(LADDER)]), st.sampled_from(ODD_VALUES))
def test_set_overrides_run_or_raise_scenario_error(path, value):
    """--set with any existing key path and an odd value: a ScenarioError or a valid scenario."""
    dotted = ".".join(map(str, path))
    try:
        data = apply_overrides(LADDER, {dotted: value})
    except ScenarioError:
        return
    check(data)
