"""The staffing search that spends replications where they matter.

Three savings, each keeping the answer of an exhaustive search at full replications
(see ``docs/staffing-search.md`` for the procedure, its source and its guarantee):

* **Sequential feasibility check** (group-sequential, in the spirit of the feasibility
  check of Andradottir & Kim 2010): a point first runs a few replications; it gets more only
  while its one-sided confidence bounds straddle a target. A point is *screened out* when a
  target's bound at Bonferroni level ``SCREEN_ALPHA / looks`` lies on the wrong side of the
  target, and *provisionally feasible* when every bound lies on the right side. Only the
  point that would be chosen is always taken to the full replications, where the exhaustive
  rule (95% two-sided t bound) decides.
* **Monotonicity**: more staff never worsens a target, so a point that dominates a feasible
  one is feasible and a point dominated by an infeasible one is infeasible, unrun. The last
  key is bisected for each combination of the others, only below the cost of the best point
  found so far.
* **Common random numbers and a replication cache**: replication ``r`` of every point uses
  the same seed, and each finished replication is kept on disk under
  ``<cache>/points/<scenario hash>/<point hash>/<seed>-<rep>.json``, so a rerun (or a search
  with more replications) reuses every replication already run.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from ..results import atomic_write_bytes
from ..scenario.schema import Scenario
from .executors import Executor
from .inputs import Base
from .replicate import Task

SCREEN_ALPHA = 0.02  # chance, per point, that screening wrongly rules out a point whose mean meets a target
FIRST_REPS = 4  # replications every evaluated point runs first
POINTS_DIR = "points"


class TargetLike(Protocol):
    metric: str
    op: str
    value: float


class PointsFailedError(RuntimeError):
    """Replications that failed: ``failures`` maps a point to why."""

    def __init__(self, failures: dict[tuple, str]):
        self.failures = failures
        super().__init__(f"{len(failures)} point(s) failed")


# --------------------------------------------------------------------------- replications
def point_key(point: Mapping[str, Any], horizon_days: float | None, base_hash: str) -> str:
    """Identity of a point's replications: overrides, horizon and base scenario (not seed or count)."""
    blob = json.dumps({"overrides": dict(point), "horizon_days": horizon_days, "scenario": base_hash},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def _rep_task(task: Task) -> dict[str, float]:
    """One replication of one point; only the metrics travel back (module-level: picklable)."""
    from ..engine.model import single_run

    rec = single_run(task.scenario, task.seed, task.rep, horizon_days=task.horizon_days)
    return {k: float(v) for k, v in rec.metrics.items()}


class ReplicationStore:
    """Per-replication metrics of points, run on demand (in parallel) and kept on disk."""

    def __init__(self, base: Base, keys: Sequence[str], seed: int, horizon_days: float | None, ex: Executor,
                 scenario_of: Callable[[Mapping[str, Any]], Scenario], cache_dir: Path | None = None):
        self.base, self.keys, self.seed, self.horizon_days, self.ex = base, list(keys), seed, horizon_days, ex
        self.scenario_of = scenario_of
        self.root = None if cache_dir is None else Path(cache_dir) / POINTS_DIR / base.hash
        self.runs: dict[tuple, dict[int, dict[str, float]]] = {}
        self.replications_run = 0

    def _folder(self, values: tuple) -> Path | None:
        if self.root is None:
            return None
        return self.root / point_key(dict(zip(self.keys, values)), self.horizon_days, self.base.hash)

    def _load(self, values: tuple) -> dict[int, dict[str, float]]:
        if values not in self.runs:
            got: dict[int, dict[str, float]] = {}
            folder = self._folder(values)
            if folder is not None and folder.is_dir():
                for f in folder.glob(f"{self.seed}-*.json"):
                    rep = f.stem.rpartition("-")[2]
                    if rep.isdigit():
                        got[int(rep)] = json.loads(f.read_text(encoding="utf-8"))
            self.runs[values] = got
        return self.runs[values]

    def ensure(self, wants: Mapping[tuple, int]) -> None:
        """Run replications ``0 .. n-1`` of each point that are not yet done, all in one batch."""
        tasks: list[Task] = []
        owner: list[tuple] = []
        for values, n in wants.items():
            have = self._load(values)
            missing = [r for r in range(n) if r not in have]
            if missing:
                sc = self.scenario_of(dict(zip(self.keys, values)))
                for r in missing:
                    tasks.append(Task(sc, self.seed, r, self.horizon_days))
                    owner.append(values)
        if not tasks:
            return

        def finished(k: int, metrics: dict[str, float]) -> None:
            values, rep = owner[k], tasks[k].rep
            folder = self._folder(values)
            if folder is not None:
                atomic_write_bytes(folder / f"{self.seed}-{rep}.json", json.dumps(metrics, default=float).encode())
            self.runs[values][rep] = metrics

        outcome = self.ex.map(_rep_task, tasks, on_result=finished)
        self.replications_run += len(tasks) - len(outcome.failures)
        if outcome.failures:
            raise PointsFailedError({owner[k]: f"replication {tasks[k].rep}: {f.reason}"
                                     for k, f in sorted(outcome.failures.items())})

    def values(self, values: tuple, n: int) -> dict[str, list[float]]:
        """metric -> values of replications 0 .. n-1 (all must have run)."""
        runs = self._load(values)
        per_rep = [runs[r] for r in range(n)]
        return {m: [rec.get(m, math.nan) for rec in per_rep] for m in per_rep[0]}

    def doc(self, values: tuple, n: int) -> dict[str, Any]:
        """A point document (the shape sweeps write) of the first ``n`` replications."""
        return {"overrides": dict(zip(self.keys, values)), "reps": n, "seed": self.seed,
                "horizon_days": self.horizon_days, "scenario_hash": self.base.hash,
                "replications": self.values(values, n)}


# --------------------------------------------------------------------------- screening
def looks(full: int, first: int = FIRST_REPS) -> list[int]:
    """Replication counts at which a point is judged: ``first``, doubling, then ``full``."""
    n = max(2, min(first, full))
    out = [n]
    while out[-1] < full:
        out.append(min(full, out[-1] * 2))
    return out


def screen(targets: Sequence[TargetLike], per_rep: Mapping[str, Sequence[float]], alpha: float) -> str:
    """``"infeasible"``, ``"feasible"`` (provisionally) or ``"more"`` from the replications so far.

    One-sided t bounds at level ``1 - alpha``: a ``>=`` target is missed when the upper bound is
    below it and met when the lower bound is at or above it (mirrored for ``<=``). A replication
    whose queues grew without bound makes the point infeasible, as in the exhaustive rule.
    """
    from scipy import stats

    if any(v > 0 for v in per_rep.get("unstable", ())):
        return "infeasible"
    verdicts = []
    for t in targets:
        x = [v for v in per_rep.get(t.metric, ()) if math.isfinite(v)]
        if len(x) < 2:
            verdicts.append("more")
            continue
        n = len(x)
        mean = sum(x) / n
        sd = math.sqrt(sum((v - mean) ** 2 for v in x) / (n - 1))
        half = float(stats.t.ppf(1.0 - alpha, n - 1)) * sd / math.sqrt(n)
        low, high = mean - half, mean + half
        if t.op == ">=":
            verdicts.append("infeasible" if high < t.value else "feasible" if low >= t.value else "more")
        else:
            verdicts.append("infeasible" if low > t.value else "feasible" if high <= t.value else "more")
    if "infeasible" in verdicts:
        return "infeasible"
    return "feasible" if all(v == "feasible" for v in verdicts) else "more"


# --------------------------------------------------------------------------- the search
class SequentialSearch:
    """Cheapest point of a grid whose full-replication row meets every target (see the module docstring).

    ``exact(values, n)`` applies the exhaustive rule to the first ``n`` replications of a point;
    ``cost(values)`` prices it. Points are index tuples into ``axes`` internally.
    """

    def __init__(self, axes: Sequence[Sequence[Any]], store: ReplicationStore, targets: Sequence[TargetLike],
                 full: int, cost: Callable[[tuple], float], exact: Callable[[tuple, int], bool], *,
                 first: int = FIRST_REPS, alpha: float = SCREEN_ALPHA,
                 progress: Callable[[int], None] | None = None):
        self.axes = [list(a) for a in axes]
        self.store, self.targets, self.full, self.cost, self.exact = store, list(targets), full, cost, exact
        self.looks = looks(full, first)
        self.alpha = alpha / max(1, len(self.looks) - 1)  # Bonferroni over the screening looks
        self.progress = progress
        self.known: dict[tuple, tuple[bool, int]] = {}  # index -> (feasible, replications used)

    # -- points
    def values(self, idx: tuple) -> tuple:
        return tuple(a[i] for a, i in zip(self.axes, idx))

    def order(self, idx: tuple) -> tuple:
        """Cheapest first; ties broken by the values, as the frontier table sorts."""
        v = self.values(idx)
        return (self.cost(v), *v)

    def evaluated(self) -> dict[tuple, int]:
        """Values of every point run -> replications used."""
        return {self.values(i): n for i, (_, n) in self.known.items()}

    # -- feasibility
    def inferred(self, idx: tuple) -> bool | None:
        """Feasibility implied by monotonicity from points already judged (infeasibility first)."""
        if any(not f and all(a <= b for a, b in zip(idx, q)) for q, (f, _) in self.known.items()):
            return False
        if any(f and all(a >= b for a, b in zip(idx, q)) for q, (f, _) in self.known.items()):
            return True
        return None

    def feasible(self, idx: tuple) -> bool:
        if idx in self.known:
            return self.known[idx][0]
        got = self.inferred(idx)
        if got is not None:
            return got
        return self.judge(idx)

    def judge(self, idx: tuple, confirm: bool = False) -> bool:
        """Run a point look by look until screening decides (``confirm``: straight to full replications)."""
        values = self.values(idx)
        new = idx not in self.known
        for n in ([self.full] if confirm else self.looks):
            self.store.ensure({values: n})
            if n >= self.full:
                verdict: bool | None = self.exact(values, n)
            else:
                verdict = {"feasible": True, "infeasible": False}.get(
                    screen(self.targets, self.store.values(values, n), self.alpha))
            if verdict is not None:
                self.known[idx] = (verdict, n)
                if self.progress and new:
                    self.progress(1)
                return verdict
        raise AssertionError("the last look is at full replications")  # pragma: no cover

    # -- the search
    def _pass(self) -> tuple | None:
        """Bisect the last key for each combination of the others, below the best cost so far."""
        best: tuple | None = None
        last = len(self.axes[-1])
        for prefix in itertools.product(*(range(len(a)) for a in self.axes[:-1])):
            cap = last if best is None else sum(1 for j in range(last) if self.order((*prefix, j)) < self.order(best))
            # The cheapest point first: a cheap answer then costs one point, and a point far below
            # a target is screened out after the first few replications. Then bisection.
            lo, hi = 0, cap
            if cap and not self.feasible((*prefix, 0)):
                lo = 1
            elif cap:
                hi = 0
            while lo < hi:
                mid = (lo + hi) // 2
                if self.feasible((*prefix, mid)):
                    hi = mid
                else:
                    lo = mid + 1
            if lo < cap:
                best = (*prefix, lo)
        return best

    def run(self) -> tuple | None:
        """Values of the chosen point (judged at full replications), or None if nothing is feasible."""
        cheapest, dearest = tuple(0 for _ in self.axes), tuple(len(a) - 1 for a in self.axes)
        if len(self.axes) > 1 and not self.feasible(cheapest) and not self.feasible(dearest):
            return None  # the most staff of every key misses a target: so does every point
        # (one key: the bisection below finds that in as few points)
        while True:
            best = self._pass()
            # Points run provisionally feasible and cheaper than the pass's best (noise can hide them
            # from a bisection) are candidates too; the cheapest not yet at full replications is confirmed.
            cands = [i for i, (f, _) in self.known.items() if f and (best is None or self.order(i) < self.order(best))]
            if best is not None:
                cands.append(best)
            if not cands:
                return None
            pick = min(cands, key=self.order)
            if self.known.get(pick, (False, 0))[1] >= self.full:
                return self.values(pick)
            self.judge(pick, confirm=True)

