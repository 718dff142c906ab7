"""Statistics accumulated while a replication runs, and its summary as flat metric names.

Nothing here keeps one row per case: counts, sums, a log-binned histogram for quantiles of
time to settlement (0.5% resolution), and time-weighted busy areas per level. Memory is
bounded by the number of levels and the length of the daily backlog series.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from .mechanisms.context import MetricSink

# Histogram of days to settlement: log10 bins from 1e-4 to 1e4 days, 500 bins per decade.
HIST_LO = -4.0
HIST_PER_DECADE = 500
HIST_BINS = int(8 * HIST_PER_DECADE)

ESCALATION_REASONS = ("failed", "ceiling", "deadline")


class BusyTime:
    """Staff-hours in service after the warm-up: the time-weighted count of cases in hand.

    ``start`` and ``end`` are on the case process's hot path, so each advances the clock inline.
    """

    __slots__ = ("warmup", "busy", "area", "last")

    def __init__(self, warmup: float):
        self.warmup = warmup
        self.busy = 0
        self.area = 0.0
        self.last = 0.0

    def advance(self, now: float) -> None:
        """Add the busy hours since the last change (those after the warm-up) up to ``now``."""
        if now > self.warmup:
            last = self.last
            self.area += self.busy * (now - (last if last > self.warmup else self.warmup))
        self.last = now

    def start(self, now: float) -> None:
        if now > self.warmup:
            last = self.last
            self.area += self.busy * (now - (last if last > self.warmup else self.warmup))
        self.last = now
        self.busy += 1

    def end(self, now: float) -> None:
        if now > self.warmup:
            last = self.last
            self.area += self.busy * (now - (last if last > self.warmup else self.warmup))
        self.last = now
        self.busy -= 1


@dataclass
class Metrics:
    """Accumulators of one replication. Case statistics count cases arriving after warm-up."""

    levels: list[str]
    warmup: float  # hours
    horizon: float  # hours
    extra_slots: int = 0  # settlement slots after the levels' (one per meeting, pool, partner)
    arrived: int = 0
    settled: int = 0
    unresolved: int = 0
    within_ceiling: int = 0
    within_target: int = 0
    closed: int = 0
    open_now: int = 0  # all open cases, counted or not
    settle_time_sum: float = 0.0  # days
    unstable: bool = False
    unstable_level: str = ""
    settled_at: list[int] = field(default_factory=list)
    wait_sum: list[float] = field(default_factory=list)
    wait_n: list[int] = field(default_factory=list)
    escalated: dict[str, list[int]] = field(default_factory=dict)
    busy_time: list["BusyTime"] = field(default_factory=list)  # per level
    hist: list[int] = field(default_factory=lambda: [0] * (HIST_BINS + 1))  # a list: += on numpy is slow
    zero_settles: int = 0
    backlog: list[int] = field(default_factory=list)  # open cases at each whole day

    def __post_init__(self) -> None:
        n = len(self.levels)
        self.settled_at = [0] * (n + self.extra_slots)
        self.wait_sum = [0.0] * n
        self.wait_n = [0] * n
        self.escalated = {r: [0] * n for r in ESCALATION_REASONS}
        self.busy_time = [BusyTime(self.warmup) for _ in range(n)]

    # ---- called by the case process
    def record_settlement(self, li: int, days: float, within_ceiling: bool, target_days: float | None) -> None:
        self.settled += 1
        self.closed += 1
        self.settled_at[li] += 1
        self.settle_time_sum += days
        if within_ceiling:
            self.within_ceiling += 1
        if target_days is not None and days <= target_days:
            self.within_target += 1
        if days <= 0.0:
            self.zero_settles += 1
        else:
            b = int((math.log10(days) - HIST_LO) * HIST_PER_DECADE)
            self.hist[min(max(b, 0), HIST_BINS)] += 1

    # ---- summary
    def quantile_days(self, q: float) -> float:
        """Quantile of days to settlement from the histogram (geometric interpolation in a bin)."""
        n = self.settled
        if n == 0:
            return float("nan")
        rank = q * n
        if rank <= self.zero_settles:
            return 0.0
        cum = self.zero_settles + np.cumsum(self.hist)
        b = int(np.searchsorted(cum, rank, side="left"))
        below = cum[b - 1] if b > 0 else self.zero_settles
        frac = (rank - below) / max(self.hist[b], 1)
        return 10 ** (HIST_LO + (b + frac) / HIST_PER_DECADE)

    def finish(self, now: float) -> None:
        for bt in self.busy_time:
            bt.advance(now)

    def report(self, sink: "MetricSink", level_roles: list[str], on_duty_hours: list[float], targets_used: bool,
               households: int, end: float) -> None:
        """Put this replication's engine metrics into the sink, in catalogue order.

        Rates per 1,000 households a year make communities of different size comparable;
        they count the years from the warm-up to ``end`` (the run may stop early).
        """
        nan = float("nan")
        days = (self.horizon - self.warmup) / 24.0
        years = (end - self.warmup) / (24.0 * 365.0)
        per_1000 = 1000.0 / households / years if years > 0 else nan
        closed = self.closed
        put = sink.put
        put("cases_arrived", float(self.arrived))
        put("cases_settled", float(self.settled))
        put("cases_unresolved", float(self.unresolved))
        put("settled_per_day", self.settled / days if days > 0 else nan)
        put("cases_per_1000_households_year", float(self.arrived) * per_1000)
        put("unresolved_per_1000_households_year", float(self.unresolved) * per_1000)
        for li, name in enumerate(self.levels):
            put(f"settled_share.{name}", self.settled_at[li] / closed if closed else nan)
        put("within_ceiling_share", self.within_ceiling / closed if closed else nan)
        put("unresolved_share", self.unresolved / closed if closed else nan)
        put("days_to_settle.mean", self.settle_time_sum / self.settled if self.settled else nan)
        put("days_to_settle.p50", self.quantile_days(0.5))
        put("days_to_settle.p90", self.quantile_days(0.9))
        put("within_target_share", (self.within_target / closed if closed else nan) if targets_used else nan)
        for li, name in enumerate(self.levels):
            put(f"wait_hours.{name}", self.wait_sum[li] / self.wait_n[li] if self.wait_n[li] else nan)
        role_busy: dict[str, float] = {}
        role_duty: dict[str, float] = {}
        for li, role in enumerate(level_roles):
            role_busy[role] = role_busy.get(role, 0.0) + self.busy_time[li].area
            role_duty[role] = role_duty.get(role, 0.0) + on_duty_hours[li]
        for role in role_busy:
            put(f"utilisation.{role}", role_busy[role] / role_duty[role] if role_duty[role] > 0 else nan)
        for reason in ESCALATION_REASONS:
            for li, name in enumerate(self.levels):
                put(f"escalated_{reason}.{name}", float(self.escalated[reason][li]))
        put("open_cases_end", float(self.open_now))
        put("unstable", 1.0 if self.unstable else 0.0)
