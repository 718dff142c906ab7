"""The planner's answer of a staffing search: current staffing as the baseline, the cheapest
staffing meeting every target, head-counts per role, the change and its yearly cost.

The search (:mod:`sim.experiments.staff`) explores points; this module turns its rows into
an answer a planner can act on. Confidence bounds are shown with as many digits as it takes
to see on which side of the target they fall: a bound of 0.8996 is never shown as 0.9.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping, Sequence

from ..format import fmt

MAX_DIGITS = 8


def bound_text(bound: float, target: float) -> str:
    """A confidence bound with enough decimals that its text compares with the target as the bound does."""
    if bound != bound:
        return "–"
    for digits in range(3, MAX_DIGITS + 1):
        text = f"{bound:.{digits}f}"
        shown = float(text)
        if (shown < target) == (bound < target) and (shown > target) == (bound > target):
            return text
    return repr(bound)


@dataclass(frozen=True)
class TargetCheck:
    """One target at one staffing: the mean, the bound it is judged on, and whether it is met."""

    target: str
    metric: str
    op: str
    value: float
    mean: float
    bound: float  # lower 95% bound for >=, upper for <=
    met: bool

    def text(self) -> str:
        side = "lower" if self.op == ">=" else "upper"
        verdict = "met" if self.met else "not met"
        sign = self.op if self.met else ("<" if self.op == ">=" else ">")
        return (f"{self.metric} mean {fmt(self.mean)}, {side} 95% bound {bound_text(self.bound, self.value)} "
                f"{sign} {self.value:g}: {verdict}")


@dataclass(frozen=True)
class RoleCount:
    """Head-count of one role: staff per unit x units of the levels that use it."""

    role: str
    staff_per_unit: float
    units: int
    head_count: float
    levels: list[str] = field(default_factory=list)  # the levels whose units the role staffs

    def text(self) -> str:
        unit = "/".join(self.levels) or "unit"
        return f"{fmt(self.staff_per_unit)} per {unit} x {self.units:,} {unit}s = {fmt(self.head_count)} people"


@dataclass(frozen=True)
class Staffing:
    """One staffing point in planners' terms."""

    values: dict[str, Any]  # the varied keys and their values
    roles: list[RoleCount]
    head_count: float  # total over the roles above
    cost: float
    checks: list[TargetCheck]
    feasible: bool

    def role(self, name: str) -> RoleCount | None:
        return next((r for r in self.roles if r.role == name), None)


@dataclass(frozen=True)
class StaffingAnswer:
    """Baseline (current staffing), the cheapest feasible staffing and the change between them."""

    scenario: str
    targets: list[str]
    reps: int
    seed: int
    cost_unit: str
    baseline: Staffing
    chosen: Staffing | None
    notes: list[str] = field(default_factory=list)

    @property
    def change(self) -> dict[str, Any] | None:
        """Chosen minus baseline: per varied key, per role head-count, total head-count and cost."""
        if self.chosen is None:
            return None
        b, c = self.baseline, self.chosen
        return {"values": {k: _minus(c.values.get(k), b.values.get(k)) for k in c.values},
                "head_count": {r.role: r.head_count - (b.role(r.role).head_count if b.role(r.role) else 0.0)
                               for r in c.roles},
                "total_head_count": c.head_count - b.head_count, "cost": c.cost - b.cost}

    def lines(self) -> list[str]:
        """The answer as lines of text: baseline, answer, change (with units), notes."""
        return answer_lines(self)

    def to_json(self) -> dict[str, Any]:
        doc = {"scenario": self.scenario, "targets": self.targets, "replications": self.reps, "seed": self.seed,
               "cost_unit": self.cost_unit, "baseline": asdict(self.baseline),
               "chosen": None if self.chosen is None else asdict(self.chosen), "change": self.change,
               "notes": self.notes}
        return _plain(doc)


def role_counts(scenario: Any, values: Mapping[str, Any], counts: Sequence[int]) -> list[RoleCount]:
    """Head-count of every role staffing a level, with the varied ``values`` applied."""
    out = []
    for role_name, role in scenario.roles.items():
        at = [i for i, lv in enumerate(scenario.levels.values()) if lv.role == role_name]
        units = sum(int(counts[i]) for i in at)
        if not units:
            continue
        per_unit = values.get(f"roles.{role_name}.staff_per_unit", role.staff_per_unit)
        out.append(RoleCount(role_name, per_unit, units, float(per_unit) * units, [list(scenario.levels)[i] for i in at]))
    return out


def baseline_values(scenario: Any, keys: Sequence[str]) -> tuple:
    """The scenario's own value of each varied key (its current staffing)."""
    from ..provenance import _value_at

    data = scenario.model_dump(mode="json")
    return tuple(_value_at(data, k) for k in keys)


def staffing(row: Mapping[str, Any], keys: Sequence[str], targets: Sequence[Any], scenario: Any,
             counts: Sequence[int]) -> Staffing:
    """A search row (varied keys, cost, ``<metric>.mean/.ci_low/.ci_high``, feasible) in planners' terms."""
    values = {k: _plain(row[k]) for k in keys}
    roles = [r for r in role_counts(scenario, values, counts)
             if any(k.startswith(f"roles.{r.role}.") for k in keys)] or role_counts(scenario, values, counts)
    checks = []
    for t in targets:
        bound = float(row.get(f"{t.metric}.ci_low" if t.op == ">=" else f"{t.metric}.ci_high", float("nan")))
        checks.append(TargetCheck(str(t), t.metric, t.op, t.value, float(row.get(f"{t.metric}.mean", float("nan"))),
                                  bound, bool(t.met({"ci_low": bound, "ci_high": bound}))))
    return Staffing(values, roles, float(sum(r.head_count for r in roles)), float(row["cost"]), checks,
                    bool(row["feasible"]))


def neighbour_notes(rows: Mapping[tuple, Mapping[str, Any]], chosen: tuple, keys: Sequence[str],
                    axes: Sequence[Sequence[Any]], targets: Sequence[Any]) -> list[str]:
    """Where a staffing one step below or above the chosen one gives each target metric the same
    result within their 95% intervals: the difference between them is not resolved by these runs."""
    notes = []
    here = rows[chosen]
    for j, key in enumerate(keys):
        pos = list(axes[j]).index(chosen[j]) if chosen[j] in axes[j] else None
        if pos is None:
            continue
        for step in (-1, 1):
            if not 0 <= pos + step < len(axes[j]):
                continue
            other = tuple(axes[j][pos + step] if i == j else v for i, v in enumerate(chosen))
            if other not in rows:
                continue
            same = [t.metric for t in targets if _overlap(here, rows[other], t.metric)]
            if same and len(same) == len(targets):
                notes.append(f"{key} = {other[j]} gives {', '.join(same)} the same as {chosen[j]} within their 95% "
                             f"intervals ({_interval(rows[other], same[0])} vs {_interval(here, same[0])}); "
                             "more replications would tell them apart")
    return notes


def _interval(row: Mapping[str, Any], metric: str) -> str:
    lo, hi = _bounds(row, metric)
    return f"{fmt(row[f'{metric}.mean'])} [{fmt(lo, 4)}, {fmt(hi, 4)}]"


def _bounds(row: Mapping[str, Any], metric: str) -> tuple[float, float]:
    mean = float(row[f"{metric}.mean"])
    lo = float(row.get(f"{metric}.ci_low", float("nan")))
    hi = float(row.get(f"{metric}.ci_high", float("nan")))
    if lo != lo and hi == hi:
        lo = 2 * mean - hi
    if hi != hi and lo == lo:
        hi = 2 * mean - lo  # t intervals are symmetric about the mean
    return lo, hi


def _overlap(a: Mapping[str, Any], b: Mapping[str, Any], metric: str) -> bool:
    (alo, ahi), (blo, bhi) = _bounds(a, metric), _bounds(b, metric)
    return alo <= bhi and blo <= ahi


def _minus(a: Any, b: Any) -> Any:
    try:
        return a - b
    except TypeError:
        return None


def _plain(x: Any) -> Any:
    """numpy scalars and NaN to JSON-friendly values."""
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if hasattr(x, "item") and not isinstance(x, (list, dict, str)):
        x = x.item()
    if isinstance(x, float) and x != x:
        return None
    return x


class StaffResult(tuple):
    """What :func:`sim.staff` returns: unpacks as ``(frontier, chosen)`` as before, and carries
    the planner's ``answer`` (a :class:`StaffingAnswer`)."""

    answer: StaffingAnswer | None

    def __new__(cls, frontier: Any, chosen: dict[str, Any] | None, answer: StaffingAnswer | None) -> "StaffResult":
        obj = super().__new__(cls, (frontier, chosen))
        obj.answer = answer
        return obj

    @property
    def frontier(self) -> Any:
        return self[0]

    @property
    def chosen(self) -> dict[str, Any] | None:
        return self[1]


# --------------------------------------------------------------------------- from a search to an answer
def cheapest_feasible(rows: Mapping[tuple, Mapping[str, Any]], keys: Sequence[str]) -> tuple | None:
    """The values of the cheapest feasible row (ties: smallest values), as the frontier orders them."""
    ok = [r for r in rows.values() if r["feasible"]]
    if not ok:
        return None
    best = min(ok, key=lambda r: (r["cost"], *[r[k] for k in keys]))
    return tuple(best[k] for k in keys)


def extra_points(scenario: Any, keys: Sequence[str], axes: Sequence[Sequence[Any]],
                 rows: Mapping[tuple, Mapping[str, Any]]) -> list[tuple]:
    """Points the answer needs beyond the search: current staffing (the baseline) and the
    neighbours, one step each way on every key, of the cheapest feasible point."""
    points = []
    base = baseline_values(scenario, keys)
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in base):
        points.append(base)
    best = cheapest_feasible(rows, keys)
    if best is not None:
        for j in range(len(keys)):
            if best[j] not in axes[j]:
                continue
            pos = list(axes[j]).index(best[j])
            for step in (-1, 1):
                if 0 <= pos + step < len(axes[j]):
                    points.append(tuple(axes[j][pos + step] if i == j else v for i, v in enumerate(best)))
    return [p for p in dict.fromkeys(points) if p not in rows]


def evaluate_answer_points(evaluator: Any, scenario: Any, keys: Sequence[str], axes: Sequence[Sequence[Any]]
                           ) -> dict[tuple, dict[str, Any]]:
    """Run the :func:`extra_points` with the search's evaluator (same seeds and cache) and return every
    row; the evaluator's own rows are left as the search left them, so the frontier shows what the
    search explored and its choice is not changed by points the search did not ask for."""
    searched = dict(evaluator.rows)
    evaluator.evaluate(extra_points(scenario, keys, axes, searched))
    evaluated, evaluator.rows = evaluator.rows, searched
    return evaluated


def planner_answer(scenario: Any, keys: Sequence[str], axes: Sequence[Sequence[Any]], targets: Sequence[Any],
                   rows: Mapping[tuple, Mapping[str, Any]], chosen_point: Mapping[str, Any] | None, *, cost_unit: str,
                   reps: int, seed: int) -> StaffingAnswer:
    """The answer from every evaluated row (the search's and :func:`extra_points`'), ``chosen_point``
    being the staffing the search chose (None: nothing feasible)."""
    best = None if chosen_point is None else tuple(chosen_point[k] for k in keys)
    from ..hierarchy import build_hierarchy

    counts = build_hierarchy(scenario).counts
    base_values = baseline_values(scenario, keys)
    notes = []
    if base_values in rows:
        baseline = staffing(rows[base_values], keys, targets, scenario, counts)
    else:  # a varied key the scenario does not set to a number: no baseline to run
        baseline = Staffing(dict(zip(keys, _plain(list(base_values)))), role_counts(scenario, {}, counts), 0.0,
                            float("nan"), [], False)
        notes.append("the scenario's current staffing could not be evaluated (a varied key has no numeric value)")
    chosen = None if best is None else staffing(rows[best], keys, targets, scenario, counts)
    if best is not None:
        notes += neighbour_notes(rows, best, keys, axes, targets)
        if best == base_values:
            notes.append("the current staffing is already the cheapest that meets every target")
    else:
        notes.append("no staffing in the ranges meets every target on its confidence bound")
    return StaffingAnswer(scenario.name, [str(t) for t in targets], reps, seed, cost_unit, baseline, chosen, notes)


def answer_lines(answer: StaffingAnswer) -> list[str]:
    """The answer as lines of text: baseline, answer, change (with units)."""
    unit = answer.cost_unit

    def block(title: str, s: Staffing) -> list[str]:
        lines = [f"{title}: " + ", ".join(f"{k} = {v}" for k, v in s.values.items())]
        for r in s.roles:
            lines.append(f"  {r.role}: {r.text()}")
        if len(s.roles) > 1:
            lines.append(f"  total head-count: {fmt(s.head_count)} people")
        lines.append(f"  cost: {_money(s.cost)} {unit}")
        lines += [f"  {c.text()}" for c in s.checks]
        return lines

    out = block("Current staffing (baseline, same seeds)", answer.baseline)
    if answer.chosen is not None:
        out += block("Answer: cheapest staffing meeting every target", answer.chosen)
        ch = answer.change or {}
        parts = [f"{k} {_signed(v)}" for k, v in ch.get("values", {}).items() if v is not None]
        parts += [f"{role} {_signed(v)} people" for role, v in ch.get("head_count", {}).items()]
        if len(ch.get("head_count", {})) > 1:
            parts.append(f"total {_signed(ch['total_head_count'])} people")
        parts.append(f"cost {_signed(ch['cost'], money=True)} {unit}")
        out.append("Change from current staffing: " + ", ".join(parts))
    out += [f"Note: {n}" for n in answer.notes]
    return out


def _money(x: float) -> str:
    return "–" if x != x else f"{x:,.0f}"


def _signed(x: float, money: bool = False) -> str:
    if x == 0:
        return "±0"
    text = _money(abs(x)) if money else fmt(abs(float(x)))
    return ("+" if x > 0 else "−") + text
