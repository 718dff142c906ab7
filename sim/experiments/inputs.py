"""What an experiment starts from: a scenario file, a loaded scenario or a Scenario object,
resolved to its data (for manifests and sweep points), file name and validated scenario."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..scenario import (
    LoadedScenario,
    apply_overrides,
    load_scenario_full,
    validate_data,
)
from ..scenario.loader import scenario_hash
from ..scenario.schema import Scenario

ScenarioLike = Scenario | LoadedScenario | str | Path


@dataclass(frozen=True)
class Base:
    """The resolved scenario an experiment starts from."""

    data: dict[str, Any]
    file: str
    scenario: Scenario

    @property
    def hash(self) -> str:
        return scenario_hash(self.data)


def resolve_base(scenario_or_path: ScenarioLike, overrides: Mapping[str, Any] | Sequence[str] | None = None) -> Base:
    """A Base from a scenario file path, a LoadedScenario or a Scenario object (overrides applied)."""
    if isinstance(scenario_or_path, (str, Path)):
        ld = load_scenario_full(scenario_or_path, overrides or None)
        return Base(ld.data, ld.path, ld.scenario)
    if isinstance(scenario_or_path, LoadedScenario):
        data, file, scenario = scenario_or_path.data, scenario_or_path.path, scenario_or_path.scenario
    elif isinstance(scenario_or_path, Scenario):
        data, file, scenario = scenario_or_path.model_dump(mode="json", exclude_none=True), "<scenario>", scenario_or_path
    else:
        raise TypeError(f"expected a scenario path or Scenario, got {type(scenario_or_path).__name__}")
    if not overrides:
        return Base(data, file, scenario)
    data = apply_overrides(data, overrides)
    return Base(data, file, validate_data(data, file))


def scenario_of(scenario_or_path: ScenarioLike) -> Scenario:
    """The validated scenario (a Scenario object is used as it is)."""
    if isinstance(scenario_or_path, Scenario):
        return scenario_or_path
    if isinstance(scenario_or_path, LoadedScenario):
        return scenario_or_path.scenario
    return resolve_base(scenario_or_path).scenario


def check_horizon(scenario: Scenario, horizon_days: float | None, file: str = "<scenario>", reps: int | None = None,
                  allow_large: bool = False) -> None:
    """A horizon must leave time after the scenario's warm-up, and ``reps`` and ``horizon_days`` must keep the
    run to a size that can finish (sim.scenario.limits) unless ``allow_large`` (raises ScenarioError)."""
    from ..scenario import Problem, ScenarioError
    from ..scenario.limits import run_size_problems

    if horizon_days is not None and horizon_days <= scenario.warmup_days:
        raise ScenarioError([Problem(file, "--horizon-days", f"{horizon_days:g} days is not longer than the scenario's "
                                                             f"warmup_days ({scenario.warmup_days:g})")])
    if reps or horizon_days:
        too_large = run_size_problems(scenario, reps, horizon_days, allow_large)
        if too_large:
            raise ScenarioError([Problem(file, key, message) for key, message in too_large])


def validate(path: str | Path, overrides: Mapping[str, Any] | Sequence[str] | None = None, allow_large: bool = False
             ) -> tuple[LoadedScenario, list[str]]:
    """Check a scenario file as ``sim validate`` does: schema, references, hierarchy and run size (raises
    ScenarioError with every problem); returns the loaded scenario and the analytic stability warnings."""
    from ..stability import estimate, warnings

    ld = load_scenario_full(path, overrides or None, allow_large=allow_large)
    return ld, warnings(estimate(ld.scenario))
