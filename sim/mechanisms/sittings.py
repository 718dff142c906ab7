"""Mediation in sittings (``levels.<level>.sittings``): handling spread over several sittings.

A real mediation takes several sittings over days. The first sitting is the level's handling
as without sittings (the same draw, so one sitting gives the results of no sittings). The
case then has ``count - 1`` further sittings: before each it waits ``gap_days`` (elapsed time
that needs nobody), then queues again for a handler of the same unit and holds one for a
sitting ``length`` (default: the level's handling distribution). The days between sittings
and the waits for a handler count toward the level's deadline and the case's target: when the
deadline passes, the case is escalated at that moment. ``follow_up_days`` still follows the
last sitting.

Continuity is modelled by the *same-unit rule*: every sitting of a case is held by a handler of
the unit that took it (its own queue, or the level's shared queue), not necessarily the same
person; a planner who needs the same person should read the results as a lower bound on waits.

Only cases handled at the level have sittings (not those only triaged above its ceiling).
Draws come from the level's own streams ``sittings.<level>.count``, ``.gap`` and ``.length``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

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
    description: str = ""


def used(scenario: "Scenario") -> bool:
    return any(lv.sittings is not None for lv in scenario.levels.values())


def problems(scenario: "Scenario") -> list[str]:
    from .base import check_per_severity

    out: list[str] = []
    for name, lv in scenario.levels.items():
        if lv.sittings is not None and lv.sittings.length is not None:
            check_per_severity(out, f"levels.{name}.sittings.length", lv.sittings.length, scenario.severities)
    return out


def describe(scenario: "Scenario") -> list["DescriptionRow"]:
    return [("sittings", name, name, f"{lv.sittings.count.describe()} sittings, {lv.sittings.gap_days.describe('days')} "
             "apart, same unit") for name, lv in scenario.levels.items() if lv.sittings is not None]


class LevelSittings:
    """The further sittings of cases handled at one level."""

    def __init__(self, ctx: "Context", name: str, spec: Sittings, handling: list[Any]):
        self.env = ctx.env
        self.counts = ctx.durations(f"sittings.{name}.count", [spec.count], 1.0)
        self.gaps = ctx.durations(f"sittings.{name}.gap", [spec.gap_days], 24.0)
        sevs = ctx.severities
        lengths = ([spec.length.get(s, spec.length.get("default")) for s in sevs] if spec.length is not None else handling)
        self.lengths = ctx.durations(f"sittings.{name}.length", lengths, ctx.hours_per_unit)

    def more(self, res: Any, busy: Any, sev: int, deadline: float | None, profile: Any) -> Iterator[Any]:
        """The sittings after the first; returns False when the deadline passed on the way.

        ``profile`` is the level's weekly profile when its office closes (a handler granted off
        duty waits for the next shift), else None.
        """
        env = self.env
        extra = max(1, round(self.counts.next(0))) - 1
        for _ in range(extra):
            gap = self.gaps.next(0)
            if deadline is not None and env.now + gap > deadline:
                yield env.timeout(deadline - env.now)
                return False
            yield env.timeout(gap)
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
