"""Confidence intervals over replications, and paired differences between scenarios.

Every interval is Student's t interval with Hall's (1992) skewness correction, intersected
with the metric's physical bounds from the catalogue (a share stays in [0, 1], a count or a
time is never negative). docs/validation.md states the method and shows its coverage.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

CONFIDENCE = 0.95


def _t_quantile(confidence: float, df: int) -> float:
    from scipy import stats  # imported when first needed: it costs most of a short command's start-up

    return float(stats.t.ppf(0.5 + confidence / 2.0, df))


def t_interval(values: np.ndarray | list[float], confidence: float = CONFIDENCE) -> tuple[float, float, float, int]:
    """Mean and plain two-sided t confidence interval of the finite values: (mean, low, high, n).

    The textbook interval, kept as the reference that :func:`interval` improves on."""
    return _interval(values, confidence, skew_corrected=False)


def interval(values: np.ndarray | list[float], confidence: float = CONFIDENCE, *, lower: float | None = None,
             upper: float | None = None) -> tuple[float, float, float, int]:
    """Mean and confidence interval of the finite values, (mean, low, high, n), within [lower, upper].

    Hall's transformation removes the first-order skewness of the t statistic, so right-skewed
    outputs (queue lengths, waits near saturation) keep their coverage with few replications;
    for symmetric outputs it is the t interval. Intersecting with the bounds never lowers
    coverage, because the true mean lies within them. Fewer than three values, or no spread:
    the plain t interval (then clipped).
    """
    return _interval(values, confidence, lower=lower, upper=upper)


def _interval(values: np.ndarray | list[float], confidence: float, *, lower: float | None = None,
              upper: float | None = None, skew_corrected: bool = True) -> tuple[float, float, float, int]:
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = x.size
    if n == 0:
        return (math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if n == 1:
        return (mean, math.nan, math.nan, 1)
    sd = float(x.std(ddof=1))
    t = _t_quantile(confidence, n - 1)
    se = sd / math.sqrt(n)
    if not skew_corrected or n < 3 or sd**3 == 0.0:  # no spread, or so little that its cube underflows
        lo, hi = mean - t * se, mean + t * se
    else:
        gamma = float(((x - mean) ** 3).mean()) / sd**3
        a = gamma / (3.0 * math.sqrt(n))
        b = gamma / (6.0 * math.sqrt(n))
        lo, hi = mean - se * _hall_inverse(t, a, b), mean - se * _hall_inverse(-t, a, b)
    if lower is not None:
        lo, hi = max(lo, lower), max(hi, lower)
    if upper is not None:
        lo, hi = min(lo, upper), min(hi, upper)
    return (mean, lo, hi, n)


def _hall_inverse(v: float, a: float, b: float) -> float:
    """Inverse of Hall's g(T) = ((1 + aT)^3 - 1) / (3a) + b, which is monotone in T."""
    if abs(a) < 1e-12:
        return v - b
    return float((np.cbrt(1.0 + 3.0 * a * (v - b)) - 1.0) / a)


def metric_interval(metric: str, values: np.ndarray | list[float], confidence: float = CONFIDENCE
                    ) -> tuple[float, float, float, int]:
    """:func:`interval` within the catalogue's bounds of ``metric`` (none for a name it does not know)."""
    from .. import catalogue

    lower, upper = catalogue.bounds(metric)
    return interval(values, confidence, lower=lower, upper=upper)


def summarise(per_rep: pd.DataFrame, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """One row per metric: mean, ci_low, ci_high, n over the replications (rows) of per_rep."""
    import pandas as pd

    rows = []
    for metric in per_rep.columns:
        if metric == "rep":
            continue
        mean, lo, hi, n = metric_interval(metric, per_rep[metric].to_numpy(), confidence)
        rows.append({"metric": metric, "mean": mean, "ci_low": lo, "ci_high": hi, "n": n})
    return pd.DataFrame(rows, columns=["metric", "mean", "ci_low", "ci_high", "n"])


def paired_difference(a: np.ndarray, b: np.ndarray, confidence: float = CONFIDENCE, metric: str | None = None
                      ) -> tuple[float, float, float, int]:
    """Mean of b - a over replications paired by number, with its interval; with ``metric``, within the
    bounds a difference of that metric can take (for a share, [-1, 1])."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    ok = np.isfinite(a) & np.isfinite(b)
    lower = upper = None
    if metric is not None:
        from .. import catalogue

        lo, hi = catalogue.bounds(metric)
        if lo is not None and hi is not None:
            lower, upper = lo - hi, hi - lo
    return interval(b[ok] - a[ok], confidence, lower=lower, upper=upper)
