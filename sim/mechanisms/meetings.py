"""Periodic meetings that settle a batch of cases at each sitting.

Fangxing's weekly conflict-resolution meeting, Tuanjieba's Wednesday 10:00 residents'
meetings and Runzhou's quarterly joint meeting: cases a level does not settle are referred
to the meeting, wait for its next sitting, and at most ``capacity`` of them are taken up
there (first referred, first taken). Each is settled with the meeting's probability at the
end of the sitting; the others go on up the hierarchy.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Annotated, Any, Iterator, Literal, Union

from pydantic import Field

from ..scenario.fields import WEEKDAYS, Probability, Strict
from .base import CaseFilter, Hooks, Mechanism, check_level, check_names, check_per_severity, per_severity, takes_text

if TYPE_CHECKING:  # pragma: no cover
    from ..scenario.schema import Scenario
    from .base import DescriptionRow
    from .context import Context, MetricSink

HOURS_PER_MONTH = 365.0 / 12.0 * 24.0
PERIOD_HOURS = {"week": 168.0, "month": HOURS_PER_MONTH, "quarter": 3.0 * HOURS_PER_MONTH}


# --------------------------------------------------------------------------- schema
class Schedule(Strict):
    """When a meeting sits: weekly on a weekday, or monthly / quarterly on a day of the period.

    The clock has no calendar: a month is 365/12 days and a quarter three months, counted from
    the start of the run (Monday 00:00); ``day`` 1 is the period's first day.
    """

    every: Literal["week", "month", "quarter"] = Field("week", description="How often it sits.")
    weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = Field("mon", description="Weekday of a weekly meeting.")
    day: Annotated[int, Field(ge=1, le=28)] = Field(1, description="Day of the month or quarter (1 = its first day; months are 365/12 days from the start of the run).")
    hour: Annotated[float, Field(ge=0, lt=24)] = Field(10.0, description="Hour it starts. Unit: hours of the day.")


class Meeting(Strict):
    """A periodic meeting that settles a batch: cases a level does not settle wait for its next sitting.

    A case of the given severities and categories that its level fails to settle (or may not
    settle, above the level's ceiling) is referred with probability ``share``. Each sitting
    takes up to ``capacity`` waiting cases, first referred first, and settles each with its
    ``settle`` probability at the end of the sitting; the rest go up to the next level.
    Cases beyond the capacity wait for the next sitting (``overflow: carry``) or go up at once.
    """

    level: str = Field(description="The level the meeting sits at.")
    schedule: Schedule = Field(default_factory=Schedule, description="When it sits.")
    severities: list[str] | None = Field(None, description="Severities it takes (default: all).")
    categories: list[str] | None = Field(None, description="Categories it takes (default: all).")
    share: Probability = Field(1.0, description="Share of matching cases referred to it.")
    capacity: Annotated[int, Field(gt=0, le=1_000_000)] = Field(description="Most cases handled in one sitting.")
    settle: Union[Probability, dict[str, Probability]] = Field(description="Chance a sitting settles a case: one share, or per severity.")
    duration_hours: Annotated[float, Field(ge=0, le=1e6)] = Field(2.0, description="Length of a sitting. Unit: hours.")
    overflow: Literal["carry", "escalate"] = Field("carry", description="Cases beyond capacity wait for the next sitting ('carry') or go up ('escalate').")
    description: str = Field("", description="What the meeting is, in words.")


# --------------------------------------------------------------------------- checks and description
def problems(scenario: "Scenario") -> list[str]:
    out: list[str] = []
    for name, mt in scenario.meetings.items():
        p = f"meetings.{name}"
        check_level(out, f"{p}.level", mt.level, scenario)
        check_names(out, f"{p}.severities", mt.severities, scenario.severities, "severity")
        check_names(out, f"{p}.categories", mt.categories, scenario.categories, "category")
        if isinstance(mt.settle, dict):
            check_per_severity(out, f"{p}.settle", mt.settle, scenario.severities)
    return out


def describe(scenario: "Scenario") -> list["DescriptionRow"]:
    rows: list[DescriptionRow] = []
    for name, mt in scenario.meetings.items():
        s = mt.schedule
        when = f"{s.every}ly" + (f" {s.weekday}" if s.every == "week" else f" day {s.day}")
        rows.append(("meeting", name, mt.level,
                     f"{when} {s.hour:g}h, up to {mt.capacity} a sitting, settles {mt.settle}; takes {takes_text(mt)}"))
    return rows


# --------------------------------------------------------------------------- runtime
def sitting_clock(schedule: Schedule) -> tuple[float, float]:
    """(first sitting, period) in hours from Monday 00:00 of the run's first week."""
    period = PERIOD_HOURS[schedule.every]
    if schedule.every == "week":
        return WEEKDAYS.index(schedule.weekday) * 24.0 + schedule.hour, period
    return (schedule.day - 1) * 24.0 + schedule.hour, period


class MeetingRuntime(CaseFilter):
    """One meeting during one replication: the cases waiting for it and what its sittings did."""

    before = False  # a meeting takes the cases its level did not settle

    def __init__(self, ctx: "Context", scenario: "Scenario", name: str, meeting: Meeting):
        self.env = ctx.env
        self.name, self.label, self.slot = name, f"meeting.{name}", -1
        self.level = ctx.level_index(meeting.level)
        CaseFilter.__init__(self, ctx, self.label, meeting)
        self.settle = per_severity(meeting.settle, scenario.severities)
        self.capacity = meeting.capacity
        self.duration = meeting.duration_hours
        self.carry = meeting.overflow == "carry"
        self.first, self.period = sitting_clock(meeting.schedule)
        self.outcome = ctx.uniforms(f"{self.label}.outcome")
        self.waiting: deque[tuple[Any, int, float, bool]] = deque()
        self.warmup = ctx.warmup
        self.referred = 0
        self.sittings = 0
        self.taken = 0
        self.most_taken = 0
        self.wait_sum = 0.0
        self.decided = 0

    def visit(self, sev: int, counted: bool) -> Iterator[Any]:
        """Wait for a sitting that takes the case up; return whether it settled the case."""
        ev = self.env.event()
        if counted:
            self.referred += 1
        self.waiting.append((ev, sev, self.env.now, counted))
        settled = yield ev
        return settled

    def process(self) -> Iterator[Any]:
        """Sit at every scheduled time: take up to capacity waiting cases, decide them at the end."""
        env = self.env
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

    def report(self, sink: "MetricSink", end: float) -> None:
        nan = float("nan")
        sink.put(f"referred.{self.label}", float(self.referred))
        sink.put(f"sittings.{self.label}", float(self.sittings))
        sink.put(f"cases_per_sitting.{self.label}", self.taken / self.sittings if self.sittings else nan)
        sink.put(f"most_per_sitting.{self.label}", float(self.most_taken))
        sink.put(f"wait_days.{self.label}", self.wait_sum / 24.0 / self.decided if self.decided else nan)
        sink.put(f"waiting_end.{self.label}", float(len(self.waiting)))


class Meetings:
    """Every meeting of a scenario in one replication."""

    def __init__(self, scenario: "Scenario", ctx: "Context"):
        self.meetings = [MeetingRuntime(ctx, scenario, name, mt) for name, mt in scenario.meetings.items()]

    def hooks(self) -> Hooks:
        return Hooks(settlers=tuple(self.meetings), processes=tuple(m.process() for m in self.meetings))

    def report(self, sink: "MetricSink", end: float) -> None:
        """Nothing beyond each meeting's own metrics."""


MEETINGS = Mechanism("meetings", (Schedule, Meeting), used=lambda sc: bool(sc.meetings), problems=problems,
                     describe=describe, runtime=Meetings, settler_kind="meeting")
