"""Scenario files: the schema (what may be said) and the loader (how files become Scenarios).

``load_scenario`` and ``validate_data`` are the one place a scenario is validated: they report
every problem at once (schema, cross-checks, mechanisms, staff on duty, the hierarchy's unit
counts and named trees), so a Scenario that exists can be built and run. Nothing here imports
the engine or SimPy (tests/test_layering.py).
"""

from .loader import LoadedScenario, Problem, ScenarioError, apply_overrides, load_scenario, load_scenario_full, validate_data
from .schema import Scenario

__all__ = [
    "LoadedScenario",
    "Problem",
    "Scenario",
    "ScenarioError",
    "apply_overrides",
    "load_scenario",
    "load_scenario_full",
    "validate_data",
]
