"""Random draws one at a time from a named stream, generated in vectorised blocks.

Mechanisms (meetings, pools, partners) need a uniform or a handling time per case. Drawing
numpy scalars one by one is slow; these buffers draw a block at once and hand values out in
order, so a run stays a pure function of (scenario, seed, replication).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - numpy comes with the streams that feed these
    import numpy as np


BLOCK = 1024


class Uniforms:
    """Uniforms in [0, 1) from one generator, handed out one at a time."""

    __slots__ = ("rng", "buf", "i")

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.buf: list[float] = []
        self.i = 0

    def next(self) -> float:
        if self.i >= len(self.buf):
            self.buf = self.rng.random(BLOCK).tolist()
            self.i = 0
        self.i += 1
        return self.buf[self.i - 1]


class Durations:
    """Handling times per severity index (inverse CDF of uniforms), one block per severity at a time."""

    __slots__ = ("rng", "specs", "scale", "bufs", "pos")

    def __init__(self, rng: np.random.Generator, specs: list[Any], scale: float):
        self.rng = rng
        self.specs = specs
        self.scale = scale
        self.bufs: list[list[float]] = [[] for _ in specs]
        self.pos = [0] * len(specs)

    def next(self, sev: int) -> float:
        buf = self.bufs[sev]
        i = self.pos[sev]
        if i >= len(buf):
            buf = self.bufs[sev] = self.specs[sev].inverse_cdf(self.rng.random(BLOCK), self.scale).tolist()
            i = 0
        self.pos[sev] = i + 1
        return buf[i]
