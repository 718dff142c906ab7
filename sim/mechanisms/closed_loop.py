"""Closed-loop hand-over rules: the receiving level must take a case up within a response time.

Runzhou's "residents list, grid takes, community reports back" and Zhonglou's "community
orders, street takes, departments respond": a case handed to a level with a response time
whose handling starts later than that after the hand-over (off-duty waits included, and the
same for cases the level routes to a pool or partner instead of its own staff) is late; a late hand-over is counted, or (with
``on_late: escalate``) sends the case on to the next level at that moment. The time to
report a settlement back to the resident delays the closing of every settled case.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator, Literal

from pydantic import Field

from ..scenario.fields import Days, NonNegativeDays, Strict
from .base import Hooks, Mechanism

if TYPE_CHECKING:  # pragma: no cover
    from ..rosters import WeeklyProfile
    from ..scenario.schema import Scenario
    from .base import DescriptionRow
    from .context import Context, MetricSink


# --------------------------------------------------------------------------- schema
class ClosedLoop(Strict):
    """Hand-over rules: the level receiving a case must take it up within ``respond_days``.

    A late take-up is counted (``on_late: count``) or sends the case on up (``escalate``);
    ``report_back_days`` is the time to report a settlement back to the resident, counted in
    the days to settle.
    """

    respond_days: dict[str, Days] = Field(default_factory=dict, description="Time for each level to take up a case handed to it, by level.")
    on_late: Literal["count", "escalate"] = Field("count", description="A late take-up is only counted ('count') or sends the case up ('escalate').")
    report_back_days: NonNegativeDays = Field(0.0, description="Time to report back to the resident before a settled case is closed.")
    description: str = Field("", description="What the loop is, in words.")


# --------------------------------------------------------------------------- checks and description
def problems(scenario: "Scenario") -> list[str]:
    out: list[str] = []
    if scenario.closed_loop is None:
        return out
    for lname, days in scenario.closed_loop.respond_days.items():
        p = f"closed_loop.respond_days.{lname}"
        if lname not in scenario.levels:
            out.append(f"{p}: '{lname}' is not a level ({', '.join(scenario.levels)})")
        elif (dl := scenario.levels[lname].deadline_days) is not None and days >= dl:
            out.append(f"{p}: {days:g} days must be shorter than the level's deadline_days ({dl:g})")
    return out


def describe(scenario: "Scenario") -> list["DescriptionRow"]:
    cl = scenario.closed_loop
    if cl is None:
        return []
    resp = ", ".join(f"{k} {v:g} d" for k, v in cl.respond_days.items()) or "none"
    return [("closed loop", "", "", f"respond: {resp}; late: {cl.on_late}; report back {cl.report_back_days:g} d")]


# --------------------------------------------------------------------------- runtime
class ClosedLoopRuntime:
    """Response times per level (hours) and what happened at each hand-over."""

    def __init__(self, scenario: "Scenario", ctx: "Context"):
        loop = scenario.closed_loop
        assert loop is not None
        self.env = ctx.env
        names = ctx.levels
        self.names = names
        self.respond: list[float | None] = [None] * len(names)
        for lname, days in loop.respond_days.items():
            self.respond[names.index(lname)] = days * 24.0
        self.escalate = loop.on_late == "escalate"
        self.report_back = loop.report_back_days * 24.0
        self.handed = [0] * len(names)
        self.late = [0] * len(names)
        self.escalated = [0] * len(names)

    def respond_wait(self, li: int, req: Any, counted: bool, profile: "WeeklyProfile | None" = None) -> Iterator[Any]:
        """Wait up to the response time for handling to start; False if the case is sent on up instead.

        The response time runs from the hand-over to the start of handling: a handler granted
        while the office is closed (``profile``: the on/off roster of the receiving staff)
        starts only when it opens, and that wait counts.
        """
        if counted:
            self.handed[li] += 1
        env = self.env
        limit = self.respond[li]
        handed_at = env.now
        if not req.triggered:
            yield req | env.timeout(limit)
        if req.triggered:
            start = env.now if profile is None else profile.next_on_duty(env.now)
            if start - handed_at <= limit:
                return True
        if counted:
            self.late[li] += 1
        if not self.escalate:
            return True
        if req.triggered:  # granted, but the office opens too late: hand the place back when time is up
            yield env.timeout(handed_at + limit - env.now)
            req.resource.release(req)
        else:
            req.cancel()
        if counted:
            self.escalated[li] += 1
        return False

    def hooks(self) -> Hooks:
        respond = tuple((li, self.respond_wait) for li, r in enumerate(self.respond) if r is not None)
        return Hooks(respond=respond, report_back_hours=self.report_back)

    def report(self, sink: "MetricSink", end: float) -> None:
        for li, name in enumerate(self.names):
            if self.respond[li] is None:
                continue
            h = self.handed[li]
            sink.put(f"handover_on_time_share.{name}", 1.0 - self.late[li] / h if h else float("nan"))
            sink.put(f"handover_late.{name}", float(self.late[li]))
            sink.put(f"escalated_late.{name}", float(self.escalated[li]))


CLOSED_LOOP = Mechanism("closed_loop", (ClosedLoop,), used=lambda sc: sc.closed_loop is not None, problems=problems,
                        describe=describe, runtime=ClosedLoopRuntime)
