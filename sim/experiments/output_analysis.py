"""Output analysis: how long a warm-up, how many replications.

* Warm-up: MSER-5 (White 1997; the truncation point that minimises the marginal standard
  error of batch means of 5) on the daily backlog averaged over replications, and Welch's
  moving average of the same series for a plot. ``sim-tools`` 1.3.0 has no warm-up method,
  so MSER-5 and Welch are implemented here (a few lines of numpy each).
* Replications: the sequential *replications algorithm* of Hoad, Robinson & Davies (2010),
  from ``sim_tools.output_analysis.ReplicationsAlgorithm``, wrapped so that replications run
  in batches on the chosen executor; replication ``i`` is the same run whatever the batching.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from ..scenario.schema import Scenario

BATCH = 5


# --------------------------------------------------------------------------- warm-up
def mser(series: Sequence[float], batch: int = BATCH, max_fraction: float = 0.5) -> int:
    """MSER-``batch`` truncation point, in observations of the series (a multiple of ``batch``).

    The series is cut into batch means z_1..z_m; for each d the statistic is the variance of
    z_{d+1..m} divided by (m - d); the d that minimises it (searched over the first
    ``max_fraction`` of the batches, as usual) is the warm-up.
    """
    y = np.asarray(series, dtype=float)
    m = y.size // batch
    if m < 4:
        return 0
    z = y[: m * batch].reshape(m, batch).mean(axis=1)
    best_d, best = 0, np.inf
    for d in range(int(m * max_fraction) + 1):
        rest = z[d:]
        k = rest.size
        if k < 2:
            break
        stat = float(((rest - rest.mean()) ** 2).sum()) / (k * k)
        if stat < best:
            best_d, best = d, stat
    return best_d * batch


def welch(series_by_rep: np.ndarray, window: int) -> np.ndarray:
    """Welch's moving average of the mean over replications (rows), with a shrinking window at the start."""
    y = np.asarray(series_by_rep, dtype=float)
    y = y.mean(axis=0) if y.ndim == 2 else y
    n = y.size
    out = np.empty(n)
    for i in range(n):
        h = min(window, i, n - 1 - i)
        out[i] = y[i - h: i + h + 1].mean()
    return out


@dataclass
class WarmupResult:
    """Suggested warm-up (days) and the series it was read from."""

    days: int
    per_rep_days: list[int]
    series: pd.DataFrame  # day, mean_open_cases, welch
    reps: int
    horizon_days: float
    window: int = 7

    @property
    def too_short(self) -> bool:
        """Fewer than 20 days: MSER-5 needs at least 4 batches of 5 days."""
        return len(self.series) < 20

    @property
    def unsettled(self) -> bool:
        """The suggestion lies near the end of the search range: the backlog may not have settled."""
        return not self.too_short and self.days >= 0.45 * len(self.series)

    def to_json(self, scenario: Scenario) -> dict[str, Any]:
        """The JSON document of ``sim warmup --json``."""
        return {"scenario": scenario.name, "suggested_warmup_days": self.days, "method": "MSER-5 on the mean daily backlog",
                "per_replication_days": self.per_rep_days, "current_warmup_days": scenario.warmup_days,
                "replications": self.reps, "horizon_days": self.horizon_days}


def warmup_figure(result: WarmupResult, path: str | Path | None = None) -> Any:
    """The mean daily backlog, Welch's moving average and the MSER-5 warm-up; saved to ``path`` (PNG) or returned."""
    import matplotlib

    if path is not None:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot(result.series["day"], result.series["mean_open_cases"], lw=0.8, label="open cases (mean of replications)")
    ax.plot(result.series["day"], result.series["welch"], lw=2, label=f"Welch moving average (window {result.window})")
    ax.axvline(result.days, color="red", ls="--", label=f"MSER-5 warm-up: {result.days} days")
    ax.set_xlabel("day")
    ax.set_ylabel("open cases")
    ax.legend()
    fig.tight_layout()
    if path is None:
        return fig
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return None


def suggest_warmup(scenario: Scenario, reps: int = 5, seed: int | None = None, *, horizon_days: float | None = None,
                   window: int = 7, workers: int = 1, executor: Any = None, scheduler: Any = None,
                   progress: Callable[[int], None] | None = None) -> WarmupResult:
    """Run ``reps`` replications and apply MSER-5 to the daily open-case backlog (mean over replications)."""
    from .replicate import run

    # the backlog series does not depend on the warm-up setting; dropping it lets any horizon be studied
    res = run(scenario.model_copy(update={"warmup_days": 0.0}), reps, seed, horizon_days=horizon_days, workers=workers,
              progress=progress, executor=executor, scheduler=scheduler)
    b = res.backlog().pivot(index="rep", columns="day", values="open_cases").to_numpy(dtype=float)
    mean = b.mean(axis=0)
    series = pd.DataFrame({"day": np.arange(mean.size), "mean_open_cases": mean, "welch": welch(b, window)})
    return WarmupResult(mser(mean), [mser(row) for row in b], series, reps, res.horizon_days, window)


# --------------------------------------------------------------------------- replications
class _Adapter:
    """sim-tools' model adapter: ``single_run(rep) -> metrics``, computed ahead in batches."""

    def __init__(self, run_batch: Callable[[list[int]], list[dict[str, float]]], batch: int):
        self.run_batch = run_batch
        self.batch = max(1, batch)
        self.cache: dict[int, dict[str, float]] = {}
        self.runs = 0

    def single_run(self, replication_number: int) -> dict[str, float]:
        if replication_number not in self.cache:
            reps = list(range(replication_number, replication_number + self.batch))
            for r, m in zip(reps, self.run_batch(reps)):
                self.cache[r] = m
            self.runs += len(reps)
        return self.cache[replication_number]


@dataclass
class RepsResult:
    """Replications needed for the precision (None if not reached within the budget)."""

    metric: str
    precision: float
    replications: int | None
    table: pd.DataFrame  # per replication count: mean, CI and relative half-width (sim-tools' frame)
    runs: int

    def to_json(self, scenario_name: str) -> dict[str, Any]:
        """The JSON document of ``sim reps --json``: the answer, the last mean and its relative half-width."""
        last = self.table.iloc[-1]
        dev = last["% deviation"]
        return {"scenario": scenario_name, "metric": self.metric, "precision": self.precision,
                "replications": self.replications, "replications_run": self.runs, "mean": float(last["Cumulative Mean"]),
                "relative_half_width": None if dev != dev else float(dev)}


def replications_needed(run_one: Callable[[list[int]], list[dict[str, float]]], metric: str, precision: float = 0.05, *,
                        initial: int = 5, look_ahead: int = 5, budget: int = 200, batch: int = 1,
                        alpha: float = 0.05) -> RepsResult:
    """Hoad-Robinson-Davies replications algorithm (sim-tools) on any replication function.

    ``run_one(reps)`` returns the metrics of each listed replication; precision is the relative
    half-width of the (1 - alpha) confidence interval of the mean.
    """
    from sim_tools.output_analysis import ReplicationsAlgorithm

    adapter = _Adapter(run_one, batch)
    algo = ReplicationsAlgorithm(alpha=alpha, half_width_precision=precision, initial_replications=initial,
                                 look_ahead=look_ahead, replication_budget=budget)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "precision not reached" is reported as None instead
        nreps, frame = algo.select(adapter, [metric])
    return RepsResult(metric, precision, nreps.get(metric), frame, adapter.runs)


def scenario_replications_needed(scenario: Scenario, metric: str, precision: float = 0.05, seed: int | None = None, *,
                                 horizon_days: float | None = None, initial: int = 5, look_ahead: int = 5,
                                 budget: int = 200, workers: int = 1, executor: Any = None,
                                 scheduler: Any = None) -> RepsResult:
    """Replications of a scenario needed for ``metric``'s relative CI half-width to stay below ``precision``."""
    from .executors import executor_session
    from .replicate import Task, execute

    seed = scenario.seed if seed is None else seed
    with executor_session(executor, workers, scheduler) as ex:
        def run_batch(reps: list[int]) -> list[dict[str, float]]:
            recs = execute([Task(scenario, seed, r, horizon_days) for r in reps], executor=ex)
            out = []
            for rec in recs:
                if metric not in rec.metrics:
                    raise KeyError(f"unknown metric '{metric}'; metrics: {', '.join(rec.metrics)}")
                out.append({metric: float(rec.metrics[metric])})
            return out

        # one batch keeps every worker busy; replication i is the same run whatever the batch size
        return replications_needed(run_batch, metric, precision, initial=initial, look_ahead=look_ahead,
                                   budget=budget, batch=ex.workers)
