"""Reporting channels: cases that enter above the bottom level (QR codes, WeChat groups, hotlines).

Each case draws one uniform from the "channel" stream at arrival (in the same vectorised
blocks as the arrivals, but from its own stream, so arrivals, severities and handling times
stay the same with or without channels). Channel ``i`` takes the cases whose uniform falls
in its slice [lo_i, lo_i + share_i) and whose severity and category it accepts; they start
at the channel's level and skip the levels below it.
"""

from __future__ import annotations

import numpy as np

from ..scenario.schema import Scenario
from ..streams import stream
from .arrivals import CaseBlock


class ChannelTable:
    """Assigns the entry level of every case of a block, and counts arrivals per channel."""

    def __init__(self, scenario: Scenario, seed: int, rep: int, warmup: float):
        self.rng = stream(seed, rep, "channel")
        self.warmup = warmup
        self.names = list(scenario.channels)
        self.slices: list[tuple[float, float, int, np.ndarray, np.ndarray]] = []
        lo = 0.0
        for ch in scenario.channels.values():
            sev_ok = np.array([ch.severities is None or s in ch.severities for s in scenario.severities])
            cat_ok = np.array([ch.categories is None or c in ch.categories for c in scenario.categories])
            self.slices.append((lo, lo + ch.share, scenario.level_names.index(ch.enters_at), sev_ok, cat_ok))
            lo += ch.share
        self.counts = [0] * len(self.names)

    def assign(self, block: CaseBlock) -> list[int]:
        """Entry level index of each case of the block (0: the bottom level)."""
        n = len(block.times)
        u = self.rng.random(n)
        sev = np.asarray(block.severity)
        cat = np.asarray(block.category)
        counted = np.asarray(block.times) >= self.warmup
        start = np.zeros(n, dtype=np.int64)
        for i, (lo, hi, level, sev_ok, cat_ok) in enumerate(self.slices):
            hit = (u >= lo) & (u < hi) & sev_ok[sev] & cat_ok[cat]
            start[hit] = level
            self.counts[i] += int((hit & counted).sum())
        return start.tolist()

    def summary(self, arrived: int) -> dict[str, float]:
        nan = float("nan")
        return {f"arrived_share.channel.{name}": (c / arrived if arrived else nan) for name, c in zip(self.names, self.counts)}
