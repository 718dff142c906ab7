"""Figures for planners, drawn from the tables the runner returns.

Every public function takes tables (or a ``RunResult`` / ``CompareResult``, from which it takes
them) and returns a matplotlib ``Figure``; nothing is shown or saved here. Scenario series use
the Okabe-Ito colour-blind-safe palette *and* distinct line styles and markers, so the figures
also read in black-and-white print. Uncertainty is always drawn: 95% t confidence intervals
over replications, the same as in the CLI tables.

    from sim import plots
    fig = plots.settlement_funnel(compare_result)      # or {"fangxing": replications_df, ...}
    fig.savefig("funnel.png", dpi=150)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import sys

import matplotlib

if "ipykernel" not in sys.modules:  # scripts, CLI and CI write files only; Jupyter keeps its inline backend
    matplotlib.use("Agg")

import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.container import BarContainer  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, PercentFormatter  # noqa: E402

from . import catalogue  # noqa: E402
from .experiments.stats import interval, metric_interval  # noqa: E402

__all__ = ["settlement_funnel", "time_to_settlement", "backlog_over_time", "utilisation_vs_staff",
           "metric_vs_parameter", "staffing_frontier", "hierarchy", "metric_label", "key_label", "target_lines",
           "mechanism_levels", "SWEEP_VALUE_COLUMNS"]

# Okabe & Ito (2008): distinguishable with every common colour-vision deficiency.
COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
LINESTYLES = ["-", "--", "-.", ":"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X"]
SWEEP_VALUE_COLUMNS = ("metric", "mean", "ci_low", "ci_high", "n")
CI_NOTE = "95% CI over replications"


def _style(i: int) -> dict[str, Any]:
    return {"color": COLOURS[i % len(COLOURS)], "linestyle": LINESTYLES[i % len(LINESTYLES)],
            "marker": MARKERS[i % len(MARKERS)]}


def _figure(width: float = 8.0, height: float = 4.5, ncols: int = 1, sharey: bool = False) -> tuple[Figure, Any]:
    # Figure() rather than pyplot: nothing is registered with a GUI or kept alive by pyplot, and
    # Jupyter shows a returned figure once (not again at the end of the cell).
    fig = Figure(figsize=(width, height), layout="constrained")
    ax = fig.subplots(1, ncols, sharey=sharey, squeeze=True)
    return fig, ax


# --------------------------------------------------------------------------- tables in
def _tables(data: Any, kind: str) -> dict[str, pd.DataFrame]:
    """{scenario name: table} from a mapping, a RunResult, a CompareResult or a list of RunResults.

    kind is "replications", "backlog" or "cases"; a run that did not record cases gives its
    replications table instead (the time-to-settlement plot then draws quantile points).
    """
    if isinstance(data, Mapping):
        return {str(k): v for k, v in data.items()}
    if isinstance(data, pd.DataFrame):
        return {"": data}
    runs = getattr(data, "results", None) or (data if isinstance(data, (list, tuple)) else [data])
    out = {}
    for r in runs:
        if kind == "replications":
            out[r.scenario.name] = r.replications
        elif kind == "backlog":
            out[r.scenario.name] = r.backlog()
        else:
            try:
                out[r.scenario.name] = r.cases()
            except ValueError:
                out[r.scenario.name] = r.replications
    return out


def _runs_attr(data: Any, fn) -> dict[str, Any]:
    """{scenario name: fn(scenario)} when data carries scenarios, else {}."""
    if isinstance(data, (Mapping, pd.DataFrame)):
        return {}
    runs = getattr(data, "results", None) or (data if isinstance(data, (list, tuple)) else [data])
    return {r.scenario.name: fn(r.scenario) for r in runs}


def _per_name(value: Any, names: Sequence[str], default: Any = None) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return {n: value.get(n, default) for n in names}
    return {n: (default if value is None else value) for n in names}


def target_lines(scenario) -> dict[str, float]:
    """The distinct target times of a scenario: {"target": 7.0} or {"target (big, major)": 30.0, ...}."""
    if scenario.target_days is None:
        return {}
    if not isinstance(scenario.target_days, Mapping):
        return {"target": float(scenario.target_days)}
    by_value: dict[float, list[str]] = {}
    for sev in scenario.severities:
        t = scenario.target_for(sev)
        if t is not None:
            by_value.setdefault(float(t), []).append(sev)
    if len(by_value) == 1:
        return {"target": next(iter(by_value))}
    return {f"target ({', '.join(sevs)})": t for t, sevs in by_value.items()}


# --------------------------------------------------------------------------- labels
def metric_label(metric: str) -> str:
    """A readable axis label with units for a flat metric name (from the metric catalogue)."""
    return catalogue.axis_label(metric)


def key_label(path: str) -> str:
    """'roles.grid_worker.staff_per_unit' -> 'grid worker: staff per unit' (the varied parameter)."""
    parts = path.split(".")
    if len(parts) >= 3 and parts[0] in ("roles", "levels"):
        return f"{parts[1].replace('_', ' ')}: {' '.join(parts[2:]).replace('_', ' ')}"
    return path.replace("_", " ").replace(".", ": ")


def _percent_axis(ax, axis: str = "y") -> None:
    """Percent tick labels with as many decimals as the tick spacing needs (98.8%, not 98.80%)."""
    ticks = ax.get_yticks() if axis == "y" else ax.get_xticks()
    step = float(np.min(np.diff(ticks))) * 100 if len(ticks) > 1 else 10.0
    decimals = max(0, math.ceil(-math.log10(step) - 1e-9)) if step > 0 else 0
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(PercentFormatter(1.0, decimals=decimals))


def _plural(word: str, n: int) -> str:
    if n == 1:
        return word
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    return word + "s"


def _legend_below(ax, ncol: int, **kw: Any) -> None:
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.figure.legend(handles, labels, loc="outside lower center", ncol=max(1, ncol), frameon=False, **kw)


# --------------------------------------------------------------------------- settlement funnel
def mechanism_levels(scenario) -> dict[str, str]:
    """{"meeting.weekly_conflict": "community", "pool.x": ..., "partner.y": ...}: the level each item of a
    mechanism that settles cases sits at (those with a ``settled_share.<kind>.<name>`` metric)."""
    from .mechanisms import settler_sites

    return settler_sites(scenario)


def _mechanism_label(key: str) -> str:
    kind, _, name = key.partition(".")
    return f"{name.replace('_', ' ')} {kind}"


def settlement_funnel(data: Any, *, separate_levels: int = 3, mechanisms: Mapping[str, str] | None = None,
                      title: str | None = None) -> Figure:
    """Share of closed cases settled at each level, above, and unresolved: one stacked bar per scenario.

    Takes per-replication tables (``RunResult.replications``; one per scenario). The first
    ``separate_levels`` levels get their own segment, higher ones are summed as "above <level>".
    Cases settled by a meeting, pool or partner (``settled_share.meeting.<name>`` ...) are drawn
    as a dotted segment right after the level the mechanism sits at (``mechanisms``: {"meeting.x":
    level}, taken from the scenarios when runs are given); a mechanism of unknown level gets a
    grey segment before "unresolved". Error bars at each boundary are the 95% CI of the share
    settled at or below it, computed from the replications (exact for the cumulative shares).
    """
    tables = _tables(data, "replications")
    names = list(tables)
    where: dict[str, str] = {}
    for m in _runs_attr(data, mechanism_levels).values():
        where.update(m)
    where.update(mechanisms or {})
    levels: list[str] = []
    mechs: list[str] = []
    for df in tables.values():
        for c in df.columns:
            if not c.startswith("settled_share."):
                continue
            key = c.split(".", 1)[1]
            target = mechs if catalogue.mechanism_item(c) else levels
            if key not in target:
                target.append(key)
    shown, above = levels[:separate_levels], levels[separate_levels:]
    blues = matplotlib.colormaps["Blues"]
    n_col = len(shown) + (1 if above else 0)
    colour_of = [blues(0.25 + 0.65 * i / max(1, n_col - 1)) for i in range(n_col)]
    # (label, columns, colour, hatch)
    segments: list[tuple[str, list[str], Any, str | None]] = []
    hatch_of = {mk: ["..", "xx", "\\\\\\", "++", "oo"][i % 5] for i, mk in enumerate(mechs)}
    for i, lv in enumerate(shown):
        segments.append((lv, [f"settled_share.{lv}"], colour_of[i], None))
        for mk in mechs:
            if where.get(mk) == lv:
                segments.append((f"{lv}: {_mechanism_label(mk)}", [f"settled_share.{mk}"], colour_of[i], hatch_of[mk]))
    if above:
        cols = [f"settled_share.{lv}" for lv in above] + [f"settled_share.{mk}" for mk in mechs if where.get(mk) in above]
        segments.append((f"above {shown[-1]} ({', '.join(above)})", cols, colour_of[-1], None))
    for mk in mechs:
        if where.get(mk) not in levels:
            segments.append((_mechanism_label(mk), [f"settled_share.{mk}"], "#bbbbbb", hatch_of[mk]))
    segments.append(("unresolved", ["unresolved_share"], "#ffffff", "///"))

    fig, ax = _figure(8.5, 1.9 + 0.75 * len(names))
    y = np.arange(len(names))[::-1]
    for si, (label, cols, colour, hatch) in enumerate(segments):
        before = [c for seg in segments[:si] for c in seg[1]]
        lefts, widths = [], []
        for name in names:
            df = tables[name]
            cum = df.reindex(columns=before).fillna(0.0).sum(axis=1).to_numpy() if before else np.zeros(len(df))
            part = df.reindex(columns=cols).fillna(0.0).sum(axis=1).to_numpy()
            ok = np.isfinite(part) & np.isfinite(cum)
            lefts.append(float(np.mean(cum[ok])) if ok.any() else 0.0)
            widths.append(float(np.mean(part[ok])) if ok.any() else 0.0)
        if not any(w > 0 for w in widths) and any(c.split(".", 1)[1] in mechs for c in cols if c.startswith("settled_share.")):
            continue  # a mechanism none of these scenarios used
        bars = ax.barh(y, widths, left=lefts, height=0.6, color=colour, edgecolor="#333333", linewidth=0.6,
                       hatch=hatch, label=label)
        for rect, w in zip(bars, widths):
            if w >= 0.045:
                r, g, b, _ = to_rgba(colour)
                dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
                ax.text(rect.get_x() + w / 2, rect.get_y() + rect.get_height() * 0.68, f"{w:.0%}", ha="center",
                        va="center", fontsize=9, color="white" if dark and hatch is None else "black",
                        bbox=None if hatch is None else {"facecolor": "white", "edgecolor": "none", "pad": 1})
    # the CI of the cumulative share at each boundary between segments (the last one is 1 - unresolved)
    for yi, name in zip(y, names):
        df = tables[name]
        cols_so_far: list[str] = []
        for label, cols, _, _ in segments[:-1]:
            cols_so_far += cols
            cum = df.reindex(columns=cols_so_far).fillna(0.0).sum(axis=1).to_numpy()
            mean, lo, hi, n = interval(cum, lower=0.0, upper=1.0)
            if n > 1 and math.isfinite(lo) and df.reindex(columns=cols).fillna(0.0).to_numpy().sum() > 0:
                ax.errorbar(mean, yi - 0.12, xerr=[[mean - lo], [hi - mean]], fmt="none", ecolor="black", elinewidth=1.2,
                            capsize=4, capthick=1.2, zorder=5)
    reps = {name: len(df) for name, df in tables.items()}
    ax.set_yticks(y, [f"{n}\n({reps[n]} reps)" if n else f"({reps[n]} reps)" for n in names])
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("share of closed cases (settled or unresolved) that arrived after warm-up")
    ax.set_title(f"{title or 'Where disputes are settled'}\nerror bars: 95% CI of the share settled at or below each boundary",
                 loc="left", fontsize=11)
    ncol = sum(1 for c in ax.containers if isinstance(c, BarContainer))
    _legend_below(ax, ncol if ncol <= 4 else 3)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


# --------------------------------------------------------------------------- time to settlement
def _day_ticks(ax, lo: float, hi: float) -> None:
    ticks = [(1 / 24, "1 h"), (4 / 24, "4 h"), (0.5, "12 h"), (1, "1 d"), (2, "2 d"), (7, "7 d"), (14, "14 d"),
             (30, "30 d"), (90, "90 d"), (365, "1 yr")]
    keep = [(t, s) for t, s in ticks if lo <= t <= hi]
    ax.xaxis.set_major_locator(FixedLocator([t for t, _ in keep]))
    ax.set_xticklabels([s for _, s in keep])
    ax.xaxis.set_minor_locator(FixedLocator([]))


def time_to_settlement(data: Any, *, target_days: Any = None, warmup_days: Any = 0.0, title: str | None = None) -> Figure:
    """ECDF of days from arrival to settlement per scenario, with the target time marked.

    y is the share of closed cases (arrived after warm-up) settled within x days, so at a single
    target it equals the closed-only ``within_target_share_closed`` metric (``within_target_share``
    also counts open cases past their target as missed), and it levels off at the settled share.
    Targets per severity are drawn as one line each (the curve is over all severities).
    The line is the mean over replications of each replication's curve, the band its 95% CI.
    Needs per-case tables (``RunResult.cases()``, runs with ``record_cases=True``). For a
    scenario given only a replications table, the median and 90th percentile (with 95% CIs)
    are drawn as points on an approximate dashed curve instead.
    ``target_days`` / ``warmup_days``: a number or {scenario: number}; taken from the
    scenarios when a RunResult / CompareResult is given.
    """
    tables = _tables(data, "cases")
    names = list(tables)
    if target_days is None:
        targets = _runs_attr(data, target_lines)
    else:
        targets = {n: ({"target": float(t)} if isinstance(t, (int, float)) else dict(t or {}))
                   for n, t in _per_name(target_days, names).items()}
    warm = _runs_attr(data, lambda s: s.warmup_days) or _per_name(warmup_days, names, 0.0)

    closed: dict[str, pd.DataFrame] = {}
    for name, df in tables.items():
        if "days_to_close" in df.columns:
            closed[name] = df[(df["arrival_day"] >= (warm.get(name) or 0.0)) & df["outcome"].isin(["settled", "unresolved"])]
    times = np.concatenate([d.loc[d["outcome"] == "settled", "days_to_close"].to_numpy() for d in closed.values()] or [np.empty(0)])
    times = times[times > 0]
    lo_x, hi_x = (max(float(np.quantile(times, 0.002)), 1e-3), float(times.max()) * 1.3) if times.size else (math.inf, 0.0)
    for t_map in targets.values():
        hi_x = max([hi_x] + [t * 1.6 for t in (t_map or {}).values()])
    grid = np.geomspace(lo_x, hi_x, 400) if times.size else np.empty(0)
    # evaluate exactly at the targets too, so the curve there equals the within_target_share metric
    grid = np.unique(np.r_[grid, [t for t_map in targets.values() for t in (t_map or {}).values() if lo_x <= t <= hi_x]]) \
        if times.size else grid

    fig, ax = _figure(8.5, 5.0)
    approx_used = False
    for i, name in enumerate(names):
        df, st = tables[name], _style(i)
        if name in closed:
            d = closed[name]
            curves = []
            for _, g in d.groupby("rep"):
                s = np.sort(g.loc[g["outcome"] == "settled", "days_to_close"].to_numpy())
                curves.append(np.searchsorted(s, grid, side="right") / max(len(g), 1))
            if not curves:
                continue
            curves_a = np.asarray(curves)
            mean = curves_a.mean(axis=0)
            n = len(curves_a)
            ax.plot(grid, mean, color=st["color"], linestyle=st["linestyle"], linewidth=2,
                    label=f"{name} ({n} reps, {len(d):,} closed cases)")
            if n > 1:
                from scipy import stats

                half = stats.t.ppf(0.975, n - 1) * curves_a.std(axis=0, ddof=1) / math.sqrt(n)
                ax.fill_between(grid, np.clip(mean - half, 0, 1), np.clip(mean + half, 0, 1), color=st["color"],
                                alpha=0.2, linewidth=0)
        elif "days_to_settle.p50" in df.columns:
            approx_used = True
            settled_cols = [c for c in df.columns if c.startswith("settled_share.")]
            total = df[settled_cols].sum(axis=1).to_numpy()
            xs, ys, xerr, yerr = [], [], [], []
            for q, col in ((0.5, "days_to_settle.p50"), (0.9, "days_to_settle.p90")):
                mx, lx, hx, _ = metric_interval(col, df[col].to_numpy())
                my, ly, hy, _ = interval(q * total, lower=0.0, upper=1.0)
                xs.append(mx)
                ys.append(my)
                xerr.append((mx - lx, hx - mx) if math.isfinite(lx) else (0, 0))
                yerr.append((my - ly, hy - my) if math.isfinite(ly) else (0, 0))
            scalar_targets = list((targets.get(name) or {}).values())
            if len(scalar_targets) == 1 and "within_target_share" in df.columns:
                my, ly, hy, _ = metric_interval("within_target_share", df["within_target_share"].to_numpy())
                if math.isfinite(my):
                    xs.append(scalar_targets[0])
                    ys.append(my)
                    xerr.append((0, 0))
                    yerr.append((my - ly, hy - my) if math.isfinite(ly) else (0, 0))
            order = np.argsort(xs)
            ax.errorbar(np.asarray(xs)[order], np.asarray(ys)[order], xerr=np.array(xerr)[order].T,
                        yerr=np.array(yerr)[order].T, color=st["color"], marker=st["marker"], linestyle=":", capsize=3,
                        label=f"{name} ({len(df)} reps)")
            lo_x, hi_x = min(lo_x, min(xs) / 3), max(hi_x, max(xs) * 1.6)
    if not math.isfinite(lo_x) or hi_x <= lo_x:
        lo_x, hi_x = 0.01, 30.0
    # Target lines: one black line when every scenario has the same single target; otherwise one line
    # per (scenario, target) in the scenario's colour, labelled vertically so that labels never collide.
    pairs = [(i, name, lab, t) for i, name in enumerate(names) for lab, t in (targets.get(name) or {}).items()]
    same = len({t for *_, t in pairs}) == 1
    drawn: set[float] = set()
    for i, name, lab, t in pairs:
        colour = "black" if same else _style(i)["color"]
        if same and t in drawn:
            continue
        drawn.add(t)
        ax.axvline(t, color=colour, linestyle=(0, (2, 2)), linewidth=1.2)
        if same:
            ax.annotate(f"{lab}: {t:g} days", (t, 0.03), xytext=(4, 0), textcoords="offset points", fontsize=9)
        else:
            who = f"{name} " if len(names) > 1 else ""
            ax.annotate(f"{who}{lab}: {t:g} d", (t, 0.03), xytext=(-3, 0), textcoords="offset points", fontsize=8,
                        color=colour, rotation=90, ha="right", va="bottom")
    ax.set_xscale("log")
    ax.set_xlim(lo_x, hi_x)
    _day_ticks(ax, lo_x, hi_x)
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.grid(True, which="major", color="#dddddd", linewidth=0.6)
    ax.set_xlabel("time from arrival to settlement (log scale; h = hours, d = days)")
    ax.set_ylabel("share of closed cases settled within that time")
    sub = ("no per-case rows: points are the median, 90th percentile and share within target, with 95% CIs;\n"
           "dotted lines only join them") if approx_used else f"line: mean; band: {CI_NOTE}"
    ax.set_title(f"{title or 'Time to settlement'}\n{sub}", loc="left", fontsize=11)
    ax.legend(loc="upper left", frameon=True, framealpha=0.9)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


# --------------------------------------------------------------------------- backlog
def backlog_over_time(data: Any, *, warmup_days: Any = None, households: Any = None, smooth_days: int | None = None,
                      title: str | None = None) -> Figure:
    """Open cases at the start of each day: mean over replications with a 95% CI band, per scenario.

    Takes backlog tables (``RunResult.backlog()``: rep, day, open_cases). The warm-up period,
    whose cases the metrics leave out, is shaded when known. With ``households`` (a number,
    {scenario: number}, or True to take them from the scenarios) the backlog is drawn per
    1,000 households, so that communities of different sizes can be compared. Runs longer than
    120 days are smoothed by a 7-day moving mean (``smooth_days``; 1 = none), which removes the
    weekly saw-tooth of office rosters; the daily mean stays in the background as a thin line.
    """
    tables = _tables(data, "backlog")
    names = list(tables)
    warm = _runs_attr(data, lambda s: s.warmup_days) or _per_name(warmup_days, names)
    if households is True:
        households = _runs_attr(data, lambda s: s.households) or None
    scale = {n: (1000.0 / h if h else 1.0) for n, h in _per_name(households, names).items()} if households else \
        dict.fromkeys(names, 1.0)
    if smooth_days is None:
        longest = max((int(t["day"].max()) + 1 for t in tables.values() if len(t)), default=0)
        smooth_days = 7 if longest > 120 else 1
    fig, ax = _figure(8.5, 4.5)
    from scipy import stats

    for i, name in enumerate(names):
        st = _style(i)
        daily = tables[name].pivot_table(index="day", columns="rep", values="open_cases") * scale[name]
        wide = daily.rolling(smooth_days, center=True, min_periods=smooth_days).mean() if smooth_days > 1 else daily
        n = wide.shape[1]
        mean = wide.mean(axis=1)
        if smooth_days > 1:
            ax.plot(daily.index, daily.mean(axis=1), color=st["color"], linewidth=0.5, alpha=0.35)
        what = f"{smooth_days}-day moving mean" if smooth_days > 1 else "mean"
        ax.plot(wide.index, mean, color=st["color"], linestyle=st["linestyle"], linewidth=1.8,
                label=f"{name} ({what} of {n} reps)")
        if n > 1:
            half = stats.t.ppf(0.975, n - 1) * wide.std(axis=1, ddof=1) / math.sqrt(n)
            ax.fill_between(wide.index, (mean - half).clip(lower=0), mean + half, color=st["color"], alpha=0.2, linewidth=0)
    w = max([v for v in warm.values() if v] or [0])
    if w:
        ax.axvspan(0, w, color="#bbbbbb", alpha=0.3, linewidth=0, label=f"warm-up ({w:g} days, not counted)")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("simulated day")
    ax.set_ylabel("open cases at the start of the day" + ("\nper 1,000 households" if households else ""))
    sub = f"line: {smooth_days}-day moving mean (thin: daily); band: {CI_NOTE}" if smooth_days > 1 else \
        f"line: mean; band: {CI_NOTE}"
    ax.set_title(f"{title or 'Backlog over time'}\n{sub}", loc="left", fontsize=11)
    ax.legend(loc="upper left", frameon=True, framealpha=0.9)
    ax.grid(True, color="#e5e5e5", linewidth=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


# --------------------------------------------------------------------------- sweeps
def _sweep_keys(sweep: pd.DataFrame) -> list[str]:
    return [c for c in sweep.columns if c not in SWEEP_VALUE_COLUMNS]


def _pick_x(keys: list[str], x: str | None) -> str:
    if x is not None:
        if x not in keys:
            raise ValueError(f"{x!r} is not a varied parameter of the sweep ({', '.join(keys)})")
        return x
    if not keys:
        raise ValueError("the sweep table has no parameter columns")
    return next((k for k in keys if k.endswith("staff_per_unit")), keys[0])


def _sweep_panels(sweep: pd.DataFrame, metrics: Sequence[str], x: str | None, title: str,
                  reference: float | Mapping[str, float] | None, reference_label: str = "") -> Figure:
    keys = _sweep_keys(sweep)
    xk = _pick_x(keys, x)
    others = sorted((k for k in keys if k != xk), key=lambda k: k != "scenario")  # a scenario column first
    metrics = [m for m in metrics if m in set(sweep["metric"])]
    if not metrics:
        raise ValueError("none of the requested metrics is in the sweep table")
    ncols = min(2, len(metrics))
    nrows = math.ceil(len(metrics) / ncols)
    fig = Figure(figsize=(4.6 * ncols + 0.6, 3.4 * nrows + 1.0), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[len(metrics):]:
        ax.set_visible(False)
    groups = list(sweep.groupby(others, sort=True)) if others else [((), sweep)]
    keys_of = [g[0] if isinstance(g[0], tuple) else (g[0],) for g in groups]
    first_values = list(dict.fromkeys(k[0] for k in keys_of if k))
    rest_values = list(dict.fromkeys(k[1:] for k in keys_of if k))
    xs_all = np.sort(pd.unique(sweep[xk].astype(float)))
    step = float(np.min(np.diff(xs_all))) if len(xs_all) > 1 else 1.0
    dodge = 0.06 * step  # side-by-side offset so overlapping lines and their error bars stay visible
    for ax, metric in zip(flat, metrics):
        for gi, (gkey, g) in enumerate(groups):
            d = g[g["metric"] == metric].sort_values(xk)
            gkey = gkey if isinstance(gkey, tuple) else (gkey,)
            # colour by the first other key (the scenario, if any), line style and marker by the rest
            ci_, si_ = (first_values.index(gkey[0]), rest_values.index(gkey[1:])) if len(gkey) > 1 else (gi, gi)
            st = {"color": COLOURS[ci_ % len(COLOURS)], "linestyle": LINESTYLES[si_ % len(LINESTYLES)],
                  "marker": MARKERS[si_ % len(MARKERS)]}
            label = ", ".join(f"{key_label(k)} = {v:g}" if isinstance(v, (int, float, np.number)) and k != "scenario"
                              else f"{v}" for k, v in zip(others, gkey)) or None
            yerr = np.vstack([(d["mean"] - d["ci_low"]).clip(lower=0), (d["ci_high"] - d["mean"]).clip(lower=0)])
            offset = (gi - (len(groups) - 1) / 2) * dodge
            ax.errorbar(d[xk].astype(float) + offset, d["mean"], yerr=np.nan_to_num(yerr), capsize=3, linewidth=1.6,
                        markersize=5, label=label, **st)
        fraction, busy = catalogue.is_fraction(metric), catalogue.unit(metric) == catalogue.RATIO
        ref = reference.get(metric) if isinstance(reference, Mapping) else (reference if fraction else None)
        top = float(np.nanmax(sweep.loc[sweep["metric"] == metric, ["mean", "ci_high"]].to_numpy(float)))
        if ref is not None and (not busy or top >= 0.5 * ref):
            ax.axhline(ref, color="#555555", linestyle=(0, (4, 3)), linewidth=1)
            if reference_label:
                ax.annotate(reference_label, (0.01, ref), xycoords=("axes fraction", "data"), xytext=(0, 3),
                            textcoords="offset points", fontsize=8, color="#555555")
        if busy:
            ax.set_ylim(0, max(top * 1.15, 0.05) if ref is None or top < 0.5 * ref else max(1.0, top * 1.05))
        ax.set_xlabel(key_label(xk))
        ax.set_ylabel(metric_label(metric), fontsize=9)
        lo_b, hi_b = catalogue.bounds(metric)  # t intervals of few replications can pass 0 or 100%
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo if lo_b is None else max(lo, lo_b), hi if hi_b is None else min(hi, hi_b + 0.02 * (hi - lo)))
        if fraction:
            _percent_axis(ax)
        ax.set_xticks(xs_all)
        ax.set_xticklabels([f"{v:g}" for v in xs_all])
        ax.grid(True, color="#e5e5e5", linewidth=0.6)
        ax.spines[["top", "right"]].set_visible(False)
    handles, labels = flat[0].get_legend_handles_labels()
    if handles:
        ncol = len(first_values) if len(rest_values) > 1 and 1 < len(first_values) <= 4 else min(3, len(labels))
        fig.legend(handles, labels, loc="outside lower center", ncol=ncol, frameon=False, fontsize=9)
    fig.suptitle(f"{title}\nerror bars: {CI_NOTE}", x=0.01, ha="left", fontsize=11)
    return fig


def utilisation_vs_staff(sweep: pd.DataFrame, *, x: str | None = None, metrics: Sequence[str] | None = None,
                         title: str | None = None) -> Figure:
    """Utilisation of each role against a staffing parameter, from a tidy sweep table.

    One panel per ``utilisation.<role>`` metric; x is the varied key path (default: the first
    ``...staff_per_unit`` column); one line per combination of the other varied parameters.
    Error bars: 95% CI over replications.
    """
    metrics = metrics or list(dict.fromkeys(m for m in sweep["metric"] if catalogue.unit(str(m)) == catalogue.RATIO))
    return _sweep_panels(sweep, metrics, x, title or "Utilisation against staff", 0.85,
                         "85%: waits grow steeply above this")


def metric_vs_parameter(sweep: pd.DataFrame, metrics: Sequence[str], *, x: str | None = None,
                        reference: float | Mapping[str, float] | None = None, title: str | None = None) -> Figure:
    """Any metrics of a tidy sweep table against a varied parameter, with 95% CI error bars.

    ``reference``: a requirement line; a number applies to share metrics, a mapping per metric.
    """
    return _sweep_panels(sweep, list(metrics), x, title or "Sweep", reference,
                         "requirement" if reference is not None else "")


def staffing_frontier(frontier: pd.DataFrame, *, metric: str | None = None, target: float | None = None,
                      cost_label: str = "staff cost per year (yuan)", title: str | None = None) -> Figure:
    """Cost against a service metric for every staffing tried; feasible points filled, the chosen one starred.

    Takes the frontier table (varied key paths, ``cost``, ``<metric>.mean``, ``<metric>.ci_low``,
    ``feasible``, ``chosen``). The whisker of each point reaches the 95% confidence bound its
    feasibility is judged on (the lower one; the upper one for a ``<=`` target, whose table
    has ``<metric>.ci_high`` only); the line joins the points no cheaper point beats.
    """
    means = [c[: -len(".mean")] for c in frontier.columns if c.endswith(".mean")]
    if not means:
        raise ValueError("the frontier table has no '<metric>.mean' column")
    metric = metric or ("within_target_share" if "within_target_share" in means else means[0])
    keys = [c for c in frontier.columns if c not in ("cost", "feasible", "chosen") and not c.startswith(tuple(f"{m}." for m in means))]
    df = frontier.sort_values("cost").reset_index(drop=True)
    y = df[f"{metric}.mean"].to_numpy(float)
    higher_better = f"{metric}.ci_low" in df or f"{metric}.ci_high" not in df
    bound = df.get(f"{metric}.ci_low" if higher_better else f"{metric}.ci_high", df[f"{metric}.mean"]).to_numpy(float)
    feas = df["feasible"].astype(bool).to_numpy() if "feasible" in df else np.ones(len(df), bool)
    fig, ax = _figure(8.5, 5.0)
    ax.vlines(df["cost"], bound, y, color="#777777", linewidth=1, zorder=1)
    if (~feas).any():
        ax.scatter(df["cost"][~feas], y[~feas], s=36, facecolor="white", edgecolor="#555555", linewidth=1.2, zorder=3,
                   label="does not meet the requirement")
    if feas.any():
        ax.scatter(df["cost"][feas], y[feas], s=36, color=COLOURS[0], marker="o", zorder=3, label="meets the requirement")
    signed = np.nan_to_num(y if higher_better else -y, nan=-np.inf)
    best = np.maximum.accumulate(signed)
    front = np.r_[True, best[1:] > best[:-1]] & np.isfinite(signed)
    ax.plot(df["cost"][front], y[front], color=COLOURS[0], linewidth=1.4, linestyle="-", zorder=2,
            label="frontier: best share for the money")
    if target is not None:
        ax.axhline(target, color=COLOURS[1], linestyle=(0, (4, 3)), linewidth=1.2, label=f"requirement: {target:.0%}")
    if "chosen" in df and df["chosen"].astype(bool).any():
        c = df[df["chosen"].astype(bool)].iloc[0]
        ax.scatter([c["cost"]], [c[f"{metric}.mean"]], s=220, marker="*", color=COLOURS[1], edgecolor="black",
                   linewidth=0.8, zorder=4, label="chosen: cheapest that meets it")
        text = "\n".join(f"{key_label(k)} = {c[k]:g}" if isinstance(c[k], (int, float, np.number)) else f"{k} = {c[k]}"
                         for k in keys)
        right = c["cost"] > (df["cost"].min() + df["cost"].max()) / 2
        ax.annotate(f"{text}\ncost {c['cost']:,.0f} a year", (c["cost"], c[f"{metric}.mean"]), xytext=(-14 if right else 14, -46),
                    ha="right" if right else "left",
                    textcoords="offset points", fontsize=8.5,
                    arrowprops={"arrowstyle": "-", "color": "#555555", "linewidth": 0.8},
                    bbox={"boxstyle": "round,pad=0.3", "facecolor": "white", "edgecolor": "#999999"})
    ax.set_xlabel(cost_label)
    ax.set_ylabel(metric_label(metric))
    if catalogue.is_fraction(metric):
        _percent_axis(ax)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    whisker = "down to the 95% lower" if higher_better else "up to the 95% upper"
    ax.set_title(f"{title or 'Staffing frontier: what each staffing tried costs and delivers'}\nwhisker: {whisker} confidence "
                 "bound, on which the requirement is judged", loc="left", fontsize=11)
    _legend_below(ax, 3, fontsize=9)
    ax.grid(True, color="#e5e5e5", linewidth=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


# --------------------------------------------------------------------------- hierarchy
def hierarchy(h: Any, *, max_units: int = 12, mechanisms: Mapping[str, str] | None = None,
              title: str | None = None) -> Figure:
    """The hierarchy as layers, bottom level at the bottom; a level with more than ``max_units``
    units is drawn as one box that says how many ("239 buildings"), never as a hairball.

    Takes a :class:`sim.hierarchy.Hierarchy` or its networkx graph (nodes (level, index) with
    ``level``, ``depth``, ``staff``, ``role`` attributes, edges child -> parent). ``mechanisms``
    ({"meeting.weekly_conflict": "community"}, see :func:`mechanism_levels`) are listed beside
    the level they sit at.
    """
    g: nx.DiGraph = h if isinstance(h, nx.Graph) else h.graph
    by_depth: dict[int, list[Any]] = {}
    for node, a in g.nodes(data=True):
        by_depth.setdefault(int(a["depth"]), []).append(node)
    depths = sorted(by_depth)
    fig, ax = _figure(9.0, 0.9 + 1.05 * len(depths))
    pos: dict[Any, tuple[float, float]] = {}
    boxes: dict[int, tuple[float, float]] = {}  # depth -> (x0, x1) of a summary box
    labels = []
    shade = matplotlib.colormaps["Blues"]
    for d in depths:
        nodes = sorted(by_depth[d], key=lambda n: n[1])
        a = g.nodes[nodes[0]]
        n, level = len(nodes), a["level"]
        colour = shade(0.2 + 0.6 * d / max(1, len(depths) - 1))
        role = a["role"].replace("_", " ")
        info = f"{n:,} {_plural(level, n)}\n{a['staff']} × {role} per {level}"
        if "households" in a:
            hh = [g.nodes[x]["households"] for x in nodes]
            info += f"\nabout {np.mean(hh):,.0f} households each"
        for mk, lv in (mechanisms or {}).items():
            if lv == level:
                info += f"\n+ {_mechanism_label(mk)}"
        ax.text(1.0, d, info, ha="left", va="center", fontsize=9, color="#222222")
        if n > max_units:
            boxes[d] = (0.03, 0.95)
            ax.add_patch(FancyBboxPatch((0.03, d - 0.2), 0.92, 0.4, boxstyle="round,pad=0.02", facecolor=colour,
                                        edgecolor="#333333", linewidth=1, zorder=2))
            ax.text(0.49, d, f"{n:,} {_plural(level, n)} (too many to draw one by one)", ha="center", va="center",
                    fontsize=10, zorder=3)
        else:
            xs = np.array([0.49]) if n == 1 else np.linspace(0.08, 0.9, n)
            for node, xv in zip(nodes, xs):
                pos[node] = (float(xv), float(d))
            ax.scatter(xs, [d] * n, s=300 if n <= 6 else 200, color=colour, edgecolor="#333333", zorder=3)
            if n > 1:
                for node, xv in zip(nodes, xs):
                    ax.text(xv, d, str(node[1] + 1), ha="center", va="center", fontsize=8, zorder=4)
        labels.append(level)
    level_of = {d: g.nodes[by_depth[d][0]]["level"] for d in depths}
    # edges: real ones between drawn units; from a summary box a fan to each drawn parent
    for d in depths[:-1]:
        up = d + 1
        if d in boxes and up in boxes:
            ax.annotate("", (0.49, up - 0.22), (0.49, d + 0.22), arrowprops={"arrowstyle": "-|>", "color": "#555555"})
        elif d in boxes:
            parents = sorted(by_depth[up], key=lambda n: n[1])
            counts = {p: g.in_degree(p) for p in parents}
            for p in parents:
                px, py = pos[p]
                ax.plot([px, px], [d + 0.22, py - 0.1], color="#777777", linewidth=0.8, zorder=1)
            c = list(counts.values())
            ax.text(0.0, d + 0.5, f"{min(c)}–{max(c)} {_plural(level_of[d], 2)} per {g.nodes[parents[0]]['level']}" if min(c) != max(c)
                    else f"{c[0]} {_plural(level_of[d], 2)} per {g.nodes[parents[0]]['level']}", fontsize=8, color="#555555", va="center")
        else:
            for child in by_depth[d]:
                for parent in g.successors(child):
                    if parent in pos:
                        (x0, y0), (x1, y1) = pos[child], pos[parent]
                        ax.plot([x0, x1], [y0, y1], color="#777777", linewidth=0.8, zorder=1)
                    elif up in boxes:
                        x0, y0 = pos[child]
                        ax.plot([x0, x0], [y0, up - 0.22], color="#777777", linewidth=0.8, zorder=1)
    ax.set_yticks(depths, labels)
    ax.set_ylim(depths[0] - 0.5, depths[-1] + 0.5)
    ax.set_xlim(-0.02, 1.3)
    ax.set_xticks([])
    ax.set_ylabel("level (cases escalate upwards)")
    ax.spines[["top", "right", "bottom"]].set_visible(False)
    ax.set_title(title or "Governance hierarchy", loc="left", fontsize=11)
    return fig


def time_split(table: pd.DataFrame, *, title: str = "share of on-duty hours") -> Figure:
    """Stacked bars per role: shares of on-duty hours on disputes, other duties and idle.

    ``table``: a tidy summary (``scenario``, ``metric``, ``mean``) with ``time_share.*`` rows,
    as ``run(...).summary`` or ``compare(...).table()`` give; one group of bars per scenario."""
    parts = ("disputes", "other_duties", "idle")
    rows = table[table.metric.str.startswith("time_share.")]
    if rows.empty:
        raise ValueError("no time_share.* metrics: no role of these scenarios has other duties")
    keys = rows.metric.str.split(".", n=2)
    rows = rows.assign(part=keys.str[1], role=keys.str[2])
    scen = rows["scenario"] if "scenario" in rows else pd.Series([""] * len(rows), index=rows.index)
    rows = rows.assign(label=(scen + " " + rows.role).str.strip())
    wide = rows.pivot_table(index="label", columns="part", values="mean", sort=False).reindex(columns=list(parts)).fillna(0.0)
    fig, ax = _figure(8.0, 0.5 * len(wide) + 1.5)
    left = np.zeros(len(wide))
    for i, part in enumerate(parts):
        ax.barh(wide.index, wide[part].to_numpy(), left=left, label=part.replace("_", " "), color=f"C{i}")
        left += wide[part].to_numpy()
    ax.set_xlim(0, 1)
    _percent_axis(ax, "x")
    ax.set_title(title)
    _legend_below(ax, 3)
    return fig
