"""dispute-sim: simulate how residents' disputes are settled and escalated through a
governance hierarchy (building -> grid -> community -> street ...).

    from sim import load_scenario, run
    result = run(load_scenario("scenarios/fangxing.yaml"), reps=10)
    result.summary        # pandas DataFrame: metric, mean, ci_low, ci_high, n

Everything the ``sim`` command does is one of these functions (``help(sim.<name>)``).
Heavy imports (simpy, pandas, scipy) wait until a name is first used.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

# public name -> (module, attribute)
_API: dict[str, tuple[str, str]] = {
    # scenarios
    "load_scenario": ("sim.scenario", "load_scenario"),
    "load": ("sim.scenario", "load_scenario_full"),
    "Scenario": ("sim.scenario", "Scenario"),
    "LoadedScenario": ("sim.scenario", "LoadedScenario"),
    "ScenarioError": ("sim.scenario", "ScenarioError"),
    "validate": ("sim.experiments.inputs", "validate"),
    "build_hierarchy": ("sim.hierarchy", "build_hierarchy"),
    "parameter_table": ("sim.provenance", "parameter_table"),
    "stability_warnings": ("sim.stability", "warnings"),
    # experiments
    "single_run": ("sim.engine.model", "single_run"),
    "run": ("sim.experiments.replicate", "run"),
    "instability": ("sim.experiments.replicate", "instability"),
    "metric_names": ("sim.experiments.replicate", "metric_names"),
    "RunResult": ("sim.experiments.replicate", "RunResult"),
    "compare": ("sim.experiments.compare", "compare"),
    "CompareResult": ("sim.experiments.compare", "CompareResult"),
    "wide_table": ("sim.experiments.compare", "wide"),
    "sweep": ("sim.experiments.sweep", "sweep"),
    "calibrate": ("sim.experiments.calibrate", "calibrate"),
    "check_targets": ("sim.experiments.calibrate", "check"),
    "load_targets": ("sim.experiments.calibrate", "load_targets"),
    "staff": ("sim.experiments.staff", "staff"),
    "sensitivity": ("sim.experiments.sensitivity", "run_sensitivity"),
    "choose_factors": ("sim.experiments.sensitivity", "choose_factors"),
    "suggest_warmup": ("sim.experiments.output_analysis", "suggest_warmup"),
    "warmup_figure": ("sim.experiments.output_analysis", "warmup_figure"),
    "replications_needed": ("sim.experiments.output_analysis", "scenario_replications_needed"),
    "make_executor": ("sim.experiments.executors", "make_executor"),
    "analytic": ("sim.analytic", "analyse"),
    "compare_with_simulation": ("sim.analytic", "compare_with_simulation"),
    # results folders and presentation
    "read_folder": ("sim.results", "read_folder"),
    "timeline": ("sim.trace", "timeline"),
    "plot_folder": ("sim.results.figures", "plot_folder"),
    "write_report": ("sim.report", "write_report"),
    "summary_view": ("sim.format", "summary_view"),
    "interval_text": ("sim.format", "interval_text"),
    "metric_text": ("sim.format", "metric_text"),
    "fmt": ("sim.format", "fmt"),
    "planner_app": ("sim.app.page", "build"),
}

__all__ = [*_API, "__version__"]


def __getattr__(name: str) -> Any:
    try:
        module, attr = _API[name]
    except KeyError:
        raise AttributeError(f"module 'sim' has no attribute {name!r}") from None
    return getattr(import_module(module), attr)


def __dir__() -> list[str]:
    return sorted(__all__)
