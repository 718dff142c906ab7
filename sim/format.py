"""Numbers and metric values as text for tables and notebooks: significant figures, thousands
separators, shares as percentages, "–" for missing."""

from __future__ import annotations

import json
from typing import Any


def fmt(x: Any, digits: int = 3) -> str:
    """A value for a table cell: ``digits`` significant figures below 1, one more from 1 to 1000."""
    if x is None:
        return "–"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if hasattr(x, "item") and not isinstance(x, (list, dict)):  # numpy scalars
        x = x.item()
    if isinstance(x, float):
        if x != x:
            return "–"
        if x == 0:
            return "0"
        if abs(x) >= 1000:
            return f"{x:,.0f}"
        return f"{x:.{digits}g}" if abs(x) < 1 else f"{x:.{digits + 1}g}"
    if isinstance(x, (list, dict)):
        return json.dumps(x, ensure_ascii=False)
    return str(x)


def metric_text(metric: str, x: Any, *, signed: bool = False) -> str:
    """A value of a metric for reading: shares and utilisations as percentages, the rest as :func:`fmt`."""
    from . import catalogue

    if x is None or (isinstance(x, float) and x != x):
        return "–"
    unit = catalogue.info(metric).unit if catalogue.known(metric) else ""
    if unit in (catalogue.SHARE, catalogue.RATIO):
        return f"{x:+.1%}" if signed else f"{x:.1%}"
    text = fmt(float(x))
    return f"+{text}" if signed and x > 0 else text


def interval_text(result: Any, metric: str) -> str:
    """'mean (95% CI low–high)' of a metric of a run, shares as percentages."""
    m = result.metric(metric)
    return f"{metric_text(metric, m['mean'])} (95% CI {metric_text(metric, m['ci_low'])}–{metric_text(metric, m['ci_high'])})"


def summary_view(summary: Any, metrics: Any = None) -> Any:
    """Rows of a run's summary table (all, or the listed metrics present) as text: shares as percentages."""
    import pandas as pd

    rows = summary.set_index("metric")
    names = [m for m in (metrics if metrics is not None else rows.index) if m in rows.index]
    return pd.DataFrame({c: [metric_text(m, rows.loc[m, c]) for m in names] for c in ("mean", "ci_low", "ci_high")}
                        | {"n": [int(rows.loc[m, "n"]) for m in names]}, index=pd.Index(names, name="metric"))
