"""Prevention: a measure (regular evaluation of the property company, say) that lowers the
arrival rate of some categories over time.

Each measure thins the arrivals of its categories by a factor that grows linearly from 0 at
``start_day`` to ``effect`` after ``ramp_days`` more days (a step when ``ramp_days`` is 0). Every
case of a block draws one uniform from the measure's own ``prevention.<name>`` stream, matching
or not, and a matching case at time t is prevented when its uniform is below the factor at t.
The other cases, and every draw of the kept ones, are those of the run without the measure
(common random numbers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field, NonNegativeFloat

from ..scenario.fields import Probability, Strict
from .base import Hooks, Mechanism, check_names

if TYPE_CHECKING:  # pragma: no cover
    from ..scenario.schema import Scenario
    from .base import DescriptionRow
    from .context import Context, MetricSink


# --------------------------------------------------------------------------- schema
class Prevention(Strict):
    """A measure that prevents ``effect`` of the disputes of its categories once fully ramped up."""

    categories: list[str] = Field(min_length=1)
    effect: Probability
    start_day: NonNegativeFloat = 0.0
    ramp_days: NonNegativeFloat = 0.0
    description: str = ""

    def factor(self, day: Any) -> Any:
        """Share of matching arrivals prevented on ``day`` (a number or a numpy array)."""
        import numpy as np

        if self.ramp_days == 0:
            return np.where(np.asarray(day) >= self.start_day, self.effect, 0.0)
        with np.errstate(over="ignore"):
            return self.effect * np.clip((np.asarray(day) - self.start_day) / self.ramp_days, 0.0, 1.0)


# --------------------------------------------------------------------------- checks and description
def problems(scenario: "Scenario") -> list[str]:
    out: list[str] = []
    for name, pv in scenario.prevention.items():
        check_names(out, f"prevention.{name}.categories", pv.categories, scenario.categories, "category")
        if pv.start_day >= scenario.horizon_days:
            out.append(f"prevention.{name}.start_day: {pv.start_day:g} is not before horizon_days "
                       f"({scenario.horizon_days:g}); the measure would never act")
    return out


def describe(scenario: "Scenario") -> list["DescriptionRow"]:
    return [("prevention", name, "arrivals",
             f"-{pv.effect:.0%} of {', '.join(pv.categories)} from day {pv.start_day:g}, full after {pv.ramp_days:g} more days")
            for name, pv in scenario.prevention.items()]


# --------------------------------------------------------------------------- runtime
class PreventionRuntime:
    """Thins each arrival block by every measure in turn; counts what each prevented."""

    def __init__(self, scenario: "Scenario", ctx: "Context"):
        import numpy as np

        self.np = np
        self.warmup = ctx.warmup
        self.measures = []
        for name, pv in scenario.prevention.items():
            cat_ok = np.array([c in pv.categories for c in scenario.categories])
            self.measures.append((name, pv, ctx.stream(f"prevention.{name}"), cat_ok))
        self.prevented = [0] * len(self.measures)
        self.exposed = [0] * len(self.measures)  # matching arrivals after the warm-up, prevented or not

    def thin(self, block: Any) -> Any:
        np = self.np
        keep = np.ones(len(block.times), dtype=bool)
        times = np.asarray(block.times)
        cat = np.asarray(block.category)
        counted = times >= self.warmup
        for i, (_, pv, rng, cat_ok) in enumerate(self.measures):
            u = rng.random(times.size)
            match = cat_ok[cat] & keep
            drop = match & (u < pv.factor(times / 24.0))
            self.exposed[i] += int((match & counted).sum())
            self.prevented[i] += int((drop & counted).sum())
            keep &= ~drop
        if keep.all():
            return block
        return block.subset(np.flatnonzero(keep).tolist())

    def hooks(self) -> Hooks:
        return Hooks(blocks=self.thin)

    def report(self, sink: "MetricSink", end: float) -> None:
        for (name, *_), p, e in zip(self.measures, self.prevented, self.exposed):
            sink.put(f"cases_prevented.{name}", float(p))
            sink.put(f"prevented_share.{name}", p / e if e else float("nan"))


PREVENTION = Mechanism("prevention", (Prevention,), used=lambda sc: bool(sc.prevention), problems=problems,
                       describe=describe, runtime=PreventionRuntime)
