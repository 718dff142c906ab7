"""Handling-time distributions as vectorised inverse CDFs of uniforms.

Sampling by inverse transform keeps common random numbers aligned: a case's uniform at a
level is fixed when it arrives, so a longer mean handling time makes *that* case's handling
longer, rather than reshuffling which case gets which draw.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import special

from .scenario import schema


def inverse_cdf(spec: Any, u: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Quantiles of ``spec`` at uniforms ``u`` in [0, 1), multiplied by ``scale``."""
    if isinstance(spec, schema.Exponential):
        x = -spec.mean * np.log1p(-u)
    elif isinstance(spec, schema.LogNormal):
        s2 = math.log1p((spec.sd / spec.mean) ** 2)
        mu = math.log(spec.mean) - s2 / 2.0
        x = np.exp(mu + math.sqrt(s2) * special.ndtri(u))
    elif isinstance(spec, schema.Gamma):
        shape = (spec.mean / spec.sd) ** 2
        x = (spec.sd**2 / spec.mean) * special.gammaincinv(shape, u)
    elif isinstance(spec, schema.Triangular):
        a, c, b = spec.low, spec.mode, spec.high
        fc = (c - a) / (b - a)
        x = np.where(u < fc, a + np.sqrt(u * (b - a) * (c - a)), b - np.sqrt((1.0 - u) * (b - a) * (b - c)))
    elif isinstance(spec, schema.Fixed):
        x = np.full_like(u, spec.value, dtype=float)
    elif isinstance(spec, schema.Empirical):
        vals = np.asarray(spec.values, dtype=float)
        x = vals[np.minimum((u * len(vals)).astype(np.int64), len(vals) - 1)]
    else:  # pragma: no cover - the schema admits nothing else
        raise TypeError(f"unknown distribution {spec!r}")
    return x * scale
