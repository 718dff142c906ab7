"""Staff as SimPy resources, and rosters that take staff off duty without dropping work.

A role that is always on duty is a plain ``simpy.Resource``. A role whose whole staff is
either on or off duty (office hours, day shifts) is also a plain Resource: a case that gets a
handler while the office is closed waits, holding its place in the queue, until the next shift
starts. Any other roster uses a :class:`RosteredResource` sized for the busiest shift, which
hands out a place only while fewer cases are in hand than staff are on duty (the same rule as
holding the spare places with high-priority "off duty" requests, without their events; the
tests keep that blocker version as the reference). Neither pre-empts: a handler whose
shift ends finishes the case in hand (work carries over the change of shift), and is taken off
duty as soon as it is free. Releases cost no event when nobody waits (see ``_LeanRelease``).
"""

from __future__ import annotations

import math
import operator
from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property, reduce

import simpy

from ..scenario.schema import OFFICE_SHIFTS, WEEKDAYS, Role, Roster

HOURS_PER_WEEK = 168.0


def on_duty_count(staff: int, availability: float) -> int:
    """Staff actually on duty when a share ``availability`` of ``staff`` turns up (rounded half up)."""
    return int(math.floor(staff * availability + 0.5))


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
        """The first step start (a possible change of head-count) strictly after t."""
        base = math.floor(t / HOURS_PER_WEEK) * HOURS_PER_WEEK
        starts = self._count_table[0]
        i = bisect_right(starts, t - base)
        return base + (starts[i] if i < len(starts) else HOURS_PER_WEEK)

    def next_on_duty(self, t: float) -> float:
        """The first time >= t when staff are on duty (a table lookup: called per case and level)."""
        base = math.floor(t / HOURS_PER_WEEK) * HOURS_PER_WEEK
        starts, nxt = self._duty_table
        opens = nxt[bisect_right(starts, t - base) - 1]
        return t if opens is None else base + opens

    def on_duty_hours(self, start: float, end: float) -> float:
        """Staff-hours on duty between two clock times (hours from Monday 00:00 of week 0)."""
        if end <= start:
            return 0.0
        import numpy as np  # lazily: this module is imported by `sim validate`

        week0 = math.floor(start / HOURS_PER_WEEK)
        week1 = math.floor(end / HOURS_PER_WEEK)
        starts = np.array([s for s, _ in self.steps])
        ends = np.array([s for s, _ in self.steps[1:]] + [HOURS_PER_WEEK])
        counts = np.array([float(c) for _, c in self.steps])
        # Every (week, step) term at once (a Python loop here took longer than a 100-year run's
        # cases); summed one after another in week order, exactly as a loop would add them.
        base = (np.arange(week0, week1 + 1) * HOURS_PER_WEEK)[:, None]
        a = np.maximum(start, base + starts)
        b = np.minimum(end, base + ends)
        terms = np.where(b > a, counts * (b - a), 0.0).ravel().tolist()
        return reduce(operator.add, terms, 0.0)


def weekly_profile(role: Role) -> WeeklyProfile:
    """The role's on-duty head-count over the week, after availability."""
    staff = role.staff_per_unit
    if role.roster == "always":
        return WeeklyProfile(((0.0, on_duty_count(staff, role.on_duty_share())),))
    roster: Roster = OFFICE_SHIFTS if role.roster == "office" else role.roster
    edges = {0.0}
    spans: list[tuple[float, float, int]] = []
    for shift in roster.shifts:
        count = on_duty_count(staff if shift.staff is None else shift.staff, role.on_duty_share())
        for day in shift.days:
            d = WEEKDAYS.index(day) * 24.0
            a, b = d + shift.start, d + shift.end
            for lo, hi in ((a, min(b, HOURS_PER_WEEK)), (0.0, b - HOURS_PER_WEEK)):  # wrap Sunday night
                if hi > lo:
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


class _LeanRelease:
    """Skip SimPy's ``Release`` event when nobody waits: one event less per case and level.

    ``simpy.Resource.release`` frees the slot at once and schedules a ``Release`` event whose
    only effect, when processed, is to offer the slot to waiting requests. With an empty
    queue that event does nothing, yet it was a quarter of all events; so then the slot is
    freed without it (returns None: never ``yield`` a release). With a queue the standard
    event is kept, so who gets a slot, and in which order same-time events run, is unchanged.
    """

    def release(self, request: simpy.resources.resource.Request):  # type: ignore[no-untyped-def]
        if self.put_queue:  # type: ignore[attr-defined]
            return super().release(request)  # type: ignore[misc]
        try:
            self.users.remove(request)  # type: ignore[attr-defined]
        except ValueError:
            pass
        return None


class LeanResource(_LeanRelease, simpy.Resource):
    """A FIFO ``simpy.Resource`` whose release costs no event when nobody waits."""


class LeanPriorityResource(_LeanRelease, simpy.PriorityResource):
    """A ``simpy.PriorityResource`` whose release costs no event when nobody waits."""


class RosteredResource(LeanPriorityResource):
    """Staff whose on-duty head-count follows a weekly profile, without off-duty requests.

    A waiting case gets a handler only while fewer cases are in hand than staff are on duty
    now, so a handler whose shift ends finishes the case in hand and then stays free, as
    with off-duty requests that take places first. Those requests cost two events per unit
    and change of shift, whether or not any case is there (most of all events for a small
    community); here a case that must wait off-peak schedules one wake-up at the next change
    of shift, shared by everyone waiting at that unit.
    """

    def __init__(self, env: simpy.Environment, profile: WeeklyProfile):
        super().__init__(env, capacity=max(profile.peak, 1))
        self.profile = profile
        self._wake_pending = False

    def _do_put(self, event: simpy.resources.resource.Request) -> None:  # type: ignore[override]
        now = self._env.now
        on_duty = self.profile.count_at(now)
        if len(self.users) < on_duty:
            self.users.append(event)
            event.usage_since = now
            event.succeed()
        elif on_duty < self.capacity and not self._wake_pending:
            self._wake_pending = True
            self._env.timeout(self.profile.next_change(now) - now).callbacks.append(self._wake)
        return None

    def _wake(self, _event: simpy.Event) -> None:
        """A change of shift: hand every newly free place to the waiting cases, in order."""
        self._wake_pending = False
        while self.put_queue:  # each _trigger_put grants at most one request
            granted = len(self.users)
            self._trigger_put(None)
            if len(self.users) == granted:
                break


def make_resources(env: simpy.Environment, n: int, profile: WeeklyProfile) -> list[simpy.Resource]:
    """n resources sized for the profile's peak; plain Resources when nobody ever goes off duty."""
    cap = max(profile.peak, 1)
    if profile.constant or profile.on_off:
        return [LeanResource(env, capacity=cap) for _ in range(n)]
    return [RosteredResource(env, profile) for _ in range(n)]
