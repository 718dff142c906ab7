"""Scenarios against published figures: the fit table, the check, and the calibration of assumed values.

A targets file (``scenarios/targets/published.yaml``) gives, per published figure, the metric
that measures it, a band the model should fall in and the scenarios it applies to. The fit of
a scenario is one row per applicable target: the achieved mean over replications with its 95%
interval, and whether the mean lies in the band. A scenario that misses a target says why in
its ``sources:`` under ``departs.<target id>``.

Calibration varies *assumed* parameters only (a cited value is never tuned: ``sim.provenance``
tells which is which) within given bounds, to minimise the sum of squared distances of achieved
values outside their bands, each divided by its band's width. Every candidate runs the same
seed and replication numbers (common random numbers), so the objective is a deterministic
function of the parameters and differences between candidates are not sampling noise. The
optimiser is SciPy's bounded Powell method (``scipy.optimize.minimize(method="Powell")``):
derivative-free, respects bounds, needs no new dependency (SciPy is one already), and with
common random numbers the objective it sees is deterministic, which is what Powell's line
searches assume. Evaluated points are stored in ``OUT/points`` and reused on a rerun.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import yaml

from ..provenance import is_assumption, source_of
from ..scenario.schema import Scenario
from .inputs import Base, resolve_base
from .stats import metric_interval

DEFAULT_TARGETS = Path(__file__).resolve().parents[2] / "scenarios" / "targets" / "published.yaml"
DEPARTS = "departs."  # sources key prefix of a scenario's note on a target it misses
POINTS_DIR = "points"
NAN_PENALTY = 1.0  # a target whose metric has no value counts as one band-width away


@dataclass(frozen=True)
class Target:
    """One published figure as a band a metric should fall in."""

    id: str
    metric: str
    low: float
    high: float
    applies_to: tuple[str, ...]
    figure: str = ""

    @property
    def width(self) -> float:
        return (self.high - self.low) or max(abs(self.high), 1.0)


def load_targets(path: str | Path | None = None) -> list[Target]:
    """The targets of a targets file (default: the published figures shipped with the scenarios)."""
    doc = yaml.safe_load(Path(path or DEFAULT_TARGETS).read_text(encoding="utf-8")) or {}
    out = []
    for t in doc.get("targets") or []:
        band = t.get("band") or [t["value"], t["value"]]
        out.append(Target(str(t["id"]), str(t["metric"]), float(band[0]), float(band[1]),
                          tuple(t.get("applies_to") or ()), str(t.get("figure", ""))))
    return out


def applicable(targets: Sequence[Target], scenario: str) -> list[Target]:
    return [t for t in targets if scenario in t.applies_to]


# --------------------------------------------------------------------------- achieved values
def structural_value(sc: Scenario, metric: str) -> float | None:
    """Metrics read from the scenario itself rather than a run (None: not structural).

    ``households_per_unit.<level>``: households over the level's units; ``arrived_share.category.<c>``:
    the category's share of the arrival mix (the expected share of arriving cases).
    """
    kind, _, name = metric.partition(".")
    if kind == "households_per_unit":
        from ..scenario.checks import unit_counts

        if name not in sc.levels:
            return math.nan
        return sc.households / unit_counts(sc)[sc.level_names.index(name)]
    if metric.startswith("arrived_share.category."):
        cat = metric.split(".", 2)[2]
        mix = sc.arrivals.category_mix
        return mix.get(cat, 0.0) / sum(mix.values()) if mix else math.nan
    return None


def rep_value(metrics: Mapping[str, float], metric: str) -> float:
    """A target's metric from one replication's metrics, derived ones included.

    ``settled_share_of_taken.pool``: cases all pools settled over cases they took.
    """
    if metric == "settled_share_of_taken.pool":
        closed = metrics.get("cases_settled", 0.0) + metrics.get("cases_unresolved", 0.0)
        taken = sum(v for k, v in metrics.items() if k.startswith("cases.pool."))
        settled = sum(v * closed for k, v in metrics.items() if k.startswith("settled_share.pool.") and v == v)
        return settled / taken if taken else math.nan
    return float(metrics.get(metric, math.nan))


def fit_rows(sc: Scenario, per_rep: Sequence[Mapping[str, float]], targets: Sequence[Target]) -> list[dict[str, Any]]:
    """One row per target: band, achieved mean with its interval, met or not, normalised distance."""
    rows = []
    for t in targets:
        fixed = structural_value(sc, t.metric)
        if fixed is not None:
            mean, lo, hi = fixed, fixed, fixed
        else:
            mean, lo, hi, _ = metric_interval(t.metric, [rep_value(m, t.metric) for m in per_rep])
        met = mean == mean and t.low <= mean <= t.high
        dist = NAN_PENALTY if mean != mean else max(0.0, t.low - mean, mean - t.high) / t.width
        rows.append({"target": t.id, "metric": t.metric, "band_low": t.low, "band_high": t.high, "achieved": mean,
                     "ci_low": lo, "ci_high": hi, "met": bool(met), "distance": dist})
    return rows


def objective(rows: Sequence[Mapping[str, Any]]) -> float:
    """Sum of squared normalised distances outside the bands (0: every target met)."""
    return float(sum(r["distance"] ** 2 for r in rows))


# --------------------------------------------------------------------------- the check
@dataclass
class Check:
    """A scenario's fit against its applicable targets, and the notes of its file on those it misses."""

    scenario: str
    rows: list[dict[str, Any]]
    departures: dict[str, str] = field(default_factory=dict)  # target id -> the file's note

    @property
    def missed(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if not r["met"]]

    @property
    def unexplained(self) -> list[str]:
        return [r["target"] for r in self.missed if r["target"] not in self.departures]


def check(scenario: str | Path | Base, targets: str | Path | Sequence[Target] | None = None, *,
          reps: int | None = None, seed: int | None = None, horizon_days: float | None = None,
          overrides: Mapping[str, Any] | Sequence[str] | None = None) -> Check:
    """Run a scenario and compare it with every target that applies to it."""
    from .replicate import run

    base = scenario if isinstance(scenario, Base) else resolve_base(scenario, overrides)
    tlist = targets if isinstance(targets, Sequence) and not isinstance(targets, (str, Path)) else load_targets(targets)
    mine = applicable(tlist, base.scenario.name)
    per_rep: list[Mapping[str, float]] = []
    if any(structural_value(base.scenario, t.metric) is None for t in mine):
        result = run(base.scenario, reps, seed, horizon_days=horizon_days)
        per_rep = [r.metrics for r in result.records]
    sources = base.data.get("sources") or {}
    notes = {k[len(DEPARTS):]: str(v if isinstance(v, str) else (v.get("source") or v.get("assumption")))
             for k, v in sources.items() if k.startswith(DEPARTS)}
    return Check(base.scenario.name, fit_rows(base.scenario, per_rep, mine), notes)


def markdown_table(checks: Sequence[Check]) -> str:
    """Scenario x target: the achieved value with its interval, a check mark when in the band and a
    cross when the scenario departs (its file says why, under sources: departs.<target>)."""
    ids: list[str] = []
    for c in checks:
        ids += [r["target"] for r in c.rows if r["target"] not in ids]
    lines = ["| scenario | " + " | ".join(f"`{i}`" for i in ids) + " |", "|---" * (len(ids) + 1) + "|"]
    for c in checks:
        by_id = {r["target"]: r for r in c.rows}
        cells = [_cell(by_id[i]) if i in by_id else "" for i in ids]
        lines.append(f"| {c.scenario} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(row: Mapping[str, Any]) -> str:
    from ..format import fmt as fmt_value

    value = fmt_value(row["achieved"])
    if row["ci_low"] == row["ci_low"] and row["ci_low"] != row["ci_high"]:
        value += f" [{fmt_value(row['ci_low'])}, {fmt_value(row['ci_high'])}]"
    return f"{value} {'✓' if row['met'] else '✗'}"


# --------------------------------------------------------------------------- calibration
def parse_vary(items: Sequence[str]) -> dict[str, tuple[float, float]]:
    """``["key.path=LO..HI", ...]`` to ``{"key.path": (LO, HI)}``."""
    out: dict[str, tuple[float, float]] = {}
    for item in items:
        key, sep, rng = item.partition("=")
        lo, dots, hi = rng.partition("..")
        try:
            bounds = (float(lo), float(hi))
        except ValueError:
            bounds = None
        if not sep or not dots or not key.strip() or bounds is None or bounds[0] > bounds[1]:
            raise ValueError(f"--vary {item!r}: expected key.path=LO..HI with LO <= HI")
        out[key.strip()] = bounds
    return out


def refuse_cited(base: Base, keys: Sequence[str]) -> None:
    """Raise ValueError for a key whose value is cited (or not a number): only assumptions are calibrated."""
    from ..provenance import _value_at

    sources = base.data.get("sources") or {}
    for key in keys:
        value = _value_at(base.data, key)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ValueError(f"--vary {key}: not a number in {base.scenario.name} (got {value!r})")
        covered, entry = source_of(key, sources)
        if not is_assumption(entry):
            raise ValueError(f"--vary {key}: its value is cited ({covered or 'the whole file'}: {entry}); "
                             "only assumed values are calibrated")


@dataclass
class Calibration:
    """The outcome of a calibration: fit before and after, the best point, what it cost."""

    scenario: str
    vary: dict[str, tuple[float, float]]
    start: dict[str, float]
    best: dict[str, float]
    before: list[dict[str, Any]]
    after: list[dict[str, Any]]
    evaluations: int
    reused: int
    seconds: float
    target_ids: list[str]

    def overlay(self, scenario_file: str | Path, out: str | Path, command: str, today: str | None = None) -> str:
        """A YAML scenario that extends the calibrated one and sets the best values, each with its source."""
        doc: dict[str, Any] = {"extends": _relative(Path(scenario_file), Path(out)), "name": f"{self.scenario}_calibrated"}
        when = today or _dt.date.today().isoformat()
        sources = {}
        for key, value in self.best.items():
            node = doc
            parts = key.split(".")
            for p in parts[:-1]:
                node = node.setdefault(p, {})
            node[parts[-1]] = value
            lo, hi = self.vary[key]
            sources[key] = {"assumption": f"calibrated to {', '.join(self.target_ids)} on {when} by {command}",
                            "range": [lo, hi]}
        doc["sources"] = sources
        return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


class _Budget(Exception):
    """The budget of new candidates is spent, or a candidate met every target: stop searching."""


def calibrate(scenario: str | Path, vary: Mapping[str, tuple[float, float]], *,
              targets: str | Path | Sequence[Target] | None = None, trials: int = 12, reps: int | None = None,
              seed: int | None = None, horizon_days: float | None = None, out: str | Path | None = None,
              progress: Callable[[int], None] | None = None,
              overrides: Mapping[str, Any] | Sequence[str] | None = None,
              skip: Sequence[str] = ()) -> Calibration:
    """Fit the assumed values ``vary`` (key -> (low, high)) to the scenario's applicable targets.

    At most ``trials`` new evaluations (points already in ``out/points`` are reused free);
    the starting point (the file's values, clipped to the bounds) is always one of them.
    ``skip``: ids of applicable targets left out of the fit (one the scenario cannot meet
    together with the others, e.g. a grassroots share that with the community as the top tier
    is 1 - unresolved share, against a success target); the fit tables still report them.
    """
    from scipy.optimize import minimize

    from ..scenario import apply_overrides, validate_data
    from .replicate import run

    base = resolve_base(scenario, overrides)
    refuse_cited(base, list(vary))
    tlist = targets if isinstance(targets, Sequence) and not isinstance(targets, (str, Path)) else load_targets(targets)
    mine = applicable(tlist, base.scenario.name)
    unknown = sorted(set(skip) - {t.id for t in mine})
    if unknown:
        raise ValueError(f"--skip {', '.join(unknown)}: not a target that applies to {base.scenario.name}")
    fitted = [t for t in mine if t.id not in set(skip)]
    if not fitted:
        raise ValueError(f"no target applies to {base.scenario.name}")
    sc0 = base.scenario
    reps = reps or sc0.replications
    seed = sc0.seed if seed is None else seed
    keys = list(vary)
    from ..provenance import _value_at

    integer = {k: isinstance(_value_at(base.data, k), int) for k in keys}
    skipped = set(skip)
    points = Path(out) / POINTS_DIR if out else None
    if points is not None:
        points.mkdir(parents=True, exist_ok=True)
    seen: dict[str, dict[str, Any]] = {}
    counts = {"new": 0, "reused": 0}
    t0 = time.perf_counter()

    def point_of(x: Sequence[float]) -> dict[str, float]:
        return {k: (int(round(v)) if integer[k] else round(float(v), 6))
                for k, v in zip(keys, (min(max(v, vary[k][0]), vary[k][1]) for k, v in zip(keys, x)))}

    def evaluate(point: dict[str, float]) -> dict[str, Any]:
        key = [point, reps, seed, horizon_days, base.hash] + ([sorted(skipped)] if skipped else [])
        h = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:16]
        if h in seen:
            return seen[h]
        path = points / f"{h}.json" if points is not None else None
        if path is not None and path.is_file():
            doc = json.loads(path.read_text(encoding="utf-8"))
            counts["reused"] += 1
        else:
            if counts["new"] >= trials:
                raise _Budget
            data = apply_overrides(base.data, dict(point), file=f"{base.file} (calibration point)")
            sc = validate_data(data, base.file)
            result = run(sc, reps, seed, horizon_days=horizon_days)
            rows = fit_rows(sc, [r.metrics for r in result.records], mine)
            doc = {"point": point, "objective": objective([r for r in rows if r["target"] not in skipped]), "rows": rows}
            counts["new"] += 1
            if path is not None:
                from ..results import atomic_write_json

                atomic_write_json(path, json.loads(json.dumps(doc, default=_json_num)))
            if progress:
                progress(1)
        seen[h] = doc
        if doc["objective"] == 0.0:
            raise _Budget
        return doc

    start = point_of([_value_at(base.data, k) for k in keys])
    try:
        evaluate(start)
        minimize(lambda x: evaluate(point_of(x))["objective"], [start[k] for k in keys], method="Powell",
                 bounds=[vary[k] for k in keys], options={"maxfev": 10 * trials, "xtol": 1e-3, "ftol": 1e-6})
    except _Budget:
        pass
    first = next(iter(seen.values()))
    best = min(seen.values(), key=lambda d: (d["objective"], json.dumps(d["point"], sort_keys=True)))
    return Calibration(sc0.name, dict(vary), start, dict(best["point"]), first["rows"], best["rows"],
                       counts["new"], counts["reused"], time.perf_counter() - t0, [t.id for t in fitted])


def _json_num(x: Any) -> Any:
    return None if isinstance(x, float) and x != x else x


def _relative(target: Path, out: Path) -> str:
    import os

    return os.path.relpath(target.resolve(), out.resolve())
