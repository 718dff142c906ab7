"""Rosters as arithmetic: the on-duty head-count of a role over the week, as a step function.

Pure Python (no SimPy): the scenario checks ask whether anyone is ever on duty, the
stability estimate averages the head-count over the week, and the engine sizes its resources
and decides when a closed office opens from the same :class:`WeeklyProfile`.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from typing import TYPE_CHECKING

from .scenario.fields import OFFICE_SHIFTS, WEEKDAYS

if TYPE_CHECKING:  # pragma: no cover
    from .scenario.fields import Roster
    from .scenario.schema import Role

HOURS_PER_WEEK = 168.0


def on_duty_split(staff: float, share: float) -> tuple[int, float]:
    """``staff x share`` people on duty as (whole people, fraction of one more): no rounding.

    Within each shift the whole people work all of it and one more person the fraction of
    it, so every extra member, and every bit of availability, adds on-duty hours.
    """
    x = staff * share
    k = math.floor(x + 1e-9)
    f = x - k
    return int(k), (0.0 if f < 1e-9 else f)


_WEEKS_A_BLOCK = 1024  # weeks of terms summed per step of WeeklyProfile.on_duty_hours


def _exact_whole_weeks(total: float, on: list[tuple[float, float, float]], week0: int, week1: int) -> float | None:
    """``total`` plus the on-duty hours of the whole weeks after ``week0`` and before ``week1``
    (steps ``on``: start, end, count), when adding them one after another, in floats, rounds
    nowhere; else None.

    Every float is a multiple of some power of two. When the terms count x (end - start)
    and the carried total are multiples of 2**-k, every partial sum is too, and each is
    exact while below 2**53 x 2**-k (as are the clock times week x 168 + start the terms are
    taken from). The loop's sum is then the exact sum, whatever the order: computed here
    with fractions in a few steps instead of a term for every step of every week, it is the
    same float (a 300-year roster took over a millisecond to sum).
    """
    def bits(x: Fraction) -> int:  # k: x is a whole multiple of 2**-k (a float's denominator is a power of two)
        return x.denominator.bit_length() - 1

    times = [Fraction(t) for s, e, _ in on for t in (s, e)]
    if Fraction((week1 + 1) * HOURS_PER_WEEK) * 2 ** max(bits(t) for t in times) >= 2 ** 53:
        return None
    terms = [Fraction(c) * (Fraction(e) - Fraction(s)) for s, e, c in on]
    carried = Fraction(total)
    k = max(bits(x) for x in terms + [carried])
    exact = carried + (week1 - week0 - 1) * sum(terms)
    if exact * 2 ** k >= 2 ** 53:
        return None
    return float(exact)


@dataclass(frozen=True)
class WeeklyProfile:
    """On-duty head-count as a step function over the week: (start hour in week, count) pairs."""

    steps: tuple[tuple[float, int], ...]

    @property
    def peak(self) -> int:
        return max(c for _, c in self.steps)

    @property
    def constant(self) -> bool:
        return len({c for _, c in self.steps}) == 1

    @property
    def on_off(self) -> bool:
        """Everyone is on duty or nobody is: rosters like office hours, handled without blockers."""
        return not self.constant and {c for _, c in self.steps} <= {0, self.peak}

    @cached_property
    def _duty_table(self) -> tuple[list[float], list[float | None]]:
        """Step starts, and per step None if on duty, else the hour of the week its next shift starts."""
        steps = self.steps
        starts = [s for s, _ in steps]
        nxt: list[float | None] = []
        for i, (_, c) in enumerate(steps):
            if c > 0:
                nxt.append(None)
                continue
            later = [s2 for s2, c2 in steps[i + 1:] if c2 > 0]
            first = [s2 for s2, c2 in steps if c2 > 0]
            nxt.append(later[0] if later else (HOURS_PER_WEEK + first[0] if first else None))
        return starts, nxt

    @cached_property
    def _count_table(self) -> tuple[list[float], list[int]]:
        return [s for s, _ in self.steps], [c for _, c in self.steps]

    def count_at(self, t: float) -> int:
        """Staff on duty at clock time t (a step starting at t already counts)."""
        starts, counts = self._count_table
        return counts[bisect_right(starts, t - math.floor(t / HOURS_PER_WEEK) * HOURS_PER_WEEK) - 1]

    def next_change(self, t: float) -> float:
        """The first step start (a possible change of head-count) strictly after t.

        A step start that reads a hair below itself in some week (``week x 168 + start``
        rounds to t or below) counts as passed at t: the change after it is given.
        """
        base = math.floor(t / HOURS_PER_WEEK) * HOURS_PER_WEEK
        starts = self._count_table[0]
        i = bisect_right(starts, t - base)
        nxt = base + (starts[i] if i < len(starts) else HOURS_PER_WEEK)
        return nxt if nxt > t else self.next_change(t + 1e-6)

    @cached_property
    def _rise_table(self) -> list[float]:
        """Step starts at which more staff are on duty than in the step before (over the week's end too)."""
        steps = self.steps
        return [s for i, (s, c) in enumerate(steps) if c > steps[i - 1][1]]

    def next_rise(self, t: float) -> float:
        """The first step start strictly after t that brings more staff on duty than the step
        before it (the next change if the head-count never changes)."""
        rises = self._rise_table
        if not rises:
            return self.next_change(t)
        base = math.floor(t / HOURS_PER_WEEK) * HOURS_PER_WEEK
        i = bisect_right(rises, t - base)
        nxt = base + rises[i] if i < len(rises) else (base + HOURS_PER_WEEK) + rises[0]
        return nxt if nxt > t else self.next_rise(t + 1e-6)  # as next_change: a start a hair below itself is passed

    def next_on_duty(self, t: float) -> float:
        """The first time >= t when staff are on duty (a table lookup: called per case and level)."""
        base = math.floor(t / HOURS_PER_WEEK) * HOURS_PER_WEEK
        starts, nxt = self._duty_table
        opens = nxt[bisect_right(starts, t - base) - 1]
        return t if opens is None else base + opens

    def on_duty_hours(self, start: float, end: float) -> float:
        """Staff-hours on duty between two clock times (hours from Monday 00:00 of week 0).

        The sum of count x overlap over every (week, step), added one term after another in
        week order, as a plain loop would add them (the golden results depend on the bits).
        """
        if end <= start:
            return 0.0
        import numpy as np  # lazily: this module is imported by `sim validate`

        week0 = math.floor(start / HOURS_PER_WEEK)
        week1 = math.floor(end / HOURS_PER_WEEK)
        bounds = [s for s, _ in self.steps[1:]] + [HOURS_PER_WEEK]
        on = [(s, e, float(c)) for (s, c), e in zip(self.steps, bounds) if c]  # adding 0.0 changes no sum

        def edge(total: float, week: int) -> float:  # a week that start or end may cut
            base = week * HOURS_PER_WEEK
            for s, e, c in on:
                a, b = max(start, base + s), min(end, base + e)
                if b > a:
                    total += c * (b - a)
            return total

        total = edge(0.0, week0)
        if week1 > week0 + 1 and on:  # whole weeks between: every step lies inside [start, end]
            exact = _exact_whole_weeks(total, on, week0, week1)
            if exact is not None:
                return edge(exact, week1)
            starts = np.array([s for s, _, _ in on])
            ends = np.array([e for _, e, _ in on])
            counts = np.array([c for _, _, c in on])
            # Vectorised in blocks of weeks (a Python loop here took longer than a 100-year
            # run's cases); a cumulative sum adds the terms one after another, carrying the
            # total on (np.sum would pair them). Blocks keep the arrays small and reused.
            for w in range(week0 + 1, week1, _WEEKS_A_BLOCK):
                base = (np.arange(w, min(w + _WEEKS_A_BLOCK, week1)) * HOURS_PER_WEEK)[:, None]
                terms = (counts * ((base + ends) - (base + starts))).ravel()
                terms[0] = total + terms[0]
                total = float(np.cumsum(terms)[-1])
        return edge(total, week1) if week1 > week0 else total

    def times(self, factor: int) -> "WeeklyProfile":
        """The head-count of ``factor`` such groups side by side (a shared queue of several units)."""
        return WeeklyProfile(tuple((s, c * factor) for s, c in self.steps))


def weekly_profile(role: "Role") -> WeeklyProfile:
    """The role's on-duty head-count over the week, after availability (and hours a week).

    ``staff x availability`` is not rounded: within each shift (each day for ``always``)
    floor(staff x availability) people are on duty throughout and one more for the first
    fractional share of it, so the on-duty staff-hours of a week are staff x availability x
    rostered hours (to 3 microseconds a shift). A whole number of people on duty gives the
    plain roster.
    """
    staff = role.staff_per_unit
    share = role.on_duty_share()
    if role.roster == "always":
        whole, frac = on_duty_split(staff, share)
        if not frac:
            return WeeklyProfile(((0.0, whole),))
        pieces = [(d * 24.0, (d + 1) * 24.0, whole, frac) for d in range(7)]
    else:
        roster: Roster = OFFICE_SHIFTS if role.roster == "office" else role.roster
        pieces = []
        for shift in roster.shifts:
            whole, frac = on_duty_split(staff if shift.staff is None else shift.staff, share)
            for day in shift.days:
                d = WEEKDAYS.index(day) * 24.0
                pieces.append((d + _dyadic(shift.start), d + _dyadic(shift.end), whole, frac))  # see _dyadic
    edges = {0.0}
    spans: list[tuple[float, float, int]] = []
    for a, b, whole, frac in pieces:
        cut = a + _dyadic(frac * (b - a))
        parts = [(a, b, whole)] if not frac else [(a, cut, whole + 1), (cut, b, whole)]
        for pa, pb, count in parts:
            for lo, hi in ((pa, min(pb, HOURS_PER_WEEK)), (max(pa - HOURS_PER_WEEK, 0.0), pb - HOURS_PER_WEEK)):
                if hi > lo:  # the second pair wraps Sunday night round to Monday
                    spans.append((lo, hi, count))
                    edges.update((lo, hi))
    cuts = sorted(e for e in edges if e < HOURS_PER_WEEK)
    steps: list[tuple[float, int]] = []
    for i, s in enumerate(cuts):
        e = cuts[i + 1] if i + 1 < len(cuts) else HOURS_PER_WEEK
        mid = (s + e) / 2.0
        c = sum(n for lo, hi, n in spans if lo <= mid < hi)
        if not steps or steps[-1][1] != c:
            steps.append((s, c))
    return WeeklyProfile(tuple(steps))


def _dyadic(hours: float) -> float:
    """Hours rounded to 2**-30 h (3 microseconds): a step start that week * 168 + start and back
    reproduce exactly for a century of weeks, so the clock lands on it and sees the new count.
    Shift starts and ends are rounded too: a start at 9.3 h (not dyadic) would read as the
    step before it in most weeks, and a wake-up there would never see the staff it waits for."""
    return round(hours * 2.0**30) / 2.0**30


def role_profile(role: "Role", staff: int) -> WeeklyProfile:
    """On-duty head-count of ``staff`` members of a role (its roster, availability, hours a week)."""
    return weekly_profile(role.model_copy(update={"staff_per_unit": staff}))


def add_profiles(*profiles: WeeklyProfile) -> WeeklyProfile:
    """The on-duty head-count of several groups working side by side (sum of step functions)."""
    edges = sorted({s for p in profiles for s, _ in p.steps})
    steps: list[tuple[float, int]] = []
    for e in edges:
        c = sum(_count_at(p, e) for p in profiles)
        if not steps or steps[-1][1] != c:
            steps.append((e, c))
    return WeeklyProfile(tuple(steps))


def _count_at(profile: WeeklyProfile, t: float) -> int:
    count = profile.steps[0][1]
    for s, c in profile.steps:
        if s <= t % HOURS_PER_WEEK:
            count = c
    return count


class DailyTurnout:
    """Volunteers of one role at one unit who turn out day by day: each of ``staff`` comes on a
    given day with probability ``share`` and then works the role's rostered hours of that day,
    so the expected hours equal the stated ones while the head-count varies from day to day.

    Days are drawn in order, a year at a time, from the caller's random stream (reproducible
    whatever order the days are asked in).
    """

    BLOCK = 366

    def __init__(self, shape: WeeklyProfile, staff: int, share: float, rng: object):
        self.shape = shape  # one member's rostered hours: 1 on duty, 0 off
        self.staff = staff
        self.share = share
        self.rng = rng
        self.days: list[int] = []

    def on_day(self, day: int) -> int:
        """Members turning out on day ``day`` (0 = the first day of the run)."""
        while day >= len(self.days):
            self.days.extend(int(k) for k in self.rng.binomial(self.staff, self.share, self.BLOCK))  # type: ignore[attr-defined]
        return self.days[day]


class TurnoutProfile:
    """A level's head-count: its staff's weekly profile plus volunteers drawn day by day.

    Answers what the engine asks of a :class:`WeeklyProfile` (``peak``, ``constant``,
    ``on_off``, ``count_at``, ``next_change``, ``next_rise``, ``next_on_duty``, ``on_duty_hours``, ``times``).
    """

    def __init__(self, base: WeeklyProfile, turnouts: tuple[DailyTurnout, ...], factor: int = 1):
        self.base = base
        self.turnouts = turnouts
        self.factor = factor  # units sharing one queue

    @property
    def peak(self) -> int:
        return self.base.peak + self.factor * sum(t.staff * t.shape.peak for t in self.turnouts)

    constant = False
    on_off = False

    def count_at(self, t: float) -> int:
        day = int(t // 24.0)
        return self.base.count_at(t) + self.factor * sum(t_.on_day(day) * t_.shape.count_at(t) for t_ in self.turnouts)

    def next_change(self, t: float) -> float:
        nxt = min(self.base.next_change(t), *(v.shape.next_change(t) for v in self.turnouts))
        midnight = (math.floor(t / 24.0) + 1) * 24.0
        return nxt if nxt < midnight else midnight

    def next_rise(self, t: float) -> float:
        before = self.count_at(t)
        at = first = self.next_change(t)
        for _ in range(20_000):  # a rise comes within days unless nobody ever turns out
            count = self.count_at(at)
            if count > before:
                return at
            before = count
            at = self.next_change(at)
        return first

    def next_on_duty(self, t: float) -> float:
        while self.count_at(t) == 0:
            t = self.next_change(t)
        return t

    def on_duty_hours(self, start: float, end: float) -> float:
        total = self.base.on_duty_hours(start, end)
        if end <= start:
            return total
        for day in range(int(start // 24.0), int(math.ceil(end / 24.0))):
            a, b = max(start, day * 24.0), min(end, day * 24.0 + 24.0)
            for v in self.turnouts:
                k = v.on_day(day)
                if k and b > a:
                    total += self.factor * k * v.shape.on_duty_hours(a, b)
        return total

    def times(self, factor: int) -> "TurnoutProfile":
        return TurnoutProfile(self.base.times(factor), self.turnouts, self.factor * factor)
