"""Global sensitivity analysis of a scenario's parameters with SALib (Morris or Sobol).

A *factor* is one numeric key path of the resolved scenario and a range. SALib draws the
design (Morris trajectories or Saltelli/Sobol points); every design point is the scenario with
those values set (:func:`sim.scenario.apply_overrides` + :func:`validate_data`), run for the
same replications with the same seed (common random numbers: neighbouring points see the same
arrivals and uniforms, so their difference is mostly the parameters' effect; parameters that
change the number of arrivals, such as the rate or households, shift the streams, and their
indices carry more sampling noise), and summarised by the mean of each metric over its
replications. SALib then
computes Morris mu*, sigma (with bootstrap confidence of mu*) or Sobol first and total order
indices (with bootstrap confidence).

Points run through the sweep's resumable point runner (:func:`sim.experiments.sweep.evaluate_points`,
local processes or Dask): each finished point is written atomically to ``points/<hash>.parquet``
of the output folder, so an interrupted study resumes where it stopped; the hash covers the
point's overrides, the base scenario, seed, replications and horizon.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..provenance import leaf_parameters, source_of
from ..scenario.loader import Problem, ScenarioError, apply_overrides, validate_data
from .replicate import metric_names

METHODS = ("morris", "sobol")
DEFAULT_SAMPLES = {"morris": 10, "sobol": 64}
DEFAULT_SPREAD = 0.5  # +-50% of the base value when neither --param nor the source gives a range
MORRIS_LEVELS = 4
INTEGER_KEYS = {"staff_per_unit", "units", "per_parent", "households", "staff", "capacity"}
PROBABILITY_KEYS = {"settle", "share", "availability"}
# run settings and the definition of outputs are not assumptions about the governance system
NOT_FACTORS_TOP = {"horizon_days", "warmup_days", "replications", "seed", "max_open_cases", "target_days", "time_unit"}
MIX_PREFIXES = ("arrivals.severity_mix.", "arrivals.category_mix.")
MORRIS_COLUMNS = ["parameter", "metric", "mu", "mu_star", "mu_star_conf", "sigma", "rank"]
SOBOL_COLUMNS = ["parameter", "metric", "S1", "S1_conf", "ST", "ST_conf", "rank"]


# --------------------------------------------------------------------------- factors
@dataclass(frozen=True)
class Factor:
    """One varied parameter: its key path, range, value in the scenario and where it comes from."""

    path: str
    low: float
    high: float
    base: float | None = None
    integer: bool = False
    source: str = ""

    def value(self, x: float) -> float | int:
        """The value given to the model for a design coordinate (integers rounded half up, at least 1)."""
        return max(1, int(math.floor(x + 0.5))) if self.integer else float(x)


def _is_probability(path: str) -> bool:
    """Settle probabilities (also per severity), shares of channels/meetings/desks, availability."""
    parts = path.split(".")
    return len(parts) >= 3 and parts[0] != "arrivals" and (parts[2] in PROBABILITY_KEYS or parts[-1] in PROBABILITY_KEYS)


def _is_integer(path: str) -> bool:
    """Counts: staff, units, households, meeting capacity (``pools.<p>.staff.<role>`` too)."""
    parts = path.split(".")
    return parts[-1] in INTEGER_KEYS or (len(parts) >= 2 and parts[-2] == "staff")


def _numeric(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _get(data: Mapping[str, Any], path: str) -> Any:
    node: Any = data
    for key in path.split("."):
        if isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        elif isinstance(node, Mapping) and key in node:
            node = node[key]
        else:
            raise KeyError(path)
    return node


def default_range(path: str, base: float, entry: Any = None, spread: float = DEFAULT_SPREAD,
                  exact: bool = True) -> tuple[float, float]:
    """The range of a factor: the source entry's ``range`` if it has one, else base +-spread.

    A range given on a prefix of the path (``exact`` False: the entry covers several parameters)
    is used only if it holds the parameter's value (``pools.x.staff: {range: [3, 12]}`` may be
    meant for the total, not for each role in it), and not for the ``sd`` of a distribution
    (``levels.grid.follow_up_days: {range: [0.5, 3]}`` is a range of the time, i.e. of its mean).

    Probabilities (settle, availability) are clipped to [0, 1]; integer ranges are rounded half
    up to whole numbers of at least 1 (so 1 +-50% gives 1..2, 3 +-50% gives 2..5).
    """
    rng = entry.get("range") if isinstance(entry, Mapping) else getattr(entry, "range", None)
    if rng is not None and (exact or (float(rng[0]) <= base <= float(rng[1]) and not path.endswith(".sd"))):
        lo, hi = float(rng[0]), float(rng[1])
    else:
        lo, hi = base * (1.0 - spread), base * (1.0 + spread)
        lo, hi = min(lo, hi), max(lo, hi)
    if _is_probability(path):
        lo, hi = max(0.0, lo), min(1.0, hi)
    if path.rsplit(".", 1)[-1] == "hours_per_week":
        hi = min(hi, 168.0)
    if _is_integer(path):
        lo, hi = float(max(1, math.floor(lo + 0.5))), float(max(1, math.floor(hi + 0.5)))
    return lo, hi


def parse_param(text: str, data: Mapping[str, Any]) -> Factor:
    """A factor from ``key.path=low..high`` (or just ``key.path``: the default range)."""
    path, sep, rng = text.partition("=")
    path = path.strip()
    try:
        base = _get(data, path)
    except KeyError:
        raise ScenarioError([Problem("--param", path, "no such key in the scenario")]) from None
    if not _numeric(base):
        raise ScenarioError([Problem("--param", path, f"not a number (value {base!r}); give the path of a numeric leaf")])
    sources = data.get("sources") or {}
    key, entry = source_of(path, sources)
    if sep:
        m = re.fullmatch(r"\s*([-+0-9.eE]+)\s*\.\.\s*([-+0-9.eE]+)\s*", rng)
        if not m:
            raise ScenarioError([Problem("--param", path, f"expected key.path=low..high, got '{text}'")])
        lo, hi = float(m.group(1)), float(m.group(2))
    else:
        lo, hi = default_range(path, float(base), entry, exact=key == path)
    if not lo < hi:
        raise ScenarioError([Problem("--param", path, f"the range needs low < high, got {lo:g}..{hi:g}")])
    from ..provenance import source_text

    return Factor(path, lo, hi, float(base), _is_integer(path), source_text(entry))


def assumption_factors(data: Mapping[str, Any], spread: float = DEFAULT_SPREAD) -> tuple[list[Factor], list[tuple[str, str]]]:
    """Every numeric parameter whose source is an assumption, with its default range.

    Returns the factors and the (path, reason) of assumed parameters left out: mix shares
    (changing one breaks the sum to 1), run settings, the target defining an output, the
    single unit of the top level, non-numeric values and ranges of zero width.
    """
    from ..provenance import is_assumption, source_text

    sources = data.get("sources") or {}
    top_level = list(data.get("levels") or {})[-1:]
    factors, skipped = [], []
    for path, value in leaf_parameters(data):
        key, entry = source_of(path, sources)
        if not is_assumption(entry):
            continue
        head = path.split(".", 1)[0]
        if head in NOT_FACTORS_TOP:
            skipped.append((path, "run setting or output definition"))
        elif path.startswith(MIX_PREFIXES):
            skipped.append((path, "mix share: changing one alone breaks the sum to 1"))
        elif ".schedule." in path:
            skipped.append((path, "meeting schedule: a calendar choice, not a rate"))
        elif not _numeric(value):
            continue  # names, rosters, lists: not a scalar to vary
        elif top_level and path == f"levels.{top_level[0]}.units":
            skipped.append((path, "the top level is a single unit"))
        else:
            lo, hi = default_range(path, float(value), entry, spread, exact=key == path)
            integer = _is_integer(path)
            if not lo < hi:
                skipped.append((path, f"range of zero width ({lo:g}..{hi:g})"))
                continue
            factors.append(Factor(path, lo, hi, float(value), integer, source_text(entry)))
    return factors, skipped


def choose_factors(data: Mapping[str, Any], params: Sequence[str] = (), assumptions: bool = False,
                   spread: float = DEFAULT_SPREAD) -> tuple[list[Factor], list[tuple[str, str]]]:
    """The parameters to vary: every assumed one (with ``assumptions``) and each ``key.path[=low..high]``
    in ``params``, an explicit range overriding the assumption's; also the assumed ones not varied, and why."""
    factors, skipped = assumption_factors(data, spread) if assumptions else ([], [])
    by_path = {f.path: f for f in factors}
    by_path.update({f.path: f for f in (parse_param(p, data) for p in params)})
    return list(by_path.values()), skipped


def problem(factors: Sequence[Factor]) -> dict[str, Any]:
    """The SALib problem definition."""
    return {"num_vars": len(factors), "names": [f.path for f in factors], "bounds": [[f.low, f.high] for f in factors]}


def design(factors: Sequence[Factor], method: str, samples: int, seed: int, levels: int = MORRIS_LEVELS) -> np.ndarray:
    """SALib's design matrix (one row per model point) for Morris or Sobol (first and total order)."""
    if method == "morris":
        from SALib.sample import morris

        return morris.sample(problem(factors), samples, num_levels=levels, seed=seed)
    if method == "sobol":
        from SALib.sample import sobol

        return sobol.sample(problem(factors), samples, calc_second_order=False, seed=seed)
    raise ValueError(f"method must be one of {', '.join(METHODS)}")


# --------------------------------------------------------------------------- model points
def point_overrides(data: Mapping[str, Any], factors: Sequence[Factor], x: Sequence[float]) -> dict[str, Any]:
    """The key path -> value overrides of one design point.

    Triangular distributions whose low/mode/high were varied separately are put back in order
    (all three keys are then set), so that every point is a valid scenario.
    """
    over: dict[str, Any] = {f.path: f.value(v) for f, v in zip(factors, x)}
    for f in factors:
        parent, _, leaf = f.path.rpartition(".")
        if leaf not in ("low", "mode", "high"):
            continue
        try:
            node = _get(data, parent)
        except KeyError:
            continue
        if isinstance(node, Mapping) and node.get("dist") == "triangular":
            vals = sorted(over.get(f"{parent}.{k}", node[k]) for k in ("low", "mode", "high"))
            over.update({f"{parent}.low": vals[0], f"{parent}.mode": vals[1], f"{parent}.high": vals[2]})
    return over


def point_data(data: Mapping[str, Any], factors: Sequence[Factor], x: Sequence[float]) -> dict[str, Any]:
    """The resolved scenario mapping of one design point."""
    return apply_overrides(dict(data), point_overrides(data, factors, x), file="--param")


MAX_PROBLEMS = 5


def _check_points(data: Mapping[str, Any], points: Sequence[Mapping[str, Any]]) -> None:
    """Validate every design point first; report the first few invalid ones and how many there are."""
    bad: list[Problem] = []
    n_bad = 0
    for i, over in enumerate(points):
        try:
            validate_data(apply_overrides(dict(data), over, file="--param"), f"design point {i}")
        except ScenarioError as exc:
            n_bad += 1
            if n_bad <= MAX_PROBLEMS:
                values = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in over.items())
                bad += [Problem(p.file, p.path, f"{p.message} (at {values})") for p in exc.problems]
    if n_bad:
        bad.append(Problem("--param", "", f"{n_bad} of {len(points)} design points are not valid scenarios: "
                                          "narrow the ranges (--param key.path=low..high) that combine badly"))
        raise ScenarioError(bad)


def evaluate(data: Mapping[str, Any], factors: Sequence[Factor], X: np.ndarray, *, reps: int, seed: int,
             horizon_days: float | None = None, workers: int = 1, out: str | Path | None = None,
             progress: Callable[[int], None] | None = None, executor: Any = None,
             scheduler: Any = None) -> list[dict[str, float | None]]:
    """Mean of every metric over ``reps`` replications (same seed at every point) for each row of X.

    Points run through the sweep's resumable point runner (:func:`sim.experiments.sweep.evaluate_points`)
    on the chosen executor (local processes or Dask): with ``out`` every finished point is kept in
    ``out/points/<hash>.parquet`` and points found there are read back instead of run.
    ``progress`` is called once per distinct design point.
    """
    from .executors import executor_session
    from .inputs import Base
    from .sweep import PointsFailed, evaluate_points

    keys = point_keys(data, factors, X)
    unique = list(dict.fromkeys(keys))  # Morris trajectories may visit a point twice
    upoints = [json.loads(k) for k in unique]
    _check_points(data, upoints)
    base = Base(dict(data), str(data.get("name", "<scenario>")), validate_data(dict(data), "<scenario>"))
    with executor_session(executor, workers, scheduler) as ex:
        docs, failures = evaluate_points(base, upoints, reps, seed, horizon_days, ex, cache_dir=out, progress=progress)
    if failures:
        raise PointsFailed(failures)
    means = {k: {m: _mean(v) for m, v in doc["replications"].items()} for k, doc in zip(unique, docs)}
    return [means[k] for k in keys]


def point_keys(data: Mapping[str, Any], factors: Sequence[Factor], X: np.ndarray) -> list[str]:
    """A canonical text of each design point's overrides (equal for points the model sees as equal)."""
    return [json.dumps(point_overrides(data, factors, x), sort_keys=True) for x in X]


def _mean(values: Iterable[float]) -> float | None:
    x = np.asarray([np.nan if v is None else v for v in values], dtype=float)
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else None


# --------------------------------------------------------------------------- analysis
def analyse(factors: Sequence[Factor], method: str, X: np.ndarray, Y: np.ndarray, metric: str, seed: int,
            levels: int = MORRIS_LEVELS) -> pd.DataFrame:
    """SALib's indices of one metric: one row per factor, ranked (1 = most influential)."""
    prob = problem(factors)
    y = np.asarray(Y, dtype=float)
    if not np.all(np.isfinite(y)):
        bad = int((~np.isfinite(y)).sum())
        raise ValueError(f"metric {metric} is undefined at {bad} of {y.size} design points "
                         "(no closed cases, or no target_days for within_target_share)")
    if method == "morris":
        from SALib.analyze import morris

        si = morris.analyze(prob, X, y, num_levels=levels, conf_level=0.95, seed=seed)
        df = pd.DataFrame({"parameter": prob["names"], "metric": metric, "mu": np.asarray(si["mu"], float),
                           "mu_star": np.asarray(si["mu_star"], float), "mu_star_conf": np.asarray(si["mu_star_conf"], float),
                           "sigma": np.asarray(si["sigma"], float)})
        key = "mu_star"
    else:
        from SALib.analyze import sobol

        si = sobol.analyze(prob, y, calc_second_order=False, conf_level=0.95, seed=seed)
        df = pd.DataFrame({"parameter": prob["names"], "metric": metric, "S1": np.asarray(si["S1"], float),
                           "S1_conf": np.asarray(si["S1_conf"], float), "ST": np.asarray(si["ST"], float),
                           "ST_conf": np.asarray(si["ST_conf"], float)})
        key = "ST"
    df["rank"] = df[key].rank(ascending=False, method="min").astype(int)
    return df.sort_values(["rank", "parameter"]).reset_index(drop=True)


@dataclass
class SensitivityResult:
    """Design, model outputs and indices of a sensitivity study."""

    scenario: str
    method: str
    factors: list[Factor]
    metrics: list[str]
    X: np.ndarray
    outputs: list[dict[str, float | None]]
    samples: int
    seed: int
    reps: int
    horizon_days: float
    warmup_days: float
    levels: int = MORRIS_LEVELS
    skipped: list[tuple[str, str]] = field(default_factory=list)
    table: pd.DataFrame = field(init=False)

    def __post_init__(self) -> None:
        frames = [analyse(self.factors, self.method, self.X, self.Y(m), m, self.seed, self.levels) for m in self.metrics]
        self.table = pd.concat(frames, ignore_index=True)

    def Y(self, metric: str) -> np.ndarray:
        return np.array([np.nan if o.get(metric) is None else o[metric] for o in self.outputs], dtype=float)

    def ranking(self, metric: str) -> list[str]:
        """Parameters from most to least influential on a metric."""
        return list(self.table[self.table["metric"] == metric]["parameter"])

    def points(self) -> pd.DataFrame:
        """One row per design point: the values given to the model and the metric means."""
        rows = []
        for x, o in zip(self.X, self.outputs):
            rows.append({**{f.path: f.value(v) for f, v in zip(self.factors, x)}, **{m: o.get(m) for m in self.metrics}})
        return pd.DataFrame(rows)

    def to_json(self) -> dict[str, Any]:
        cols = MORRIS_COLUMNS if self.method == "morris" else SOBOL_COLUMNS
        indices: dict[str, dict[str, dict[str, float]]] = {}
        for m in self.metrics:
            sub = self.table[self.table["metric"] == m]
            indices[m] = {r["parameter"]: {c: _num(r[c]) for c in cols[2:]} for r in sub.to_dict("records")}
        return {"kind": "sensitivity", "scenario": self.scenario, "method": self.method, "samples": self.samples,
                "design_points": int(len(self.X)), "levels": self.levels if self.method == "morris" else None,
                "seed": self.seed, "replications": self.reps, "horizon_days": self.horizon_days,
                "warmup_days": self.warmup_days, "metrics": self.metrics,
                "factors": [{"parameter": f.path, "low": f.low, "high": f.high, "base": f.base, "integer": f.integer,
                             "source": f.source} for f in self.factors],
                "skipped": [{"parameter": p, "reason": r} for p, r in self.skipped],
                "indices": indices, "ranking": {m: self.ranking(m) for m in self.metrics}}


def _num(x: Any) -> Any:
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return None if math.isnan(x) else float(x)
    return x


def run_sensitivity(data: Mapping[str, Any], factors: Sequence[Factor], metrics: Sequence[str], *, method: str = "morris",
                    samples: int | None = None, reps: int | None = None, seed: int | None = None,
                    horizon_days: float | None = None, workers: int = 1, out: str | Path | None = None,
                    progress: Callable[[int], None] | None = None, levels: int = MORRIS_LEVELS,
                    skipped: Sequence[tuple[str, str]] = (), executor: Any = None,
                    scheduler: Any = None) -> SensitivityResult:
    """Draw the design with SALib, run every point (CRN across points) and analyse each metric."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}")
    if not factors:
        raise ScenarioError([Problem("--param", "", "no parameters to vary: give --param or --assumptions")])
    base = validate_data(dict(data), "<scenario>")
    known = metric_names(base)
    unknown = [m for m in metrics if m not in known]
    if unknown:
        raise ScenarioError([Problem("--metric", m, f"unknown metric; expected one of {', '.join(known)}") for m in unknown])
    samples = samples or DEFAULT_SAMPLES[method]
    reps = reps or base.replications
    seed = base.seed if seed is None else seed
    X = design(factors, method, samples, seed, levels)
    outputs = evaluate(data, factors, X, reps=reps, seed=seed, horizon_days=horizon_days, workers=workers, out=out,
                       progress=progress, executor=executor, scheduler=scheduler)
    return SensitivityResult(base.name, method, list(factors), list(metrics), X, outputs, samples, seed, reps,
                             horizon_days if horizon_days is not None else base.horizon_days, base.warmup_days, levels,
                             list(skipped))


# --------------------------------------------------------------------------- output
def plot(result: SensitivityResult, path: str | Path | None = None):
    """Tornado/bar chart: per metric, the index of each parameter with its 95% confidence bar."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(result.metrics)
    k = len(result.factors)
    fig, axes = plt.subplots(1, n, figsize=(6.0 * n, 0.3 * k + 1.8), squeeze=False, layout="constrained")
    for ax, m in zip(axes[0], result.metrics):
        sub = result.table[result.table["metric"] == m].iloc[::-1]
        y = np.arange(len(sub))
        if result.method == "morris":
            ax.barh(y, sub["mu_star"], xerr=sub["mu_star_conf"], color="tab:blue", alpha=0.8, capsize=3, label="mu*")
            ax.plot(sub["sigma"], y, "D", color="tab:orange", markersize=4, label="sigma (interactions)")
            ax.set_xlabel("Morris mu* (95% bootstrap CI)")
        else:
            ax.barh(y + 0.2, sub["ST"], height=0.4, xerr=sub["ST_conf"], color="tab:red", alpha=0.8, capsize=3, label="total (ST)")
            ax.barh(y - 0.2, sub["S1"], height=0.4, xerr=sub["S1_conf"], color="tab:blue", alpha=0.8, capsize=3, label="first (S1)")
            ax.set_xlabel("Sobol index (95% bootstrap CI)")
        ax.set_yticks(y, sub["parameter"], fontsize=8)
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_title(m, fontsize=10)
        ax.legend(fontsize=8, loc="lower right")
    fig.suptitle(f"{result.scenario}: {result.method} sensitivity, {len(result.X)} points x {result.reps} replications",
                 fontsize=10)
    if path is not None:
        import io

        from ..results import atomic_write_bytes

        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110)
        plt.close(fig)
        atomic_write_bytes(path, buf.getvalue())
        return None
    return fig
