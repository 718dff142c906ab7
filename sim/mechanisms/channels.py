"""Reporting channels: cases that enter above the bottom level (QR codes, WeChat groups, hotlines).

Each case draws one uniform from the "channel" stream at arrival (in the same vectorised
blocks as the arrivals, but from its own stream, so arrivals, severities and handling times
stay the same with or without channels). Channel ``i`` takes the cases whose uniform falls
in its slice [lo_i, lo_i + share_i) and whose severity and category it accepts; they start
at the channel's level and skip the levels below it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from ..scenario.fields import MIX_TOLERANCE, Probability, Strict
from .base import Hooks, Mechanism, check_level, check_names, takes_text

if TYPE_CHECKING:  # pragma: no cover
    from ..scenario.schema import Scenario
    from .base import DescriptionRow
    from .context import Context, MetricSink


# --------------------------------------------------------------------------- schema
class Channel(Strict):
    """A reporting channel (QR code, WeChat group, hotline, mobile reporters) entering above the building.

    ``share`` of the matching cases come in through the channel and start at ``enters_at``,
    skipping the levels below it. Cases of no channel start at the bottom level.
    """

    share: Probability = Field(description="Share of matching cases that enter through this channel.")
    enters_at: str = Field(description="The level these cases enter at.")
    severities: list[str] | None = Field(None, description="Severities that may use the channel (default: all).")
    categories: list[str] | None = Field(None, description="Categories that may use the channel (default: all).")
    description: str = Field("", description="What the channel is, in words.")


# --------------------------------------------------------------------------- checks and description
def problems(scenario: "Scenario") -> list[str]:
    out: list[str] = []
    total = 0.0
    for name, ch in scenario.channels.items():
        p = f"channels.{name}"
        check_level(out, f"{p}.enters_at", ch.enters_at, scenario)
        check_names(out, f"{p}.severities", ch.severities, scenario.severities, "severity")
        check_names(out, f"{p}.categories", ch.categories, scenario.categories, "category")
        total += ch.share
    if total > 1.0 + MIX_TOLERANCE:
        out.append(f"channels: shares sum to {total:.6g}; at most 1 (the rest enter at the bottom level)")
    return out


def describe(scenario: "Scenario") -> list["DescriptionRow"]:
    return [("channel", name, ch.enters_at, f"{ch.share:.0%} of {takes_text(ch)}") for name, ch in scenario.channels.items()]


# --------------------------------------------------------------------------- runtime
class ChannelTable:
    """Assigns the entry level of every case of a block, and counts arrivals per channel."""

    def __init__(self, scenario: "Scenario", ctx: "Context"):
        import numpy as np

        self.np = np
        self.rng = ctx.stream("channel")
        self.warmup = ctx.warmup
        self.names = list(scenario.channels)
        self.slices: list[tuple[float, float, int, Any, Any]] = []
        lo = 0.0
        for ch in scenario.channels.values():
            sev_ok = np.array([ch.severities is None or s in ch.severities for s in scenario.severities])
            cat_ok = np.array([ch.categories is None or c in ch.categories for c in scenario.categories])
            self.slices.append((lo, lo + ch.share, ctx.level_index(ch.enters_at), sev_ok, cat_ok))
            lo += ch.share
        self.counts = [0] * len(self.names)

    def assign(self, block: Any) -> list[int]:
        """Entry level index of each case of an arrival block (0: the bottom level)."""
        np = self.np
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

    def hooks(self) -> Hooks:
        return Hooks(entry=self.assign)

    def report(self, sink: "MetricSink", end: float) -> None:
        nan = float("nan")
        arrived = sink.get("cases_arrived")
        for name, c in zip(self.names, self.counts):
            sink.put(f"arrived_share.channel.{name}", c / arrived if arrived else nan)


CHANNELS = Mechanism("channels", (Channel,), used=lambda sc: bool(sc.channels), problems=problems, describe=describe,
                     runtime=ChannelTable)
