"""Replications of one scenario: tasks, executors and the tidy result tables.

An experiment is a list of (scenario, seed, replication) tasks. Executors only map
:func:`sim.engine.single_run` over tasks and return records in task order, so the
results are the same whatever the number or kind of workers.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from ..engine.model import CASE_COLUMNS, ReplicationRecord, single_run
from ..hierarchy import Hierarchy, build_hierarchy
from ..scenario.schema import Scenario
from .inputs import ScenarioLike, resolve_base, scenario_of
from .stats import summarise

if TYPE_CHECKING:  # pandas is imported when a result is summarised, not when the package is
    import pandas as pd


@dataclass(frozen=True)
class Task:
    """One replication to run: a pure function of these fields."""

    scenario: Scenario
    seed: int
    rep: int
    horizon_days: float | None = None
    record_cases: bool | str = False  # True: rows in memory; a folder: rows streamed there
    hierarchy: Hierarchy | None = None  # built once per run and shared (None: each replication builds it)


def run_task(task: Task) -> ReplicationRecord:
    """Run one task (module-level so that process pools can pickle it)."""
    return single_run(task.scenario, task.seed, task.rep, horizon_days=task.horizon_days, record_cases=task.record_cases,
                      hierarchy=task.hierarchy)


def execute(tasks: Sequence[Task], workers: int = 1, progress: Callable[[int], None] | None = None, *,
            executor: Any = None, scheduler: Any = None, retries: int | None = None) -> list[ReplicationRecord]:
    """Run tasks serially, in a local process pool or on Dask; results come back in task order.

    ``executor`` is 'local', 'dask' or an open :class:`~sim.experiments.executors.Executor`
    (None: local, or Dask when ``scheduler`` is given).
    """
    from .executors import DEFAULT_RETRIES, TasksFailed, map_tasks

    outcome = map_tasks(run_task, list(tasks), workers=workers, executor=executor, scheduler=scheduler,
                        retries=DEFAULT_RETRIES if retries is None else retries,
                        on_result=(lambda i, r: progress(1)) if progress else None)
    if outcome.failures:
        first = outcome.failures[min(outcome.failures)]
        if first.exception is not None:  # an error in the model: raise it as a serial run would
            raise first.exception
        raise TasksFailed(outcome.failures, lambda i: f"replication {tasks[i].rep} (seed {tasks[i].seed})")
    return outcome.results


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
        import pandas as pd

        self.replications = pd.DataFrame([{"rep": r.rep, **r.metrics} for r in self.records])
        self.summary = summarise(self.replications)

    @property
    def warmup_days(self) -> float:
        return self.scenario.warmup_days

    def metric(self, name: str) -> dict[str, float]:
        row = self.summary.set_index("metric").loc[name]
        return {"mean": float(row["mean"]), "ci_low": float(row["ci_low"]), "ci_high": float(row["ci_high"]), "n": int(row["n"])}

    def cases(self) -> pd.DataFrame:
        """Per-case table of all replications (only if the run recorded cases, in memory or spooled)."""
        import pandas as pd

        frames = [pd.DataFrame(r.cases, columns=CASE_COLUMNS).assign(rep=r.rep) for r in self.records if r.cases is not None]
        frames += [pd.read_parquet(f).assign(rep=r.rep) for r in self.records for f in r.extra.get("case_files", ())]
        if not frames:
            raise ValueError("this run did not record cases: pass record_cases=True")

        return pd.concat(frames, ignore_index=True)

    def backlog(self) -> pd.DataFrame:
        """Open cases at the start of each day: one row per (rep, day)."""
        import pandas as pd

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


def make_tasks(scenario: Scenario, reps: int, seed: int, horizon_days: float | None = None, record_cases: bool | str = False,
               hierarchy: Hierarchy | None = None) -> list[Task]:
    return [Task(scenario, seed, i, horizon_days, record_cases, hierarchy) for i in range(reps)]


def run(scenario: ScenarioLike, reps: int | None = None, seed: int | None = None, *, horizon_days: float | None = None,
        workers: int = 1, record_cases: bool | str = False, progress: Callable[[int], None] | None = None,
        executor: Any = None, scheduler: Any = None, out: str | Path | None = None, force: bool = False,
        hierarchy: Hierarchy | None = None) -> RunResult:
    """Run ``reps`` replications of a scenario and summarise them (mean and 95% t interval).

    ``scenario`` is a Scenario, a LoadedScenario or a file path. With ``out``, the results
    folder (summary, replications, backlog, per-case rows, manifest) is written atomically;
    case rows stream to disk beside it meanwhile, never all in memory. ``executor``: 'local',
    'dask' or an open Executor (with ``scheduler``, a Dask address). The hierarchy is built once
    (or ``hierarchy`` given by the caller) and handed to every replication.
    """
    sc = scenario_of(scenario)
    hierarchy = hierarchy or build_hierarchy(sc)
    reps = reps or sc.replications
    seed = sc.seed if seed is None else seed
    if out is None:
        records = execute(make_tasks(sc, reps, seed, horizon_days, record_cases, hierarchy), workers, progress, executor=executor,
                          scheduler=scheduler)
        return RunResult(sc, seed, horizon_days if horizon_days is not None else sc.horizon_days, records)
    from ..results import case_spool, check_new, write_run

    check_new(out, force)
    t0 = time.perf_counter()
    spool = None if record_cases else case_spool(out)
    try:
        records = execute(make_tasks(sc, reps, seed, horizon_days, record_cases or str(spool), hierarchy), workers, progress,
                          executor=executor, scheduler=scheduler)
        result = RunResult(sc, seed, horizon_days if horizon_days is not None else sc.horizon_days, records)
        write_run(out, result, resolve_base(scenario), force=force, elapsed=time.perf_counter() - t0)
    finally:
        if spool is not None:
            shutil.rmtree(spool, ignore_errors=True)
    return result


def instability(result: RunResult) -> str | None:
    """Which replications stopped at max_open_cases, where and when (None if none did)."""
    stopped = [r for r in result.records if r.metrics.get("unstable")]
    if not stopped:
        return None
    levels = ", ".join(sorted({r.unstable_level for r in stopped if r.unstable_level})) or "?"
    days = [len(r.backlog) - 1 for r in stopped]
    when = f"day {min(days)}" if min(days) == max(days) else f"days {min(days)}-{max(days)}"
    return (f"unstable: arrival rate exceeds capacity at level {levels}: {len(stopped)} of {len(result.records)} "
            f"replications stopped at {when} when {result.scenario.max_open_cases:,} cases were open (max_open_cases); "
            f"their figures cover only the time before")


def metric_names(scenario: ScenarioLike) -> list[str]:
    """Every metric a replication of this scenario reports (from one replication of one day after the
    warm-up: names depend on the levels, roles, meetings, pools and partners)."""
    sc = scenario_of(scenario)
    return list(single_run(sc, sc.seed, 0, horizon_days=sc.warmup_days + 1.0).metrics)
