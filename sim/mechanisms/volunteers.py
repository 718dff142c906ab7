"""Volunteers and part-timers who join a level's handlers (``levels.<level>.volunteers``).

The roles listed under a level add their on-duty head-count, each after its own roster,
availability and hours a week, to the level's staff: one queue, more hands at some hours.
Their section is a field of the level, so the schema model stays with the level.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import rosters
from .base import Hooks, Mechanism

if TYPE_CHECKING:  # pragma: no cover
    from ..scenario.schema import Scenario
    from .base import DescriptionRow
    from .context import Context, MetricSink


def problems(scenario: "Scenario") -> list[str]:
    return [f"levels.{lname}.volunteers.{i}: role '{r}' is not declared under roles"
            for lname, lv in scenario.levels.items() for i, r in enumerate(lv.volunteers) if r not in scenario.roles]


def describe(scenario: "Scenario") -> list["DescriptionRow"]:
    return [("volunteers", ", ".join(lv.volunteers), lname, "join the level's handlers")
            for lname, lv in scenario.levels.items() if lv.volunteers]


class Volunteers:
    """The volunteers' on-duty head-counts, per level they join: each member turns out on a day
    with the role's on-duty share (availability, hours a week), drawn day by day from the stream
    ``volunteers.<level>.<role>``, and then works the role's rostered hours of that day."""

    def __init__(self, scenario: "Scenario", ctx: "Context"):
        extra = []
        for li, (lname, lv) in enumerate(scenario.levels.items()):
            if not lv.volunteers:
                continue
            turnouts = []
            for r in lv.volunteers:
                role = scenario.roles[r]
                shape = rosters.weekly_profile(role.model_copy(update={"staff_per_unit": 1, "availability": 1.0,
                                                                       "hours_per_week": None}))
                turnouts.append(rosters.DailyTurnout(shape, role.staff_per_unit, role.on_duty_share(),
                                                     ctx.stream(f"volunteers.{lname}.{r}")))
            extra.append((li, tuple(turnouts)))
        self.extra = tuple(extra)

    def hooks(self) -> Hooks:
        return Hooks(extra_staff=self.extra)

    def report(self, sink: "MetricSink", end: float) -> None:
        """Volunteers show in their level's utilisation; nothing of their own."""


VOLUNTEERS = Mechanism("volunteers", (), used=lambda sc: any(lv.volunteers for lv in sc.levels.values()),
                       problems=problems, describe=describe, runtime=Volunteers)
