"""Periodic meetings that settle a batch of cases at each sitting.

Fangxing's weekly conflict-resolution meeting, Tuanjieba's Wednesday 10:00 residents'
meetings and Runzhou's quarterly joint meeting: cases a level does not settle are referred
to the meeting, wait for its next sitting, and at most ``capacity`` of them are taken up
there (first referred, first taken). Each is settled with the meeting's probability at the
end of the sitting; the others go on up the hierarchy.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Iterator

import simpy

from ..scenario.schema import WEEKDAYS, Meeting, Schedule
from ..streams import stream
from .draws import Uniforms
from .pools import CaseFilter, _per_severity

if TYPE_CHECKING:  # pragma: no cover
    from .model import Model

HOURS_PER_MONTH = 365.0 / 12.0 * 24.0
PERIOD_HOURS = {"week": 168.0, "month": HOURS_PER_MONTH, "quarter": 3.0 * HOURS_PER_MONTH}


def sitting_clock(schedule: Schedule) -> tuple[float, float]:
    """(first sitting, period) in hours from Monday 00:00 of the run's first week."""
    period = PERIOD_HOURS[schedule.every]
    if schedule.every == "week":
        return WEEKDAYS.index(schedule.weekday) * 24.0 + schedule.hour, period
    return (schedule.day - 1) * 24.0 + schedule.hour, period


class MeetingRuntime(CaseFilter):
    """One meeting during one replication: the cases waiting for it and what its sittings did."""

    def __init__(self, model: "Model", name: str, meeting: Meeting, slot: int):
        sc = model.scenario
        self.name, self.label, self.slot = name, f"meeting.{name}", slot
        self.level = sc.level_names.index(meeting.level)
        CaseFilter.__init__(self, model, self.label, meeting)
        self.settle = _per_severity(meeting.settle, sc.severities)
        self.capacity = meeting.capacity
        self.duration = meeting.duration_hours
        self.carry = meeting.overflow == "carry"
        self.first, self.period = sitting_clock(meeting.schedule)
        self.outcome = Uniforms(stream(model.seed, model.rep, f"{self.label}.outcome"))
        self.waiting: deque[tuple[simpy.Event, int, float, bool]] = deque()
        self.warmup = model.warmup
        self.referred = 0
        self.sittings = 0
        self.taken = 0
        self.most_taken = 0
        self.wait_sum = 0.0
        self.decided = 0

    def visit(self, m: "Model", sev: int, counted: bool) -> Iterator[simpy.Event]:
        """Wait for a sitting that takes the case up; return whether it settled the case."""
        ev = m.env.event()
        if counted:
            self.referred += 1
        self.waiting.append((ev, sev, m.env.now, counted))
        settled = yield ev
        return settled

    def process(self, env: simpy.Environment) -> Iterator[simpy.Event]:
        """Sit at every scheduled time: take up to capacity waiting cases, decide them at the end."""
        k = 0
        while True:
            t = self.first + k * self.period
            k += 1
            if t > env.now:
                yield env.timeout(t - env.now)
            n = min(self.capacity, len(self.waiting))
            batch = [self.waiting.popleft() for _ in range(n)]
            if not self.carry:
                while self.waiting:
                    self.waiting.popleft()[0].succeed(False)
            if t >= self.warmup:
                self.sittings += 1
                self.taken += n
                self.most_taken = max(self.most_taken, n)
            if not batch:
                continue
            if self.duration > 0:
                yield env.timeout(self.duration)
            now = env.now
            for ev, sev, referred, counted in batch:
                if counted:
                    self.wait_sum += now - referred
                    self.decided += 1
                ev.succeed(self.outcome.next() < self.settle[sev])

    def summary(self, closed: int, end: float) -> dict[str, float]:
        nan = float("nan")
        return {
            f"referred.{self.label}": float(self.referred),
            f"sittings.{self.label}": float(self.sittings),
            f"cases_per_sitting.{self.label}": self.taken / self.sittings if self.sittings else nan,
            f"most_per_sitting.{self.label}": float(self.most_taken),
            f"wait_days.{self.label}": self.wait_sum / 24.0 / self.decided if self.decided else nan,
            f"waiting_end.{self.label}": float(len(self.waiting)),
        }
