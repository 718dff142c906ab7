"""Re-opening: a settled case whose agreement fails comes back.

When a level settles a case, the case re-opens with the chance ``chance`` of that level (a
number for all levels, or 'default' and level names), drawn from the ``reopen`` stream; the
days until it re-opens are drawn from ``days`` (``reopen.days`` stream). A re-opened case is
the same case, not a new arrival: it returns to the level that settled it (``returns_to:
same``) or the one above (``above``; the top returns to itself), with fresh settle uniforms
(``reopen.outcome`` stream; its handling times are those it drew at arrival), and climbs on
from there. A case re-opens at most once.

Its final outcome is the one after re-opening: it stays open until then, and its days to
settle and its target count from its first arrival to its final closing. A settlement that
re-opens is therefore not a settlement in ``settled_share``; ``reopened_share`` counts the
level settlements (of cases arriving after the warm-up) whose agreement failed.
Settlements by meetings, pools and partners do not re-open.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Union

from pydantic import Field

from ..scenario.fields import Distribution, Probability, Strict
from .base import Hooks, Mechanism

if TYPE_CHECKING:  # pragma: no cover
    from ..scenario.schema import Scenario
    from .base import DescriptionRow
    from .context import Context, MetricSink


# --------------------------------------------------------------------------- schema
class Reopening(Strict):
    """The chance that a level's settlement fails and the days until the case comes back."""

    chance: Union[Probability, dict[str, Probability]]
    days: Distribution
    returns_to: Literal["same", "above"] = "same"
    description: str = Field(default="")

    def chances(self, levels: list[str]) -> list[float]:
        c = self.chance
        if isinstance(c, dict):
            return [float(c.get(name, c.get("default", 0.0))) for name in levels]
        return [float(c)] * len(levels)


# --------------------------------------------------------------------------- checks and description
def problems(scenario: "Scenario") -> list[str]:
    r = scenario.reopening
    out: list[str] = []
    if r is not None and isinstance(r.chance, dict):
        for key in r.chance:
            if key != "default" and key not in scenario.levels:
                out.append(f"reopening.chance.{key}: expected 'default' or a level ({', '.join(scenario.levels)})")
    return out


def describe(scenario: "Scenario") -> list["DescriptionRow"]:
    r = scenario.reopening
    if r is None:
        return []
    names = scenario.level_names
    ch = ", ".join(f"{n} {c:.0%}" for n, c in zip(names, r.chances(names)))
    back = "level that settled it" if r.returns_to == "same" else "level above"
    return [("reopening", "", "every level", f"re-opens: {ch}; after {r.days.describe('days')}; returns to the {back}")]


# --------------------------------------------------------------------------- runtime
class ReopeningRuntime:
    """Draws whether a level's settlement re-opens, when, and the fresh settle uniforms."""

    def __init__(self, scenario: "Scenario", ctx: "Context"):
        spec = scenario.reopening
        assert spec is not None
        names = list(ctx.levels)
        self.chances = spec.chances(names)
        self.top = len(names) - 1
        self.up = 1 if spec.returns_to == "above" else 0
        self.u = ctx.uniforms("reopen")
        self.days = ctx.durations("reopen.days", [spec.days], 24.0)
        self.fresh = ctx.uniforms("reopen.outcome")
        self.n_levels = len(names)
        self.settlements = 0
        self.reopened = 0
        self.hours_sum = 0.0

    def draw(self, li: int, counted: bool) -> tuple[float, int, list[float]] | None:
        """None if the settlement at level ``li`` holds; else (hours until it re-opens, the
        level it returns to, fresh settle uniforms for every level)."""
        if counted:
            self.settlements += 1
        if self.u.next() >= self.chances[li]:
            return None
        hours = self.days.next(0)
        if counted:
            self.reopened += 1
            self.hours_sum += hours
        fresh = [self.fresh.next() for _ in range(self.n_levels)]
        return hours, min(li + self.up, self.top), fresh

    def hooks(self) -> Hooks:
        return Hooks(reopen=self.draw)

    def report(self, sink: "MetricSink", end: float) -> None:
        """Re-opened share and count of counted cases' level settlements, and the mean days to re-open."""
        nan = float("nan")
        sink.put("reopened_share", self.reopened / self.settlements if self.settlements else nan)
        sink.put("cases_reopened", float(self.reopened))
        sink.put("days_to_reopen.mean", self.hours_sum / 24.0 / self.reopened if self.reopened else nan)


REOPENING = Mechanism("reopening", (Reopening,), used=lambda sc: sc.reopening is not None, problems=problems,
                      describe=describe, runtime=ReopeningRuntime)
