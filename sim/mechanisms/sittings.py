"""Mediation in sittings (``levels.<level>.sittings``): handling spread over several sittings.

A real mediation takes several sittings over days. The first sitting is the level's handling
as without sittings (the same draw, so one sitting gives the results of no sittings). The
case then has ``count - 1`` further sittings: before each it waits ``gap_days`` (elapsed time
that needs nobody), then queues again for a handler of the same unit and holds one for a
sitting ``length`` (default: the level's handling distribution). The days between sittings
and the waits for a handler count toward the level's deadline and the case's target: when the
deadline passes, the case is escalated at that moment. ``follow_up_days`` still follows the
last sitting.

Who holds the later sittings (``continuity``):

* ``unit`` (default) - any handler of the unit that took the case (its own queue, or the
  level's shared queue): a later sitting takes the next free handler, like a new case;
* ``person`` - the same member of staff who held the first sitting. The unit's k handlers are
  k members (:mod:`sim.mechanisms.members`): a first sitting (and any other work: new cases,
  other duties) takes the member who has been free longest, in the unit's first-come-
  first-served queue; a later sitting queues for its own member only, and gets that member when
  it is first in the queue among the requests the member can serve. The member of a case is
  read right after the engine releases its first sitting (the engine calls ``more`` at once
  after that release, with no event between). Colleagues who are free do
  not step in, so waits between sittings are longer than under ``unit`` whenever a unit has
  more than one handler; with one handler per unit both give the same results, bit for bit.
  Needs a roster whose whole staff is on or off duty together, no volunteers joining the
  level, and no other duties that disputes interrupt (members are not tracked through those).

Only cases handled at the level have sittings (not those only triaged above its ceiling).
Draws come from the level's own streams ``sittings.<level>.count``, ``.gap`` and ``.length``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator, Literal

from pydantic import Field

from ..scenario.fields import Distribution, Strict
from .base import Hooks, Mechanism

if TYPE_CHECKING:  # pragma: no cover
    from ..scenario.schema import Scenario
    from .base import DescriptionRow
    from .context import Context, MetricSink


class Sittings(Strict):
    """How a level's handling is spread over sittings."""

    count: Distribution  # sittings per case, rounded to a whole number, at least 1
    gap_days: Distribution  # days between the end of one sitting and the next
    length: dict[str, Distribution] | None = None  # later sittings, per severity ('default'); the level's handling if absent
    continuity: Literal["unit", "person"] = Field(
        "unit", description="Who holds the later sittings: any handler of the unit that took the case ('unit'), "
        "or the same member of staff who held the first ('person').")
    description: str = ""


def used(scenario: "Scenario") -> bool:
    return any(lv.sittings is not None for lv in scenario.levels.values())


def problems(scenario: "Scenario") -> list[str]:
    from .base import check_per_severity

    out: list[str] = []
    for name, lv in scenario.levels.items():
        if lv.sittings is not None and lv.sittings.length is not None:
            check_per_severity(out, f"levels.{name}.sittings.length", lv.sittings.length, scenario.severities)
        if lv.sittings is not None and lv.sittings.continuity == "person":
            out.extend(_person_problems(scenario, name))
    return out


def _person_problems(scenario: "Scenario", name: str) -> list[str]:
    """Continuity of the person follows members through plain staff resources only."""
    from .. import rosters

    lv = scenario.levels[name]
    p = f"levels.{name}.sittings.continuity"
    out = []
    role = scenario.roles.get(lv.role)
    if role is not None:
        profile = rosters.weekly_profile(role)
        if not (profile.constant or profile.on_off):
            out.append(f"{p}: 'person' needs a roster of the role '{lv.role}' whose whole staff is on or off duty "
                       "together (always, office, or shifts without a changing head-count)")
        if role.other_duties is not None and role.other_duties.rule != "disputes_wait":
            out.append(f"{p}: 'person' does not work with other duties that disputes interrupt "
                       f"(roles.{lv.role}.other_duties.rule: {role.other_duties.rule}); use disputes_wait")
    if lv.volunteers:
        out.append(f"{p}: 'person' does not work with volunteers joining the level ({', '.join(lv.volunteers)})")
    return out


def describe(scenario: "Scenario") -> list["DescriptionRow"]:
    return [("sittings", name, name, f"{lv.sittings.count.describe()} sittings, {lv.sittings.gap_days.describe('days')} "
             f"apart, same {lv.sittings.continuity}") for name, lv in scenario.levels.items() if lv.sittings is not None]


class LevelSittings:
    """The further sittings of cases handled at one level."""

    def __init__(self, ctx: "Context", name: str, spec: Sittings, handling: list[Any]):
        self.env = ctx.env
        self.counts = ctx.durations(f"sittings.{name}.count", [spec.count], 1.0)
        self.gaps = ctx.durations(f"sittings.{name}.gap", [spec.gap_days], 24.0)
        sevs = ctx.severities
        lengths = ([spec.length.get(s, spec.length.get("default")) for s in sevs] if spec.length is not None else handling)
        self.lengths = ctx.durations(f"sittings.{name}.length", lengths, ctx.hours_per_unit)
        if spec.continuity == "person":
            from . import members

            self._members = members
            self.more = self._more_person  # type: ignore[method-assign]

    def more(self, res: Any, busy: Any, sev: int, deadline: float | None, profile: Any) -> Iterator[Any]:
        """The sittings after the first; returns False when the deadline passed on the way.

        ``profile`` is the level's weekly profile when its office closes (a handler granted off
        duty waits for the next shift), else None.
        """
        return self._sittings(res, busy, sev, deadline, profile, None)

    def _more_person(self, res: Any, busy: Any, sev: int, deadline: float | None, profile: Any) -> Iterator[Any]:
        """As :meth:`more`, every later sitting held by the member who held the first (called
        right after the engine released the first sitting's request, so that member is known)."""
        return self._sittings(res, busy, sev, deadline, profile, self._members.released_member(res))

    def _sittings(self, res: Any, busy: Any, sev: int, deadline: float | None, profile: Any,
                  member: int | None) -> Iterator[Any]:
        env = self.env
        extra = max(1, round(self.counts.next(0))) - 1
        for _ in range(extra):
            gap = self.gaps.next(0)
            if deadline is not None and env.now + gap > deadline:
                yield env.timeout(deadline - env.now)
                return False
            yield env.timeout(gap)
            if member is not None:
                req = self._members.member_request(res, member)
            else:
                ranks = getattr(res, "ranks", None)  # other duties by severity
                req = res.request() if ranks is None else res.request(*ranks[sev])
            if deadline is None:
                yield req
            else:
                if not req.triggered:
                    yield req | env.timeout(deadline - env.now)
                    if not req.triggered:
                        req.cancel()
                        return False
                else:
                    yield req
            if profile is not None and (opens := profile.next_on_duty(env.now)) > env.now:
                if deadline is not None and opens >= deadline:
                    yield env.timeout(deadline - env.now)
                    res.release(req)
                    return False
                yield env.timeout(opens - env.now)
            length = self.lengths.next(sev)
            now = env.now
            busy.start(now)
            off = res.off_duty
            if off is not None:
                off.start(now)
            cut = deadline is not None and now + length > deadline
            yield env.timeout(deadline - now if cut else length)
            busy.end(env.now)
            if off is not None:
                off.end(env.now)
            res.release(req)
            if cut:
                return False
        return True


class SittingsRuntime:
    def __init__(self, scenario: "Scenario", ctx: "Context"):
        sevs = scenario.severities
        self.plans = tuple((li, LevelSittings(ctx, name, lv.sittings, [scenario.handling_dist(name, s) for s in sevs]))
                           for li, (name, lv) in enumerate(scenario.levels.items()) if lv.sittings is not None)

    def hooks(self) -> Hooks:
        return Hooks(sittings=self.plans)

    def report(self, sink: "MetricSink", end: float) -> None:
        """Sittings show in the level's waits, utilisation and days to settle; nothing of their own."""


SITTINGS = Mechanism("sittings", (Sittings,), used=used, problems=problems, describe=describe, runtime=SittingsRuntime)
