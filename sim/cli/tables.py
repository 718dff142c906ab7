"""Terminal output: a console sized for the terminal (120 columns when piped), progress bars on
stderr, and the result tables of run, compare, sweep and staff with short metric labels."""

from __future__ import annotations

import sys
from typing import Any, Callable, Sequence

from .. import catalogue
from ..format import fmt

PIPED_WIDTH = 120  # piped output (CI logs, files) is laid out for a 120-column terminal


def console(stderr: bool = False) -> Any:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, highlight=False, width=None if stream.isatty() else PIPED_WIDTH)


def progress(total: int | None, label: str, enabled: bool = True) -> tuple[Any, Callable[..., None]]:
    """A progress bar on stderr (so --json output stays clean); returns (bar, advance)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   TextColumn("eta"), TimeRemainingColumn(), console=console(stderr=True), transient=True,
                   disable=not enabled)
    task = bar.add_task(label, total=total)
    return bar, (lambda n=1: bar.advance(task, n))


def table(title: str, columns: Sequence[str], left: int = 1, unbroken: int = 0) -> Any:
    """A Rich table whose first ``left`` columns are left-aligned and the rest right-aligned; a header
    wraps between words, never inside one; the first ``unbroken`` columns (short values under a long
    name, such as varied keys) never wrap, so the others give way."""
    from rich.table import Table

    t = Table(title=title, title_justify="left")
    for i, c in enumerate(columns):
        t.add_column(c, justify="left" if i < left else "right", overflow="fold", no_wrap=i < unbroken,
                     min_width=max((len(w) for w in c.split()), default=1))
    return t


def interval(mean: Any, low: Any, high: Any) -> str:
    return f"{fmt(mean)} [{fmt(low)}, {fmt(high)}]"


def shown_metrics(names: Sequence[str], args: Any) -> list[str]:
    """The metrics a table shows: --metrics patterns, --all, or the headline metrics."""
    return catalogue.select(names, getattr(args, "metrics", None), everything=getattr(args, "all", False))


def hidden_note(total: int, shown: int) -> str:
    return f"{total - shown} more metrics: --all, or --metrics PATTERN" if shown < total else ""


def summary_table(title: str, summary: Any, metrics: Sequence[str]) -> Any:
    """metric (short label), mean and 95% CI of one run."""
    t = table(title, ["metric", "mean", "95% CI"])
    rows = summary.set_index("metric")
    for m in metrics:
        r = rows.loc[m]
        t.add_row(catalogue.short_label(m), fmt(r["mean"]), f"{fmt(r['ci_low'])} – {fmt(r['ci_high'])}")
    return t


def wide_table(title: str, wide: Any) -> Any:
    """A comparison as returned by :func:`sim.experiments.compare.wide_table` (text cells)."""
    names = [c for c in wide.columns if c != "metric"]
    t = table(title, ["metric", *names])
    for row in wide.itertuples(index=False):
        t.add_row(*row)
    return t


def plus_minus(mean: Any, low: Any, high: Any) -> str:
    """``mean ±half-width`` of a confidence interval: narrower than ``mean [low, high]``."""
    if low != low or high != high:
        return fmt(mean)
    return f"{fmt(mean)} ±{fmt((high - low) / 2, 2)}"


def sweep_table(title: str, tidy: Any, keys: Sequence[str], points: Sequence[dict], metrics: Sequence[str],
                fit: bool = True) -> tuple[Any, list[str]]:
    """One row per point: the varied values (headed by :func:`short_key`), then ``mean ±half-width`` per
    metric. With ``fit``, only the metrics whose columns fit in the console's width (service metrics
    first); returns the table and the metrics shown."""
    wide = tidy.set_index([*keys, "metric"])
    cells = {m: [plus_minus(*wide.loc[(*p.values(), m)][["mean", "ci_low", "ci_high"]]) for p in points]
             for m in metrics}
    heads = [short_key(k) for k in keys]
    used = sum(max(len(h), *(len(str(p[k])) for p in points)) + 3 for h, k in zip(heads, keys)) + 1
    shown = []
    order = [m for m in catalogue.SERVICE if m in metrics] + [m for m in metrics if m not in catalogue.SERVICE]
    for m in (order if fit else metrics):
        width = max(len(catalogue.short_label(m)), *(len(c) for c in cells[m])) + 3
        if fit and used + width > console().width:
            continue
        used += width
        shown.append(m)
    t = table(title, heads + [catalogue.short_label(m) for m in shown], left=len(keys), unbroken=len(keys))
    for i, point in enumerate(points):
        t.add_row(*[str(v) for v in point.values()], *[cells[m][i] for m in shown])
    return t, shown


def short_key(key: str) -> str:
    """A scenario key path for a column header: a role's staffing by the role's name, others by their
    last two parts (``roles.grid_worker.staff_per_unit`` -> ``grid_worker``, ``levels.grid.deadline_days``
    -> ``grid.deadline_days``)."""
    parts = key.split(".")
    if len(parts) == 3 and parts[0] == "roles" and parts[2] == "staff_per_unit":
        return parts[1]
    return ".".join(parts[-2:])


def short_column(name: str) -> str:
    """A frontier column (a key path, or metric.stat) shortened for the terminal."""
    if "." in name and not catalogue.known(name.rpartition(".")[0]):
        return short_key(name)
    metric, _, stat = name.rpartition(".")
    if stat in ("mean", "ci_low", "ci_high") and catalogue.known(metric):
        return f"{catalogue.short_label(metric)} {stat}"
    return name
