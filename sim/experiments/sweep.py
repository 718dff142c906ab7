"""Parameter sweeps: the Cartesian product of settings, resumable, as one tidy table.

A sweep point is a dict of dotted key paths to values, applied to the resolved scenario
data with :func:`sim.scenario.apply_overrides` and validated again. Every point runs the
same seed and replication numbers (common random numbers across points).

Work: one task per point (its replications run one after another in one worker, sharing the
point's hierarchy), or ``points_per_task`` points per task (on Dask by default up to 8, so that
the cluster's cost per task is spread over several points). A task carries the base scenario data and the
point's overrides, not a validated scenario, and is validated on the worker; the driver checks
every point up front (so a bad point is reported before anything runs) but keeps none of them.
Replication ``r`` of a point has the same random streams whatever the grouping, executor and
number of workers, so the table is identical whatever they are.

Streaming and resume: each finished point is written atomically to
``OUT/points/<hash>.parquet`` (hash of the point's overrides, replications, seed, horizon and
base scenario; see :mod:`sim.results.points`) the moment it arrives, and the driver keeps only
its summary rows, so driver memory does not grow with the replications. A rerun reads finished
points instead of running them. The final ``sweep.csv``, ``sweep.parquet`` and
``manifest.json`` are written atomically too, so an interruption (Ctrl-C, a crash, a killed
worker or cluster) never leaves a half-written file.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import pandas as pd

from ..results import write_failures, write_sweep
from ..results.points import POINTS_DIR, point_meta, read_point, remove_stale, write_point
from ..scenario import ScenarioError, apply_overrides, validate_data
from ..scenario.loader import Problem, parse_value
from ..scenario.schema import Scenario
from .executors import DEFAULT_RETRIES, Executor, executor_session
from .inputs import Base, resolve_base
from .replicate import Task
from .stats import summarise

TABLE_COLUMNS = ["metric", "mean", "ci_low", "ci_high", "n"]


# --------------------------------------------------------------------------- points
def point_scenario(base: Base, point: Mapping[str, Any]) -> Scenario:
    """The base scenario with a point's overrides applied and validated."""
    return _validated(base.data, base.file, point)


def _validated(data: Mapping[str, Any], file: str, point: Mapping[str, Any]) -> Scenario:
    return validate_data(apply_overrides(data, dict(point), file=f"{file} (sweep point)"), file)


def parse_grid(items: Sequence[str]) -> dict[str, list[Any]]:
    """``["a.b=1,2,3", ...]`` to ``{"a.b": [1, 2, 3]}``; values are YAML scalars."""
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, sep, values = item.partition("=")
        key = key.strip()
        if not sep or not key or not values.strip():
            raise ScenarioError([Problem("--grid", item, "expected key.path=v1,v2,...")])
        grid[key] = [parse_value(v.strip()) for v in values.split(",") if v.strip()]
    return grid


def grid_points(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """The Cartesian product, the last key varying fastest."""
    keys = list(grid)
    return [dict(zip(keys, combo)) for combo in itertools.product(*(list(grid[k]) for k in keys))]


def point_hash(point: Mapping[str, Any], reps: int, seed: int, horizon_days: float | None, base_hash: str) -> str:
    """Identity of a finished point: its overrides, replications, seed, horizon and base scenario."""
    blob = json.dumps({"overrides": dict(point), "reps": reps, "seed": seed, "horizon_days": horizon_days,
                       "scenario": base_hash}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def _point_task(task: Task) -> dict[str, float]:
    """One replication of one point; only the metrics travel back (module-level: picklable)."""
    from ..engine.model import single_run

    rec = single_run(task.scenario, task.seed, task.rep, horizon_days=task.horizon_days, hierarchy=task.hierarchy)
    return {k: float(v) for k, v in rec.metrics.items()}


@dataclass(frozen=True)
class PointJob:
    """One point to run on a worker: the base data and the point's overrides (validated there),
    seed, replications 0..reps-1 and the replication function (looked up when the sweep starts)."""

    data: Mapping[str, Any]
    file: str
    overrides: Mapping[str, Any]
    seed: int
    reps: int
    horizon_days: float | None
    run_rep: Callable[[Task], dict[str, float]]


def auto_points_per_task(ex: Executor, n_points: int) -> int:
    """Points in one task when not given: 1 on this machine (a local task costs about a
    millisecond), and on Dask up to 8, keeping at least 8 tasks per worker slot, so that the
    cluster's cost per task (scheduler, network) is spread over several points."""
    from .executors import DaskExecutor

    if not isinstance(ex, DaskExecutor):
        return 1
    return max(1, min(8, n_points // (8 * max(1, ex.workers))))


def _run_points(jobs: Sequence[PointJob]) -> list[dict[str, Any]]:
    """The task of a sweep (module-level: picklable): for each point, its replications in order
    (``replications``: metric -> values) and its summary rows (``summary``: column -> values),
    summarised here so the driver does no per-point arithmetic. The point's hierarchy is built
    once and shared by its replications, as ``sim.run`` does."""
    from ..hierarchy import build_hierarchy

    out = []
    for job in jobs:
        scenario = _validated(job.data, job.file, job.overrides)
        hierarchy = build_hierarchy(scenario, job.file)
        per_rep = [job.run_rep(Task(scenario, job.seed, rep, job.horizon_days, hierarchy=hierarchy))
                   for rep in range(job.reps)]
        replications = {m: [float(rec.get(m, float("nan"))) for rec in per_rep] for m in per_rep[0]}
        table = summarise(pd.DataFrame(replications))
        out.append({"replications": replications, "summary": {c: table[c].tolist() for c in TABLE_COLUMNS}})
    return out


def point_summary(doc: Mapping[str, Any]) -> pd.DataFrame:
    """metric, mean, ci_low, ci_high, n of a point document (its stored summary when it has one)."""
    if isinstance(doc.get("summary"), Mapping):
        return pd.DataFrame({c: doc["summary"][c] for c in TABLE_COLUMNS}, columns=TABLE_COLUMNS)
    return summarise(pd.DataFrame(doc["replications"]))


class PointsFailed(RuntimeError):
    """Some points could not be run; every finished point was still written."""

    def __init__(self, failures: dict[int, tuple[dict[str, Any], str]]):
        self.failures = failures
        lines = [f"  {_label(p)}: {why}" for _, (p, why) in sorted(failures.items())]
        super().__init__(f"{len(failures)} point(s) failed:\n" + "\n".join(lines))


def _label(point: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in point.items()) or "(base scenario)"


# --------------------------------------------------------------------------- evaluation
def evaluate_points(base: Base, points: Sequence[Mapping[str, Any]], reps: int, seed: int, horizon_days: float | None,
                    ex: Executor, *, cache_dir: str | Path | None = None,
                    progress: Callable[[int], None] | None = None,
                    on_point: Callable[[int, dict[str, Any]], None] | None = None, keep: bool = True,
                    points_per_task: int | None = None) -> tuple[list[dict[str, Any] | None], dict[int, tuple[dict, str]]]:
    """Run (or read back) every point; returns the point documents in order and the failures.

    A point document holds its overrides, seed, replications and the per-replication metrics
    (``replications``: metric -> list of values). Finished points are written to ``cache_dir``
    as soon as their last replication is in, before anything else happens. ``on_point(i, doc)``
    is called for each point, read back or finished (in completion order); with ``keep=False``
    the documents are not kept (the list holds None), so memory does not grow with the points.
    """
    problems: list[Problem] = []
    for p in points:  # every bad point is reported before anything runs; the scenarios are not kept
        try:
            point_scenario(base, p)
        except ScenarioError as exc:
            problems += [Problem(pr.file, pr.path, f"{pr.message} (sweep point {_label(p)})", pr.line, pr.column)
                         for pr in exc.problems]
    if problems:
        raise ScenarioError(problems)
    cache = Path(cache_dir) / POINTS_DIR if cache_dir is not None else None
    if cache is not None:
        remove_stale(cache)
    hashes = [point_hash(p, reps, seed, horizon_days, base.hash) for p in points]
    docs: list[dict[str, Any] | None] = [None] * len(points)

    def accept(i: int, doc: dict[str, Any]) -> None:
        if keep:
            docs[i] = doc
        if on_point:
            on_point(i, doc)
        if progress:
            progress(1)

    todo: list[int] = []
    for i, h in enumerate(hashes):
        doc = read_point(cache, h) if cache is not None else None
        if doc is None:
            todo.append(i)
        else:
            accept(i, doc)
    size = max(1, int(points_per_task)) if points_per_task else auto_points_per_task(ex, len(todo))
    groups = [todo[j:j + size] for j in range(0, len(todo), size)]
    jobs = [tuple(PointJob(base.data, base.file, dict(points[i]), seed, reps, horizon_days, _point_task) for i in g)
            for g in groups]

    def finished(k: int, results: list[dict[str, Any]]) -> None:
        for i, result in zip(groups[k], results):
            meta = point_meta(points[i], hashes[i], reps=reps, seed=seed, horizon_days=horizon_days,
                              scenario_hash=base.hash)
            if cache is not None:
                write_point(cache, meta, result["replications"], result["summary"])
            accept(i, {**meta, **result})

    outcome = ex.map(_run_points, jobs, on_result=finished, keep_results=False)
    failures: dict[int, tuple[dict, str]] = {}
    for k, f in outcome.failures.items():
        for i in groups[k]:
            failures.setdefault(i, (dict(points[i]), f.reason))
    return docs, failures


def tidy_table(keys: Sequence[str], docs: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per point and metric: the varied key paths, then metric, mean, ci_low, ci_high, n."""
    rows = _Rows(keys, len(docs))
    for i, doc in enumerate(docs):
        rows.add(i, doc)
    return rows.table()


def _summary_of(doc: Mapping[str, Any]) -> Mapping[str, list[Any]]:
    """A point's summary columns (computed here only for a point stored without one)."""
    if isinstance(doc.get("summary"), Mapping):
        return doc["summary"]
    return point_summary(doc).to_dict("list")


class _Rows:
    """The sweep table's rows, kept compactly point by point (key values, metric names shared
    between points, numbers in arrays: about 2 kB a point) and made into one DataFrame at the end."""

    def __init__(self, keys: Sequence[str], n_points: int):
        self.keys = list(keys)
        self.points: list[tuple[tuple, tuple[str, ...], Any, Any] | None] = [None] * n_points
        self._names: dict[tuple[str, ...], tuple[str, ...]] = {}

    def add(self, i: int, doc: Mapping[str, Any]) -> None:
        """Point ``i`` (its place in the grid) from its document."""
        import numpy as np

        summary = _summary_of(doc)
        names = tuple(summary["metric"])
        names = self._names.setdefault(names, names)
        numbers = np.array([summary["mean"], summary["ci_low"], summary["ci_high"]], dtype=float).reshape(3, len(names)).T
        self.points[i] = (tuple(doc["overrides"][k] for k in self.keys), names, numbers,
                          np.array(summary["n"], dtype=np.int64))

    def table(self) -> pd.DataFrame:
        """The DataFrame in grid order, with the dtypes the per-point tables would have when concatenated."""
        import numpy as np

        points = [p for p in self.points if p is not None]
        if not points:
            return pd.DataFrame(columns=[*self.keys, *TABLE_COLUMNS])
        data: dict[str, Any] = {}
        for j, k in enumerate(self.keys):
            dtype = pd.concat([pd.Series([p[0][j]]) for p in points], ignore_index=True).dtype
            data[k] = pd.Series([p[0][j] for p in points for _ in p[1]], dtype=dtype)
        data["metric"] = pd.Series([m for p in points for m in p[1]])
        numbers = np.concatenate([p[2] for p in points])
        for c, col in enumerate(("mean", "ci_low", "ci_high")):
            data[col] = numbers[:, c]
        data["n"] = np.concatenate([p[3] for p in points])
        return pd.DataFrame(data, columns=[*self.keys, *TABLE_COLUMNS])


# --------------------------------------------------------------------------- the public function
def sweep(scenario_or_path: Scenario | str | Path, grid: Mapping[str, Sequence[Any]], reps: int | None = None,
          seed: int | None = None, out: str | Path | None = None, workers: int = 1, *,
          horizon_days: float | None = None, overrides: Mapping[str, Any] | Sequence[str] | None = None,
          executor: Executor | str | None = None, scheduler: Any = None, retries: int = DEFAULT_RETRIES,
          progress: Callable[[int], None] | None = None, points_per_task: int | None = None) -> pd.DataFrame:
    """Run every point of ``grid`` (key path -> values) and return the tidy sweep table.

    With ``out``, finished points are kept in ``out/points`` as they finish (a rerun resumes)
    and the table is written as ``sweep.csv``/``sweep.parquet`` with a ``manifest.json``. If
    some points fail even after retries, every other point is still written and
    :class:`PointsFailed` says which failed and why. ``points_per_task`` groups points into one
    task (default: 1 locally, up to 8 on Dask, see :func:`auto_points_per_task`); the table does
    not depend on it.
    """
    t0 = time.perf_counter()
    base = resolve_base(scenario_or_path, overrides)
    reps = reps or base.scenario.replications
    seed = base.scenario.seed if seed is None else seed
    points = grid_points(grid)
    keys = list(grid)
    outdir = Path(out) if out is not None else None
    rows = _Rows(keys, len(points))  # only the summary rows of each point are kept
    with executor_session(executor, workers, scheduler, retries) as ex:
        _, failures = evaluate_points(base, points, reps, seed, horizon_days, ex, cache_dir=outdir, progress=progress,
                                      on_point=rows.add, keep=False, points_per_task=points_per_task)
    if failures:
        if outdir is not None:
            write_failures(outdir, [{"point": p, "reason": why} for _, (p, why) in sorted(failures.items())])
        raise PointsFailed(failures)
    table = rows.table()
    if outdir is not None:
        hashes = [point_hash(p, reps, seed, horizon_days, base.hash) for p in points]
        listed = [{"overrides": point_meta(p, h, reps=reps, seed=seed, horizon_days=horizon_days,
                                           scenario_hash=base.hash)["overrides"], "hash": h}
                  for p, h in zip(points, hashes)]
        write_sweep(outdir, table, base, grid, listed, reps=reps, seed=seed,
                    horizon_days=horizon_days, elapsed=time.perf_counter() - t0)
    return table
