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
    from .rosters import WeeklyProfile

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


class OffDutyWork:
    """Staff-hours of work in hand beyond the staff on duty, of one resource, after the warm-up.

    A handler whose shift ends finishes the case in hand: that time is overtime, not on-duty
    busy time. The area of max(0, cases in hand - staff on duty) over time, walked along the
    resource's weekly profile; only resources whose head-count changes over the week get one.
    """

    __slots__ = ("profile", "warmup", "in_hand", "last", "area")

    def __init__(self, profile: "WeeklyProfile", warmup: float):
        self.profile = profile
        self.warmup = warmup
        self.in_hand = 0
        self.last = 0.0
        self.area = 0.0

    def advance(self, now: float) -> None:
        t = self.last if self.last > self.warmup else self.warmup
        n = self.in_hand
        if n and now > t:
            profile = self.profile
            while t < now:
                nxt = profile.next_change(t)
                if nxt > now:
                    nxt = now
                c = profile.count_at(t)
                if n > c:
                    self.area += (n - c) * (nxt - t)
                t = nxt
        self.last = now

    def start(self, now: float) -> None:
        self.advance(now)
        self.in_hand += 1

    def end(self, now: float) -> None:
        self.advance(now)
        self.in_hand -= 1


@dataclass
class Metrics:
    """Accumulators of one replication. Case statistics count cases arriving after warm-up.

    Counted cases still open are kept as ``open_since[case id] = (arrival hour, severity)``
    (memory bounded by the open cases), so the summary can count open cases against their
    targets and treat them as censored in the quantiles of days to settle.
    """

    levels: list[str]
    warmup: float  # hours
    horizon: float  # hours
    extra_slots: int = 0  # settlement slots after the levels' (one per meeting, pool, partner)
    severities: tuple[str, ...] = ()
    target_days: tuple[float | None, ...] = ()  # per severity index
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
    entered: list[int] = field(default_factory=list)  # per level: counted cases that entered there (a channel), not at the bottom
    busy_time: list["BusyTime"] = field(default_factory=list)  # per level
    hist: list[int] = field(default_factory=lambda: [0] * (HIST_BINS + 1))  # a list: += on numpy is slow
    zero_settles: int = 0
    backlog: list[int] = field(default_factory=list)  # open cases at each whole day
    sample_at: float = 0.0  # hours: the next whole day (up to the horizon) whose open count is not yet in backlog
    open_since: dict[int, tuple[float, int]] = field(default_factory=dict)
    due: list[int] = field(default_factory=list)  # per severity: closed cases whose target date is before the horizon
    met: list[int] = field(default_factory=list)  # per severity: of those, settled within the target
    off_duty: list["OffDutyWork"] = field(default_factory=list)  # every roster-following resource's tracker

    def __post_init__(self) -> None:
        n = len(self.levels)
        self.due = [0] * len(self.severities)
        self.met = [0] * len(self.severities)
        self.settled_at = [0] * (n + self.extra_slots)
        self.wait_sum = [0.0] * n
        self.wait_n = [0] * n
        self.escalated = {r: [0] * n for r in ESCALATION_REASONS}
        self.entered = [0] * n
        self.busy_time = [BusyTime(self.warmup) for _ in range(n)]

    # ---- called by the case process
    def arrive(self, cid: int, t0: float, sev: int, start: int = 0) -> None:
        """A counted case arrives (after the warm-up) at level ``start`` (above 0: a channel)."""
        self.arrived += 1
        self.open_since[cid] = (t0, sev)
        if start:
            self.entered[start] += 1

    def record_settlement(self, cid: int, li: int, now: float, within_ceiling: bool) -> None:
        """A counted case settles at slot ``li`` (a level, or a mechanism's slot after the levels)."""
        t0, sev = self.open_since.pop(cid)
        days = (now - t0) / 24.0
        self.settled += 1
        self.closed += 1
        self.settled_at[li] += 1
        self.settle_time_sum += days
        if within_ceiling:
            self.within_ceiling += 1
        target_days = self.target_days[sev]
        if target_days is not None:
            if days <= target_days:
                self.within_target += 1
            if t0 + target_days * 24.0 <= self.horizon:
                self.due[sev] += 1
                if days <= target_days:
                    self.met[sev] += 1
        if days <= 0.0:
            self.zero_settles += 1
        else:
            b = int((math.log10(days) - HIST_LO) * HIST_PER_DECADE)
            self.hist[0 if b < 0 else (b if b < HIST_BINS else HIST_BINS)] += 1

    def record_unresolved(self, cid: int) -> None:
        """A counted case leaves the top level unsettled: a missed target if one applies."""
        t0, sev = self.open_since.pop(cid)
        self.unresolved += 1
        self.closed += 1
        target_days = self.target_days[sev]
        if target_days is not None and t0 + target_days * 24.0 <= self.horizon:
            self.due[sev] += 1

    # ---- summary
    def open_past_target(self, end: float) -> list[int]:
        """Per severity: counted cases open at ``end`` whose target date has passed."""
        out = [0] * len(self.severities)
        targets = self.target_days
        for t0, sev in self.open_since.values():
            t = targets[sev]
            if t is not None and t0 + t * 24.0 <= end:
                out[sev] += 1
        return out

    def censored_quantile_days(self, q: float, end: float) -> float:
        """Quantile of days to settle with cases still open at ``end`` censored at their age.

        An actuarial life table on the histogram's bins: cases censored in a bin count as at
        risk for half of it. Unresolved cases are left out, as in the closed-only quantile (this
        is the time to settle of cases that settle). NaN when the estimated share settled never
        reaches ``q`` by the oldest open case's age.
        """
        ages = [(end - t0) / 24.0 for t0, _ in self.open_since.values()]
        if not ages:
            return self.quantile_days(q)
        n = self.settled + len(ages)
        censored = np.zeros(HIST_BINS + 1)
        zero_censored = 0
        for a in ages:
            if a <= 0.0:
                zero_censored += 1
            else:
                censored[min(max(int((math.log10(a) - HIST_LO) * HIST_PER_DECADE), 0), HIST_BINS)] += 1
        events = np.asarray(self.hist, dtype=float)
        # the point mass at zero days first, then the bins
        at_risk = n - zero_censored / 2.0
        surv = 1.0 - (self.zero_settles / at_risk if at_risk > 0 else 0.0)
        if 1.0 - surv >= q:
            return 0.0
        risk_start = n - self.zero_settles - zero_censored
        nz = np.flatnonzero(events + censored)
        for b in nz:
            d, c = events[b], censored[b]
            eff = risk_start - c / 2.0
            after = surv * (1.0 - d / eff) if eff > 0 else surv
            if 1.0 - after >= q and d > 0:
                frac = (q - (1.0 - surv)) / (surv - after)
                return 10 ** (HIST_LO + (b + frac) / HIST_PER_DECADE)
            surv = after
            risk_start -= d + c
        return float("nan")

    def backlog_growing(self) -> bool:
        """The open-case count grows through the run: the last third of the days after the warm-up
        averages more than 1.25 times the first third and at least 10 cases more."""
        start = int(math.ceil(self.warmup / 24.0))
        series = self.backlog[start:]
        k = len(series) // 3
        if k < 2:
            return False
        first = sum(series[:k]) / k
        last = sum(series[-k:]) / k
        return last > 1.25 * first and last - first >= 10.0

    def quantile_days(self, q: float) -> float:
        """Quantile of days to settlement of settled cases from the histogram (geometric interpolation in a bin)."""
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

    def open_case(self, now: float) -> None:
        """A case opens at ``now`` (counted or not): the backlog's days before it first."""
        if now >= self.sample_at:
            self.sample_backlog(now)
        self.open_now += 1

    def close_case(self, now: float) -> None:
        """A case closes at ``now`` (settled or unresolved): the backlog's days before it first."""
        if now >= self.sample_at:
            self.sample_backlog(now)
        self.open_now -= 1

    def sample_backlog(self, now: float) -> None:
        """Put the open count into ``backlog`` for each whole day up to ``now`` not in it yet.

        Called just before ``open_now`` changes at or after ``sample_at`` (``open_case``,
        ``close_case``), and once at the run's end, so the daily series costs no event: each
        day gets the count left by the changes before it, as a sample taken at that instant
        would (a change at a whole day's very instant comes after that day's sample, as it
        did when the sample was an event scheduled a day ahead).
        """
        at, backlog, count, horizon = self.sample_at, self.backlog, self.open_now, self.horizon
        limit = now if now < horizon else horizon
        while at <= limit:  # day by day: d * 24.0, exact in floats
            backlog.append(count)
            at += 24.0
        self.sample_at = at if at <= horizon else math.inf

    def finish(self, now: float) -> None:
        """The run ended at ``now``: the backlog up to and including that instant, busy areas up to it."""
        self.sample_backlog(now)
        for bt in self.busy_time:
            bt.advance(now)

    def report(self, sink: "MetricSink", level_roles: list[str], on_duty_hours: list[float], targets_used: bool,
               households: int, end: float, off_duty_hours: list[float] | None = None,
               persons: list[float] | None = None, other_duty_hours: list[float] | None = None) -> None:
        """Put this replication's engine metrics into the sink, in catalogue order.

        Rates per 1,000 households a year make communities of different size comparable;
        they count the years from the warm-up to ``end`` (the run may stop early).
        ``off_duty_hours`` per level: staff-hours worked beyond the staff on duty (overtime);
        ``persons`` per level: staff members (volunteers included) the overtime is shared by.
        ``other_duty_hours`` per level (only when some role has other duties): staff-hours on
        tasks that are not disputes; utilisation then counts both, and each role's on-duty
        hours are split into disputes, other duties and idle (overtime shared pro rata).
        """
        n_levels = len(self.levels)
        off_duty_hours = off_duty_hours or [0.0] * n_levels
        persons = persons or [0.0] * n_levels
        nan = math.nan  # one object: metric dicts with NaN compare equal
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
        put("days_to_settle.p50", self.censored_quantile_days(0.5, end))
        put("days_to_settle.p90", self.censored_quantile_days(0.9, end))
        put("days_to_settle_closed.p50", self.quantile_days(0.5))
        put("days_to_settle_closed.p90", self.quantile_days(0.9))
        open_late = self.open_past_target(end)
        if targets_used:
            due = sum(self.due) + sum(open_late)
            put("within_target_share", sum(self.met) / due if due else nan)
            for si, sev in enumerate(self.severities):
                if self.target_days[si] is not None:
                    d = self.due[si] + open_late[si]
                    put(f"within_target_share.{sev}", self.met[si] / d if d else nan)
            put("within_target_share_closed", self.within_target / closed if closed else nan)
            put("open_past_target", float(sum(open_late)))
        else:
            put("within_target_share", nan)
        for li, name in enumerate(self.levels):
            put(f"wait_hours.{name}", self.wait_sum[li] / self.wait_n[li] if self.wait_n[li] else nan)
        role_busy: dict[str, float] = {}
        role_duty: dict[str, float] = {}
        role_off: dict[str, float] = {}
        role_persons: dict[str, float] = {}
        role_other: dict[str, float] = {}
        for li, role in enumerate(level_roles):
            role_other[role] = role_other.get(role, 0.0) + (other_duty_hours[li] if other_duty_hours else 0.0)
            role_busy[role] = role_busy.get(role, 0.0) + self.busy_time[li].area
            role_duty[role] = role_duty.get(role, 0.0) + on_duty_hours[li]
            role_off[role] = role_off.get(role, 0.0) + off_duty_hours[li]
            role_persons[role] = role_persons.get(role, 0.0) + persons[li]
        for role in role_busy:
            on_duty_busy = role_busy[role] + role_other[role] - role_off[role]
            put(f"utilisation.{role}", min(1.0, on_duty_busy / role_duty[role]) if role_duty[role] > 0 else nan)
        weeks = (end - self.warmup) / 168.0
        for role in role_busy:
            put(f"overtime_hours.{role}", role_off[role] / role_persons[role] / weeks
                if role_persons[role] > 0 and weeks > 0 else nan)
        if other_duty_hours is not None:
            for part in ("disputes", "other_duties", "idle"):
                for role in role_busy:
                    put(f"time_share.{part}.{role}", _time_share(part, role_busy[role], role_other[role],
                                                                  role_off[role], role_duty[role]))
        for reason in ESCALATION_REASONS:
            for li, name in enumerate(self.levels):
                put(f"escalated_{reason}.{name}", float(self.escalated[reason][li]))
        put("open_cases_end", float(self.open_now))
        put("unstable", 1.0 if self.unstable else 0.0)
        put("backlog_growing", 1.0 if self.backlog_growing() else 0.0)

    def report_tiers(self, sink: "MetricSink", slot_levels: list[int], grassroots_top: int | None,
                     residents: float | None, end: float) -> None:
        """Where counted cases got to, by tier, for comparison with published figures.

        ``slot_levels``: the tier of every settlement slot (a level's own, or the level a
        meeting, pool or partner sits beside). ``grassroots_top``: the index of the scenario's
        highest grassroots tier (None: not declared, NaN share). Rates per 1,000 residents a
        year are NaN without ``residents``. The reached rates count open cases too
        (:meth:`reached_by_tier`); mediated disputes are those that reached the community tier
        (:func:`mediation_tier`), whatever the grassroots top.
        """
        nan = math.nan
        by_tier = self.settled_by_tier(slot_levels)
        closed = self.closed
        sink.put("grassroots_share", sum(by_tier[:grassroots_top + 1]) / closed
                 if grassroots_top is not None and closed else nan)
        years = (end - self.warmup) / (24.0 * 365.0)
        per_1000 = 1000.0 / residents / years if residents and years > 0 else nan
        sink.put("cases_per_1000_residents_year", float(self.arrived) * per_1000)
        reached = self.reached_by_tier(by_tier)
        community = mediation_tier(self.levels)
        sink.put("mediated_per_1000_residents_year", reached[community] * per_1000 if community is not None else nan)
        for li, name in enumerate(self.levels):
            sink.put(f"reached_per_1000_residents_year.{name}", reached[li] * per_1000)

    def settled_by_tier(self, slot_levels: list[int]) -> list[int]:
        """Counted settlements per tier (a meeting, pool or partner counts at the level it sits beside)."""
        by_tier = [0] * len(self.levels)
        for slot, li in enumerate(slot_levels):
            by_tier[li] += self.settled_at[slot]
        return by_tier

    def reached_by_tier(self, by_tier: list[int]) -> list[int]:
        """Per tier: counted cases that reached it or a tier above, closed or still open
        (``by_tier``: :meth:`settled_by_tier`).

        Every counted case reached the bottom tier. Above it, a case reached a tier when it was
        passed up to it from the tier below (``escalated_*``: failed, above the ceiling,
        deadline; open or closed) or entered there or higher (a reporting channel: exact for
        open cases that entered above the bottom too). A closed case that settled there or
        above, or left the top unsettled, reached it as well: a tier counts the larger of the
        two tallies, and never more than the arrivals (a re-opened case passed up twice).
        """
        n_levels = len(self.levels)
        closed_reached = [sum(by_tier[i:]) + self.unresolved for i in range(n_levels)]
        up = [sum(self.escalated[r][li] for r in ESCALATION_REASONS) for li in range(n_levels)]
        entered_above = [sum(self.entered[i:]) for i in range(n_levels)]
        reached = [self.arrived] + [max(closed_reached[i], up[i - 1] + entered_above[i]) for i in range(1, n_levels)]
        return [min(r, self.arrived) for r in reached]  # a re-opened case passed up twice counts once at most


# The tier whose mediators count as people's mediation (the target's definitions.mediated_dispute):
# the residents' committee of a community, or the villagers' committee in a rural model.
MEDIATION_TIERS = ("community", "village")


def mediation_tier(levels: list[str]) -> int | None:
    """Index of the community tier (the village in a rural model); None when the scenario has neither."""
    for name in MEDIATION_TIERS:
        if name in levels:
            return levels.index(name)
    return None


def _time_share(part: str, disputes: float, other: float, overtime: float, on_duty: float) -> float:
    """Share of on-duty hours on disputes, other duties or idle; overtime is taken from the
    two kinds of work in proportion to their hours, so the three shares sum to 1."""
    if on_duty <= 0:
        return math.nan
    work = disputes + other
    worked = min(on_duty, max(0.0, work - overtime))
    if part == "idle":
        return 1.0 - worked / on_duty
    mine = disputes if part == "disputes" else other
    return worked * (mine / work) / on_duty if work > 0 else 0.0
