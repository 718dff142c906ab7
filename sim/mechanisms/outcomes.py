"""Outcomes that depend on time and load: disputes harden while they wait; rushed staff settle less.

Per level, all optional (a level not named keeps the fixed settle share):

* ``hardening_days`` H: the chance to settle is ``p * exp(-d / H)``, ``d`` the days since the
  case arrived (the dispute's age when the level decides, waits below included).
* ``queue_threshold`` q0 with ``settle_drop_per_queued`` s and/or ``handling_cut_per_queued`` c:
  with ``q`` cases queued for the same handlers when the case reaches the level, the chance to
  settle is multiplied by ``max(0, 1 - s * (q - q0))`` and the handling time by
  ``max(handling_floor, 1 - c * (q - q0))`` when ``q > q0`` (staff hurry and settle less).

The rule uses no random numbers: the case's own settle uniform decides against the lowered
chance, so the cases a level settles with the rule are a subset of those it settles without
(common random numbers).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from ..scenario.fields import Days, Probability, Strict
from .base import Hooks, Mechanism, check_level

if TYPE_CHECKING:  # pragma: no cover
    from ..scenario.schema import Scenario
    from .base import DescriptionRow
    from .context import Context, MetricSink


# --------------------------------------------------------------------------- schema
class LevelOutcome(Strict):
    """How the days a case has waited and the handler's queue change a level's outcome."""

    hardening_days: Days | None = None
    queue_threshold: Annotated[float, Field(ge=0.0, le=1_000_000.0)] = 0.0  # cases queued
    settle_drop_per_queued: Probability = 0.0
    handling_cut_per_queued: Probability = 0.0
    handling_floor: Annotated[float, Field(gt=0.0, le=1.0)] = 0.5
    description: str = ""


# --------------------------------------------------------------------------- checks and description
def problems(scenario: "Scenario") -> list[str]:
    out: list[str] = []
    for name in scenario.outcomes:
        check_level(out, f"outcomes.{name}", name, scenario)
    return out


def describe(scenario: "Scenario") -> list["DescriptionRow"]:
    rows: list["DescriptionRow"] = []
    for name, o in scenario.outcomes.items():
        parts = []
        if o.hardening_days is not None:
            parts.append(f"settle share x exp(-days waited / {o.hardening_days:g})")
        if o.settle_drop_per_queued:
            parts.append(f"-{o.settle_drop_per_queued:.1%} settle share per case queued beyond {o.queue_threshold:g}")
        if o.handling_cut_per_queued:
            parts.append(f"-{o.handling_cut_per_queued:.1%} handling time per case queued beyond "
                         f"{o.queue_threshold:g} (at least {o.handling_floor:.0%})")
        rows.append(("outcomes", name, name, "; ".join(parts) or "no change"))
    return rows


# --------------------------------------------------------------------------- runtime
class OutcomeRule:
    """One level's rule, read by the case process at the handling step and the settle decision."""

    __slots__ = ("cut", "drop", "floor", "hardening", "threshold")

    def __init__(self, spec: LevelOutcome):
        self.hardening = spec.hardening_days * 24.0 if spec.hardening_days is not None else None
        self.threshold = spec.queue_threshold
        self.drop = spec.settle_drop_per_queued
        self.cut = spec.handling_cut_per_queued
        self.floor = spec.handling_floor

    def handling(self, hours: float, queued: int) -> float:
        """The handling time when ``queued`` cases wait for the same handlers."""
        over = queued - self.threshold
        if over <= 0 or not self.cut:
            return hours
        return hours * max(self.floor, 1.0 - self.cut * over)

    def chance(self, p: float, age_hours: float, queued: int) -> float:
        """The chance to settle of a case ``age_hours`` old that found ``queued`` cases waiting."""
        if self.hardening is not None:
            p *= math.exp(-age_hours / self.hardening)
        over = queued - self.threshold
        if over > 0 and self.drop:
            p *= max(0.0, 1.0 - self.drop * over)
        return p


class OutcomesRuntime:
    """The rules of the levels named, by level index."""

    def __init__(self, scenario: "Scenario", ctx: "Context"):
        self.rules = tuple((ctx.level_index(name), OutcomeRule(spec)) for name, spec in scenario.outcomes.items())

    def hooks(self) -> Hooks:
        return Hooks(outcome_rules=self.rules)

    def report(self, sink: "MetricSink", end: float) -> None:
        """No metrics of its own: its effect shows in the engine's shares and times."""


OUTCOMES = Mechanism("outcomes", (LevelOutcome,), used=lambda sc: bool(sc.outcomes), problems=problems,
                     describe=describe, runtime=OutcomesRuntime)


def rules_by_level(hooks: list[Any], n_levels: int) -> list[OutcomeRule | None] | None:
    """Each level's rule (None where it has none), or None when no level has one."""
    rules: list[OutcomeRule | None] = [None] * n_levels
    found = False
    for h in hooks:
        for li, rule in h.outcome_rules:
            rules[li] = rule
            found = True
    return rules if found else None
