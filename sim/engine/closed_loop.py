"""Closed-loop hand-over rules: the receiving level must take a case up within a response time.

Runzhou's "residents list, grid takes, community reports back" and Zhonglou's "community
orders, street takes, departments respond": a case handed to a level with a response time
that waits longer than that for a handler is late; a late hand-over is counted, or (with
``on_late: escalate``) sends the case on to the next level at that moment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

import simpy

from ..scenario.schema import Scenario

if TYPE_CHECKING:  # pragma: no cover
    from .model import Model


class ClosedLoopRuntime:
    """Response times per level (hours) and what happened at each hand-over."""

    def __init__(self, scenario: Scenario):
        loop = scenario.closed_loop
        assert loop is not None
        names = scenario.level_names
        self.names = names
        self.respond: list[float | None] = [None] * len(names)
        for lname, days in loop.respond_days.items():
            self.respond[names.index(lname)] = days * 24.0
        self.escalate = loop.on_late == "escalate"
        self.report_back = loop.report_back_days * 24.0
        self.handed = [0] * len(names)
        self.late = [0] * len(names)
        self.escalated = [0] * len(names)

    def respond_wait(self, m: "Model", li: int, req: simpy.Event, counted: bool) -> Iterator[simpy.Event]:
        """Wait up to the response time for a handler; False if the case is sent on up instead."""
        if counted:
            self.handed[li] += 1
        if req.triggered:
            return True
        yield req | m.env.timeout(self.respond[li])  # type: ignore[arg-type]
        if req.triggered:
            return True
        if counted:
            self.late[li] += 1
        if self.escalate:
            req.cancel()  # type: ignore[attr-defined]
            if counted:
                self.escalated[li] += 1
            return False
        return True

    def summary(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for li, name in enumerate(self.names):
            if self.respond[li] is None:
                continue
            h = self.handed[li]
            out[f"handover_on_time_share.{name}"] = 1.0 - self.late[li] / h if h else float("nan")
            out[f"handover_late.{name}"] = float(self.late[li])
            out[f"escalated_late.{name}"] = float(self.escalated[li])
        return out
