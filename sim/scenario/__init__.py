"""Scenario files: the schema (what may be said) and the loader (how files become Scenarios)."""

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
