"""Staffing search: the cheapest staffing whose confidence bounds meet every target.

A target such as ``within_target_share>=0.9`` is met when the *lower* 95% confidence bound
over replications is at least 0.9 (for ``<=`` targets: the upper bound at most the value),
so a chosen staffing is not one that merely looks good on average.

Cost of a point: for each varied key path, value x yuan x multiplier, where yuan comes from
``costs[key]`` or, for keys under ``roles.<role>.``, the role's ``cost_per_year`` (else 1),
and the multiplier is the number of units of the levels that use the role (so
``staff_per_unit`` times it is the head count); other keys have multiplier 1.

Search (assumes more staff never hurts a target): by default the sequential search of
:mod:`.selection` (few replications first, more only where a point's interval straddles a
target; points decided by monotonicity are not run; replications cached on disk), which gives
the exhaustive search's answer (``docs/staffing-search.md`` states the guarantee). The
full-replication searches remain: ``bisection`` (one key, log2 of the range points),
``marginal`` (from the cheapest corner, repeatedly add the step that closes most of the total
shortfall per yuan, then drop any step that is not needed) and ``exhaustive`` (every
combination). All points use the same seed and replications (common random numbers), so their
differences are not noise between points.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..scenario import ScenarioError
from ..scenario.loader import Problem, parse_value
from ..scenario.schema import Scenario
from .executors import DEFAULT_RETRIES, Executor, executor_session
from .inputs import Base, resolve_base
from .staffing_answer import StaffResult, evaluate_answer_points, planner_answer
from .sweep import PointsFailed, evaluate_points, grid_points, point_summary

_TARGET = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(>=|<=)\s*([-+0-9.eE]+)\s*$")
BIG = 1e9  # shortfall of a point whose metric could not be estimated


@dataclass(frozen=True)
class Target:
    """``metric >= value`` (judged on the lower CI bound) or ``metric <= value`` (upper bound)."""

    metric: str
    op: str
    value: float

    @classmethod
    def parse(cls, text: str) -> Target:
        m = _TARGET.match(text)
        if not m:
            raise ScenarioError([Problem("--target", text, "expected metric>=value or metric<=value")])
        return cls(m.group(1), m.group(2), float(m.group(3)))

    def bound(self, row: Mapping[str, float]) -> float:
        return row["ci_low"] if self.op == ">=" else row["ci_high"]

    def met(self, row: Mapping[str, float]) -> bool:
        b = self.bound(row)
        if b != b:
            return False
        return b >= self.value if self.op == ">=" else b <= self.value

    def shortfall(self, row: Mapping[str, float]) -> float:
        """How far the bound is from the target, relative to the target (0 when met)."""
        b = self.bound(row)
        if b != b:
            return BIG
        gap = (self.value - b) if self.op == ">=" else (b - self.value)
        return max(0.0, gap) / max(abs(self.value), 1e-9)

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{self.value:g}"


def parse_vary(items: Sequence[str]) -> dict[str, list[Any]]:
    """``key.path=1..6`` (integer range) or ``key.path=1,2,4`` to ``{key: [values]}``."""
    out: dict[str, list[Any]] = {}
    for item in items:
        key, sep, spec = item.partition("=")
        key, spec = key.strip(), spec.strip()
        m = re.fullmatch(r"(-?\d+)\s*\.\.\s*(-?\d+)", spec)
        if not sep or not key or not spec:
            raise ScenarioError([Problem("--vary", item, "expected key.path=min..max or key.path=v1,v2,...")])
        if m:
            lo, hi = int(m.group(1)), int(m.group(2))
            if lo > hi:
                raise ScenarioError([Problem("--vary", item, f"empty range {lo}..{hi}")])
            out[key] = list(range(lo, hi + 1))
        else:
            out[key] = sorted(parse_value(v.strip()) for v in spec.split(",") if v.strip())
    return out


def parse_costs(items: Sequence[str]) -> dict[str, float]:
    """``key.path=yuan`` pairs."""
    out = {}
    for item in items:
        key, sep, v = item.partition("=")
        try:
            out[key.strip()] = float(v)
        except ValueError:
            raise ScenarioError([Problem("--cost", item, "expected key.path=yuan_per_year")]) from None
        if not sep:
            raise ScenarioError([Problem("--cost", item, "expected key.path=yuan_per_year")])
    return out


def unit_costs(scenario: Scenario, keys: Sequence[str], costs: Mapping[str, float] | None = None) -> dict[str, float]:
    """Yuan per year for one step of each varied key (see the module docstring)."""
    from ..hierarchy import build_hierarchy

    costs = dict(costs or {})
    counts = build_hierarchy(scenario).counts
    out = {}
    for key in keys:
        parts = key.split(".")
        mult = 1.0
        yuan = costs.get(key)
        if len(parts) >= 3 and parts[0] == "roles" and parts[1] in scenario.roles:
            role = parts[1]
            mult = float(sum(int(counts[i]) for i, lv in enumerate(scenario.levels.values()) if lv.role == role))
            if yuan is None:
                yuan = scenario.roles[role].cost_per_year
        out[key] = mult * (1.0 if yuan is None else float(yuan))
    return out


# --------------------------------------------------------------------------- the search
class _Evaluator:
    """Runs points in batches (parallel within a batch) and remembers every result."""

    def __init__(self, base: Base, keys: list[str], targets: list[Target], reps: int, seed: int,
                 horizon_days: float | None, ex: Executor, cache_dir: Path | None, unit: dict[str, float],
                 progress: Callable[[int], None] | None):
        self.base, self.keys, self.targets, self.reps, self.seed = base, keys, targets, reps, seed
        self.horizon_days, self.ex, self.cache_dir, self.unit, self.progress = horizon_days, ex, cache_dir, unit, progress
        self.rows: dict[tuple, dict[str, Any]] = {}

    def cost(self, values: tuple) -> float:
        return float(sum(v * self.unit[k] for k, v in zip(self.keys, values)))

    def evaluate(self, batch: Sequence[tuple]) -> list[dict[str, Any]]:
        new = [v for v in dict.fromkeys(batch) if v not in self.rows]
        if new:
            points = [dict(zip(self.keys, v)) for v in new]
            docs, failures = evaluate_points(self.base, points, self.reps, self.seed, self.horizon_days, self.ex,
                                             cache_dir=self.cache_dir, progress=self.progress)
            if failures:
                raise PointsFailed(failures)
            for v, doc in zip(new, docs):
                self.rows[v] = self._row(v, doc)
        return [self.rows[v] for v in batch]

    def _row(self, values: tuple, doc: Mapping[str, Any]) -> dict[str, Any]:
        return point_row(self.keys, values, self.cost(values), self.targets, doc)


def point_row(keys: Sequence[str], values: tuple, cost: float, targets: Sequence[Target],
              doc: Mapping[str, Any]) -> dict[str, Any]:
    """A frontier row: the point, its cost, each target's mean and bound, and ``feasible`` by the
    exhaustive rule (every target met on its 95% bound, no unstable replication)."""
    summary = point_summary(doc).set_index("metric")
    row: dict[str, Any] = dict(zip(keys, values))
    row["cost"] = cost
    feasible, short = True, 0.0
    for t in targets:
        if t.metric not in summary.index:
            raise ScenarioError([Problem("--target", str(t), f"unknown metric '{t.metric}'; metrics: "
                                         + ", ".join(summary.index))])
        s = summary.loc[t.metric]
        row[f"{t.metric}.mean"] = float(s["mean"])
        row[f"{t.metric}.ci_low"] = float(s["ci_low"])
        if t.op == "<=":
            row[f"{t.metric}.ci_high"] = float(s["ci_high"])
        feasible &= t.met(s)
        short += t.shortfall(s)
    if "unstable" in summary.index and summary.loc["unstable", "mean"] > 0:
        feasible, short = False, short + 1.0  # queues grew without bound in some replication
    row["feasible"] = bool(feasible)
    row["_shortfall"] = short
    return row


def _bisect(ev: _Evaluator, values: list[Any]) -> None:
    """Smallest feasible value of one key, assuming feasibility is monotone in it."""
    if not ev.evaluate([(values[-1],)])[0]["feasible"]:
        ev.evaluate([(values[0],)])  # nothing feasible: show both ends of the range in the frontier
        return
    lo, hi = 0, len(values) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if ev.evaluate([(values[mid],)])[0]["feasible"]:
            hi = mid
        else:
            lo = mid + 1


def _marginal(ev: _Evaluator, axes: list[list[Any]]) -> None:
    """Greedy marginal analysis upwards from the cheapest corner, then drop unneeded steps."""
    idx = [0] * len(axes)
    cur = ev.evaluate([tuple(a[0] for a in axes)])[0]
    while not cur["feasible"]:
        steps = [j for j in range(len(axes)) if idx[j] + 1 < len(axes[j])]
        if not steps:
            return
        cands = []
        for j in steps:
            nxt = list(idx)
            nxt[j] += 1
            cands.append((j, tuple(a[i] for a, i in zip(axes, nxt))))
        rows = ev.evaluate([v for _, v in cands])

        def score(k: int) -> tuple:
            gain = cur["_shortfall"] - rows[k]["_shortfall"]
            extra = max(rows[k]["cost"] - cur["cost"], 1e-9)
            return (rows[k]["feasible"], gain / extra, -rows[k]["cost"], -k)

        best = max(range(len(cands)), key=score)
        idx[cands[best][0]] += 1
        cur = rows[best]
    improved = True
    while improved:  # drop steps (dearest first) that are not needed to stay feasible
        improved = False
        order = sorted(range(len(axes)), key=lambda j: -ev.unit[ev.keys[j]])
        for j in order:
            if idx[j] == 0:
                continue
            nxt = list(idx)
            nxt[j] -= 1
            row = ev.evaluate([tuple(a[i] for a, i in zip(axes, nxt))])[0]
            if row["feasible"]:
                idx, cur, improved = nxt, row, True
                break


def frontier_table(ev: _Evaluator) -> tuple[pd.DataFrame, dict[str, Any] | None]:
    """Every evaluated point by cost, with the cheapest feasible one marked as chosen."""
    rows = sorted(ev.rows.values(), key=lambda r: (r["cost"], *[r[k] for k in ev.keys]))
    chosen = next((r for r in rows if r["feasible"]), None)
    table = pd.DataFrame([{k: v for k, v in r.items() if k != "_shortfall"} for r in rows])
    table["chosen"] = [r is chosen for r in rows] if rows else []
    pick = None if chosen is None else {k: v for k, v in chosen.items() if k not in ("_shortfall", "feasible", "reps")}
    return table, pick


def _sequential(ev: _Evaluator, axes: list[list[Any]], cache_dir: Path | None) -> int:
    """The sequential search of :mod:`.selection`; fills ``ev.rows`` (with ``reps`` used) and
    returns the number of replications it ran."""
    from .selection import PointsFailedError, ReplicationStore, SequentialSearch
    from .sweep import point_scenario

    store = ReplicationStore(ev.base, ev.keys, ev.seed, ev.horizon_days, ev.ex,
                             lambda p: point_scenario(ev.base, p), cache_dir)

    def exact(values: tuple, n: int) -> bool:
        return point_row(ev.keys, values, ev.cost(values), ev.targets, store.doc(values, n))["feasible"]

    search = SequentialSearch(axes, store, ev.targets, ev.reps, ev.cost, exact, progress=ev.progress)
    try:
        chosen = search.run()
    except PointsFailedError as exc:
        raise PointsFailed({i: (dict(zip(ev.keys, v)), why) for i, (v, why) in enumerate(exc.failures.items())}) from None
    for values, n in search.evaluated().items():
        ev.rows[values] = {**point_row(ev.keys, values, ev.cost(values), ev.targets, store.doc(values, n)), "reps": n}
    if chosen is not None:
        assert ev.rows[chosen]["feasible"] and ev.rows[chosen]["reps"] == ev.reps
    return store.replications_run


SEARCHES = ("auto", "sequential", "bisection", "marginal", "exhaustive")


def staff(scenario_or_path: Scenario | str | Path, vary: Mapping[str, Sequence[Any]] | Sequence[str],
          targets: Sequence[str | Target], reps: int | None = None, seed: int | None = None, *,
          costs: Mapping[str, float] | Sequence[str] | None = None, horizon_days: float | None = None,
          overrides: Mapping[str, Any] | Sequence[str] | None = None, workers: int = 1,
          executor: Executor | str | None = None, scheduler: Any = None, retries: int = DEFAULT_RETRIES,
          search: str = "auto", out: str | Path | None = None, cache: str | Path | None = None,
          progress: Callable[[int], None] | None = None) -> StaffResult:
    """Find the cheapest staffing meeting every target on its confidence bound.

    Current staffing (the scenario's own values of the varied keys) is evaluated too, with the
    same seeds, as the baseline of the planner's answer (``result.answer``, a
    :class:`~sim.experiments.staffing_answer.StaffingAnswer`; ``answer.json`` with ``out``).
    Returns, unpacking as a pair, the frontier table (every point explored: the varied keys, ``cost``, per target
    ``<metric>.mean`` and ``<metric>.ci_low`` (plus ``.ci_high`` for ``<=`` targets),
    ``feasible``, ``chosen``, and for the sequential search ``reps``, the replications the
    point ran) and the chosen point as a dict (None if nothing feasible).

    ``search``: ``"auto"``/``"sequential"`` (few replications first, more only where the
    answer is in doubt, monotonicity; see :mod:`sim.experiments.selection`), or the
    full-replication ``"bisection"`` (one key), ``"marginal"`` and ``"exhaustive"``.
    Evaluated replications are kept in ``cache`` (default ``out``) under ``points/`` and
    reused by any later search on the same scenario, seed and horizon.
    """
    base = resolve_base(scenario_or_path, overrides)
    grid = parse_vary(vary) if not isinstance(vary, Mapping) else {k: sorted(v) for k, v in vary.items()}
    tgs = [t if isinstance(t, Target) else Target.parse(t) for t in targets]
    if not grid or not tgs:
        raise ValueError("staff needs at least one varied key and one target")
    cost_map = parse_costs(costs) if costs is not None and not isinstance(costs, Mapping) else dict(costs or {})
    reps = reps or base.scenario.replications
    if reps < 2:
        raise ValueError("staff needs at least 2 replications for confidence bounds")
    seed = base.scenario.seed if seed is None else seed
    keys = list(grid)
    axes = [list(grid[k]) for k in keys]
    unit = unit_costs(base.scenario, keys, cost_map)
    if search not in SEARCHES:
        raise ValueError(f"unknown search {search!r}: {', '.join(SEARCHES)}")
    if search == "auto":
        search = "sequential"
    if search == "bisection" and len(keys) != 1:
        raise ValueError("bisection searches one varied key; use marginal or sequential for several")
    cache_dir = Path(cache) if cache is not None else (Path(out) if out else None)
    ran = None
    with executor_session(executor, workers, scheduler, retries) as ex:
        ev = _Evaluator(base, keys, tgs, reps, seed, horizon_days, ex, cache_dir, unit, progress)
        if search == "exhaustive":
            ev.evaluate([tuple(p[k] for k in keys) for p in grid_points(grid)])
        elif search == "bisection":
            _bisect(ev, axes[0])
        elif search == "marginal":
            _marginal(ev, axes)
        else:
            ran = _sequential(ev, axes, cache_dir)
        evaluated = evaluate_answer_points(ev, base.scenario, keys, axes)
    table, chosen = frontier_table(ev)
    table.attrs["replications_run"] = ran  # None for the full-replication searches
    priced = all(k in cost_map or (k.split(".")[0] == "roles" and len(k.split(".")) >= 3 and k.split(".")[1] in
                                   base.scenario.roles and base.scenario.roles[k.split(".")[1]].cost_per_year is not None)
                 for k in keys)
    table.attrs["cost_unit"] = "yuan a year" if priced else "head count (no --cost or cost_per_year for some keys)"
    answer = planner_answer(base.scenario, keys, axes, tgs, evaluated, chosen, cost_unit=table.attrs["cost_unit"],
                            reps=reps, seed=seed)
    if out:
        from ..results import atomic_write_json, write_staff

        write_staff(out, table, chosen, base, targets=[str(t) for t in tgs], reps=reps, seed=seed,
                    horizon_days=horizon_days, search=search)
        atomic_write_json(Path(out) / "answer.json", answer.to_json())
    return StaffResult(table, chosen, answer)
