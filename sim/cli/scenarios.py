"""Loading scenarios for commands, and the stability messages printed on stderr around a run."""

from __future__ import annotations

import sys
from typing import Any, Sequence


def load(path: str, overrides: Sequence[str] = (), allow_large: bool = False) -> Any:
    """A LoadedScenario (errors propagate as ScenarioError: exit 2 with every problem)."""
    from ..scenario import load_scenario_full

    return load_scenario_full(path, list(overrides), allow_large=allow_large)


def load_checked(paths: Sequence[str], overrides: Sequence[str], horizon_days: float | None, reps: int | None = None,
                 allow_large: bool = False) -> list[Any]:
    """Load every file, build its hierarchy and check the horizon, reporting every problem of every file at once."""
    from ..experiments.inputs import check_horizon
    from ..scenario import ScenarioError

    loaded, problems = [], []
    for p in paths:
        try:
            ld = load(p, overrides, allow_large)
            check_horizon(ld.scenario, horizon_days, p, reps, allow_large)
            loaded.append(ld)
        except ScenarioError as exc:
            problems += exc.problems
    if problems:
        raise ScenarioError(problems)
    for p, ld in zip(paths, loaded):
        warn_unstable(ld.scenario, p)
    return loaded


def warn_unstable(scenario: Any, file: str) -> list[str]:
    """Print the analytic utilisation warnings (sim.stability) to stderr before a run."""
    from ..stability import estimate, warnings

    lines = warnings(estimate(scenario))
    for line in lines:
        print(f"{file}: warning: {line}", file=sys.stderr)
    return lines


def say_unstable(result: Any) -> None:
    """Say on stderr which replications stopped at max_open_cases, where and when."""
    from ..experiments.replicate import instability

    msg = instability(result)
    if msg:
        print(f"sim: {result.scenario.name}: {msg}", file=sys.stderr)
