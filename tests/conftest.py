"""Shared fixtures: small hand-checkable scenarios built as dicts."""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
TEST_SCENARIOS = ROOT / "tests" / "scenarios"
sys.path.insert(0, str(ROOT / "tests"))


def tiny(**changes: Any) -> dict[str, Any]:
    """A two-level scenario (building -> community) with fixed times, as a plain dict."""
    data: dict[str, Any] = {
        "name": "tiny",
        "time_unit": "hours",
        "severities": ["micro", "small", "big", "major"],
        "categories": ["neighbour"],
        "households": 100,
        "arrivals": {
            "rate_per_household_year": 8.76,  # 100 households -> 0.1 cases an hour
            "severity_mix": {"micro": 1.0, "small": 0.0, "big": 0.0, "major": 0.0},
            "category_mix": {"neighbour": 1.0},
        },
        "roles": {"head": {"staff_per_unit": 50}, "mediator": {"staff_per_unit": 50}},
        "levels": {
            "building": {"units": 2, "role": "head", "handling": {"default": {"dist": "fixed", "value": 2.0}}, "settle": 1.0},
            "community": {"units": 1, "role": "mediator", "handling": {"default": {"dist": "fixed", "value": 5.0}}, "settle": 1.0},
        },
        "horizon_days": 20,
        "warmup_days": 0,
        "replications": 2,
        "seed": 7,
    }
    for path, value in changes.items():
        node = data
        keys = path.split("__")
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = copy.deepcopy(value)
    return data


@pytest.fixture
def tiny_data() -> dict[str, Any]:
    return tiny()


def run_counting_events(model: Any) -> tuple[Any, int]:
    """Run a ``sim.engine.model.Model`` and count the events its environment processes
    (``env.step`` wrapped): the record and the count."""
    env, step, count = model.env, model.env.step, [0]

    def counting_step() -> None:
        count[0] += 1
        step()

    env.step = counting_step
    return model.run(), count[0]
