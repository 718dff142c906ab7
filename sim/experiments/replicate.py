"""Replications of one scenario: tasks, executors and the tidy result tables.

An experiment is a list of (scenario, seed, replication) tasks. Executors only map
:func:`sim.engine.single_run` over tasks and return records in task order, so the
results are the same whatever the number or kind of workers.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import pandas as pd

from ..engine.model import CASE_COLUMNS, ReplicationRecord, single_run
from ..hierarchy import build_hierarchy
from ..scenario.schema import Scenario
from .stats import summarise


@dataclass(frozen=True)
class Task:
    """One replication to run: a pure function of these fields."""

    scenario: Scenario
    seed: int
    rep: int
    horizon_days: float | None = None
    record_cases: bool = False


def run_task(task: Task) -> ReplicationRecord:
    """Run one task (module-level so that process pools can pickle it)."""
    return single_run(task.scenario, task.seed, task.rep, horizon_days=task.horizon_days, record_cases=task.record_cases)


def execute(tasks: Sequence[Task], workers: int = 1, progress: Callable[[int], None] | None = None) -> list[ReplicationRecord]:
    """Run tasks serially or in a local process pool; results come back in task order."""
    if workers <= 1 or len(tasks) <= 1:
        out = []
        for t in tasks:
            out.append(run_task(t))
            if progress:
                progress(1)
        return out
    results: list[ReplicationRecord | None] = [None] * len(tasks)
    with ProcessPoolExecutor(max_workers=min(workers, len(tasks))) as pool:
        futures = {pool.submit(run_task, t): i for i, t in enumerate(tasks)}
        from concurrent.futures import as_completed

        for fut in as_completed(futures):
            results[futures[fut]] = fut.result()
            if progress:
                progress(1)
    return [r for r in results if r is not None]


@dataclass
class RunResult:
    """Replications of one scenario: the summary with confidence intervals and the raw tables."""

    scenario: Scenario
    seed: int
    horizon_days: float
    records: list[ReplicationRecord]
    summary: pd.DataFrame = field(init=False)
    replications: pd.DataFrame = field(init=False)

    def __post_init__(self) -> None:
        self.replications = pd.DataFrame([{"rep": r.rep, **r.metrics} for r in self.records])
        self.summary = summarise(self.replications)

    @property
    def warmup_days(self) -> float:
        return self.scenario.warmup_days

    def metric(self, name: str) -> dict[str, float]:
        row = self.summary.set_index("metric").loc[name]
        return {"mean": float(row["mean"]), "ci_low": float(row["ci_low"]), "ci_high": float(row["ci_high"]), "n": int(row["n"])}

    def cases(self) -> pd.DataFrame:
        """Per-case table of all replications (only if the run recorded cases)."""
        frames = [pd.DataFrame(r.cases, columns=CASE_COLUMNS).assign(rep=r.rep) for r in self.records if r.cases is not None]
        if not frames:
            raise ValueError("this run did not record cases: pass record_cases=True")
        return pd.concat(frames, ignore_index=True)

    def backlog(self) -> pd.DataFrame:
        """Open cases at the start of each day: one row per (rep, day)."""
        rows = [(r.rep, d, n) for r in self.records for d, n in enumerate(r.backlog)]
        return pd.DataFrame(rows, columns=["rep", "day", "open_cases"])

    def to_json(self) -> dict[str, Any]:
        """The JSON document of ``sim run --json``."""
        metrics = {row.metric: {"mean": _num(row.mean), "ci_low": _num(row.ci_low), "ci_high": _num(row.ci_high), "n": int(row.n)}
                   for row in self.summary.itertuples()}
        return {"scenario": self.scenario.name, "replications": len(self.records), "seed": self.seed,
                "horizon_days": self.horizon_days, "warmup_days": self.scenario.warmup_days, "metrics": metrics}


def _num(x: float) -> float | None:
    return None if x != x else float(x)


def make_tasks(scenario: Scenario, reps: int, seed: int, horizon_days: float | None = None, record_cases: bool = False) -> list[Task]:
    return [Task(scenario, seed, i, horizon_days, record_cases) for i in range(reps)]


def run(scenario: Scenario, reps: int | None = None, seed: int | None = None, *, horizon_days: float | None = None,
        workers: int = 1, record_cases: bool = False, progress: Callable[[int], None] | None = None) -> RunResult:
    """Run ``reps`` replications of a scenario and summarise them (mean and 95% t interval)."""
    build_hierarchy(scenario)  # fail early, in the parent process, on an impossible hierarchy
    reps = reps or scenario.replications
    seed = scenario.seed if seed is None else seed
    tasks = make_tasks(scenario, reps, seed, horizon_days, record_cases)
    records = execute(tasks, workers, progress)
    return RunResult(scenario, seed, horizon_days if horizon_days is not None else scenario.horizon_days, records)


def default_workers() -> int:
    return max(1, (os.cpu_count() or 1))
