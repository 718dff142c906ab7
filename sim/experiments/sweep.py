"""Parameter sweeps: the Cartesian product of settings, resumable, as one tidy table.

A sweep point is a dict of dotted key paths to values, applied to the resolved scenario
data with :func:`sim.scenario.apply_overrides` and validated again. Every point runs the
same seed and replication numbers (common random numbers across points).

Resume: each finished point is written atomically to ``OUT/points/<hash>.json`` (hash of
the point's overrides, replications, seed, horizon and base scenario) before the sweep moves
on; a rerun reads finished points instead of running them. The final ``sweep.csv``,
``sweep.parquet`` and ``manifest.json`` are written atomically too, so an interruption
(Ctrl-C, a crash, a killed worker) never leaves a half-written file.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import pandas as pd

from ..results import atomic_write_bytes, write_failures, write_sweep
from ..scenario import ScenarioError, apply_overrides, validate_data
from ..scenario.loader import Problem, parse_value
from ..scenario.schema import Scenario
from .executors import DEFAULT_RETRIES, Executor, executor_session
from .inputs import Base, resolve_base
from .replicate import Task
from .stats import summarise

POINTS_DIR = "points"
TABLE_COLUMNS = ["metric", "mean", "ci_low", "ci_high", "n"]


# --------------------------------------------------------------------------- points
def point_scenario(base: Base, point: Mapping[str, Any]) -> Scenario:
    """The base scenario with a point's overrides applied and validated."""
    data = apply_overrides(base.data, dict(point), file=f"{base.file} (sweep point)")
    return validate_data(data, base.file)


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

    rec = single_run(task.scenario, task.seed, task.rep, horizon_days=task.horizon_days)
    return {k: float(v) for k, v in rec.metrics.items()}


def point_summary(doc: Mapping[str, Any]) -> pd.DataFrame:
    """metric, mean, ci_low, ci_high, n of a point document."""
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
                    progress: Callable[[int], None] | None = None) -> tuple[list[dict[str, Any] | None], dict[int, tuple[dict, str]]]:
    """Run (or read back) every point; returns the point documents in order and the failures.

    A point document holds its overrides, seed, replications and the per-replication metrics
    (``replications``: metric -> list of values). Finished points are written to ``cache_dir``
    as soon as their last replication is in, before anything else happens.
    """
    scenarios = []
    problems: list[Problem] = []
    for p in points:
        try:
            scenarios.append(point_scenario(base, p))
        except ScenarioError as exc:
            problems += [Problem(pr.file, pr.path, f"{pr.message} (sweep point {_label(p)})", pr.line, pr.column)
                         for pr in exc.problems]
    if problems:
        raise ScenarioError(problems)
    cache = Path(cache_dir) / POINTS_DIR if cache_dir is not None else None
    if cache is not None and cache.is_dir():
        for stale in cache.glob(".*.tmp"):  # left by a process killed while writing; never a finished point
            stale.unlink(missing_ok=True)
    hashes = [point_hash(p, reps, seed, horizon_days, base.hash) for p in points]
    docs: list[dict[str, Any] | None] = [None] * len(points)
    todo: list[int] = []
    for i, h in enumerate(hashes):
        docs[i] = _finished_point(cache / f"{h}.json", h) if cache else None
        if docs[i] is not None:
            if progress:
                progress(1)
        else:
            todo.append(i)
    tasks: list[Task] = []
    owner: list[int] = []
    for i in todo:
        for rep in range(reps):
            tasks.append(Task(scenarios[i], seed, rep, horizon_days))
            owner.append(i)
    partial: dict[int, dict[int, dict[str, float]]] = {i: {} for i in todo}

    def finished(k: int, metrics: dict[str, float]) -> None:
        i = owner[k]
        partial[i][tasks[k].rep] = metrics
        if len(partial[i]) < reps:
            return
        got = partial.pop(i)
        per_rep = [got[r] for r in range(reps)]
        names = list(per_rep[0])
        doc = {"overrides": dict(points[i]), "hash": hashes[i], "reps": reps, "seed": seed, "horizon_days": horizon_days,
               "scenario_hash": base.hash, "replications": {m: [rec.get(m, float("nan")) for rec in per_rep] for m in names}}
        text = json.dumps(doc, sort_keys=False, default=float)
        if cache is not None:
            atomic_write_bytes(cache / f"{hashes[i]}.json", text.encode("utf-8"), root=cache)
        docs[i] = json.loads(text)  # the same round trip as a resumed point, so both give identical tables
        if progress:
            progress(1)

    outcome = ex.map(_point_task, tasks, on_result=finished)
    failures: dict[int, tuple[dict, str]] = {}
    for k, f in outcome.failures.items():
        i = owner[k]
        failures.setdefault(i, (dict(points[i]), f"replication {tasks[k].rep}: {f.reason}"))
    return docs, failures


def tidy_table(keys: Sequence[str], docs: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per point and metric: the varied key paths, then metric, mean, ci_low, ci_high, n."""
    frames = []
    for doc in docs:
        s = point_summary(doc)
        for j, k in enumerate(keys):
            s.insert(j, k, [doc["overrides"][k]] * len(s))
        frames.append(s)
    if not frames:
        return pd.DataFrame(columns=[*keys, *TABLE_COLUMNS])
    return pd.concat(frames, ignore_index=True)


def _finished_point(f: Path, h: str) -> dict[str, Any] | None:
    """A finished point read back from the cache; None (run it again) when absent or damaged."""
    try:
        doc = json.loads(f.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ok = isinstance(doc, dict) and doc.get("hash") == h and isinstance(doc.get("replications"), dict)
    return doc if ok else None


# --------------------------------------------------------------------------- the public function
def sweep(scenario_or_path: Scenario | str | Path, grid: Mapping[str, Sequence[Any]], reps: int | None = None,
          seed: int | None = None, out: str | Path | None = None, workers: int = 1, *,
          horizon_days: float | None = None, overrides: Mapping[str, Any] | Sequence[str] | None = None,
          executor: Executor | str | None = None, scheduler: Any = None, retries: int = DEFAULT_RETRIES,
          progress: Callable[[int], None] | None = None) -> pd.DataFrame:
    """Run every point of ``grid`` (key path -> values) and return the tidy sweep table.

    With ``out``, finished points are kept in ``out/points`` (a rerun resumes) and the table
    is written as ``sweep.csv``/``sweep.parquet`` with a ``manifest.json``. If some points
    fail even after retries, every other point is still written and :class:`PointsFailed`
    says which failed and why.
    """
    t0 = time.perf_counter()
    base = resolve_base(scenario_or_path, overrides)
    reps = reps or base.scenario.replications
    seed = base.scenario.seed if seed is None else seed
    points = grid_points(grid)
    outdir = Path(out) if out is not None else None
    with executor_session(executor, workers, scheduler, retries) as ex:
        docs, failures = evaluate_points(base, points, reps, seed, horizon_days, ex, cache_dir=outdir, progress=progress)
    if failures:
        if outdir is not None:
            write_failures(outdir, [{"point": p, "reason": why} for _, (p, why) in sorted(failures.items())])
        raise PointsFailed(failures)
    table = tidy_table(list(grid), [d for d in docs if d is not None])
    if outdir is not None:
        write_sweep(outdir, table, base, grid, [d for d in docs if d is not None], reps=reps, seed=seed,
                    horizon_days=horizon_days, elapsed=time.perf_counter() - t0)
    return table
