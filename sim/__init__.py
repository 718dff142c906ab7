"""dispute-sim: simulate how residents' disputes are settled and escalated through a
governance hierarchy (building -> grid -> community -> street ...).

    from sim import load_scenario, run
    result = run(load_scenario("scenarios/fangxing.yaml"), reps=10)
    result.summary        # pandas DataFrame: metric, mean, ci_low, ci_high, n
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["load_scenario", "run", "single_run", "compare", "sweep", "staff", "Scenario", "ScenarioError", "__version__"]


def __getattr__(name: str) -> Any:
    # Heavy imports (simpy, pandas, scipy) wait until they are used, so `sim --help` is fast.
    if name in ("load_scenario", "Scenario", "ScenarioError"):
        from . import scenario

        return getattr(scenario, name)
    if name == "run":
        from .experiments.replicate import run

        return run
    if name == "single_run":
        from .engine.model import single_run

        return single_run
    if name == "compare":
        from .experiments.compare import compare

        return compare
    if name == "sweep":
        from .experiments.sweep import sweep

        return sweep
    if name == "staff":
        from .experiments.staff import staff

        return staff
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
