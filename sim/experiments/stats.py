"""Confidence intervals over replications (t-distribution) and paired differences."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

CONFIDENCE = 0.95


def t_interval(values: np.ndarray | list[float], confidence: float = CONFIDENCE) -> tuple[float, float, float, int]:
    """Mean and two-sided t confidence interval of the finite values: (mean, low, high, n)."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = x.size
    if n == 0:
        return (math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if n == 1:
        return (mean, math.nan, math.nan, 1)
    from scipy import (
        stats,  # imported when first needed: it costs most of a short command's start-up
    )

    half = float(stats.t.ppf(0.5 + confidence / 2.0, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return (mean, mean - half, mean + half, n)


def summarise(per_rep: pd.DataFrame, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """One row per metric: mean, ci_low, ci_high, n over the replications (rows) of per_rep."""
    import pandas as pd

    rows = []
    for metric in per_rep.columns:
        if metric == "rep":
            continue
        mean, lo, hi, n = t_interval(per_rep[metric].to_numpy(), confidence)
        rows.append({"metric": metric, "mean": mean, "ci_low": lo, "ci_high": hi, "n": n})
    return pd.DataFrame(rows, columns=["metric", "mean", "ci_low", "ci_high", "n"])


def paired_difference(a: np.ndarray, b: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float, float, int]:
    """Mean of b - a over replications paired by number, with its t interval."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    ok = np.isfinite(a) & np.isfinite(b)
    return t_interval(b[ok] - a[ok], confidence)
