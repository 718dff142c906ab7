"""Collective cases: one dispute involving many households (owners against the property company).

Such disputes do not come from one household's Poisson stream. Each kind has its own Poisson
stream per unit of a level (an estate, a community) at ``rate_per_unit_year``; a case picks its
unit uniformly and a building of that unit by households, involves a number of households
drawn from ``households`` (at least 1), enters at ``enters_at`` (default the bottom level),
has handling times at every level scaled by ``handling_factor * (1 + handling_per_household *
(households - 1))`` (more sittings, more parties present) and, where ``settle`` names a level,
that level's settle chance replaced by its own. Everything is drawn from the
``collective.<name>.*`` streams, so the households' own cases are the same with or without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

from pydantic import Field, NonNegativeFloat, PositiveFloat

from ..scenario.fields import MIX_TOLERANCE, Distribution, Probability, Strict
from .base import Hooks, Mechanism, check_level

if TYPE_CHECKING:  # pragma: no cover
    from ..scenario.schema import Scenario
    from .base import DescriptionRow
    from .context import Context, MetricSink

HOURS_PER_YEAR = 365.0 * 24.0


# --------------------------------------------------------------------------- schema
class Collective(Strict):
    """A kind of collective dispute arising per unit of ``level`` at its own rate."""

    level: str
    rate_per_unit_year: PositiveFloat
    households: Distribution  # households involved in one case (rounded, at least 1)
    severity_mix: dict[str, Probability]
    category: str
    enters_at: str | None = None
    handling_factor: PositiveFloat = 1.0
    handling_per_household: NonNegativeFloat = 0.0
    settle: dict[str, Probability] = Field(default_factory=dict)  # level -> settle chance for these cases
    description: str = ""


# --------------------------------------------------------------------------- checks and description
def problems(scenario: "Scenario") -> list[str]:
    out: list[str] = []
    for name, co in scenario.collective.items():
        p = f"collective.{name}"
        check_level(out, f"{p}.level", co.level, scenario)
        if co.enters_at is not None:
            check_level(out, f"{p}.enters_at", co.enters_at, scenario)
        for lname in co.settle:
            check_level(out, f"{p}.settle.{lname}", lname, scenario)
        if co.category not in scenario.categories:
            out.append(f"{p}.category: '{co.category}' is not a declared category ({', '.join(scenario.categories)})")
        for key in co.severity_mix:
            if key not in scenario.severities:
                out.append(f"{p}.severity_mix.{key}: '{key}' is not a declared severity ({', '.join(scenario.severities)})")
        total = sum(co.severity_mix.values())
        if abs(total - 1.0) > MIX_TOLERANCE:
            out.append(f"{p}.severity_mix: must sum to 1 (within {MIX_TOLERANCE:g}), sums to {total:.12g}")
    return out


def describe(scenario: "Scenario") -> list["DescriptionRow"]:
    return [("collective", name, co.level,
             f"{co.rate_per_unit_year:g} a year per {co.level}, {co.households.describe('households')} each, "
             f"{co.category}, handling x{co.handling_factor:g} (+{co.handling_per_household:g} a household)")
            for name, co in scenario.collective.items()]


# --------------------------------------------------------------------------- runtime
class CollectiveSource:
    """The arrivals of one kind of collective case, as arrival blocks with their entry levels."""

    def __init__(self, scenario: "Scenario", ctx: "Context", name: str, co: Collective):
        import numpy as np

        self.np = np
        self.name = name
        self.co = co
        hier = ctx.hierarchy
        li = ctx.level_index(co.level)
        self.n_units = hier.counts[li]
        self.rate = co.rate_per_unit_year * self.n_units / HOURS_PER_YEAR
        self.members = [np.flatnonzero(hier.ancestors[li] == u) for u in range(self.n_units)]
        self.member_cum = [np.cumsum(hier.households[m]).astype(float) for m in self.members]
        label = f"collective.{name}"
        self.rng = {k: ctx.stream(f"{label}.{k}") for k in ("arrivals", "unit", "households", "severity", "handling", "outcome")}
        self.sev_cum = np.cumsum([co.severity_mix.get(s, 0.0) for s in scenario.severities])
        self.category = scenario.categories.index(co.category)
        self.start = ctx.level_index(co.enters_at) if co.enters_at is not None else 0
        hpu = scenario.hours_per_unit
        self.handling = [[(scenario.handling_dist(lv, s), hpu) for s in scenario.severities] for lv in scenario.level_names]
        self.triage = [(scenario.levels[lv].triage, hpu) for lv in scenario.level_names]
        self.settle = [co.settle.get(lv) for lv in scenario.level_names]
        self.warmup = ctx.warmup
        self.cases = 0
        self.households_sum = 0

    def blocks(self, horizon: float) -> Iterator[Any]:
        """All arrivals up to the horizon (hours) in one block: they are few."""
        from ..engine.arrivals import CaseBlock

        np = self.np
        gaps: list[float] = []
        t = 0.0
        while True:
            chunk = self.rng["arrivals"].exponential(1.0 / self.rate, 256)
            times = t + np.cumsum(chunk)
            gaps.extend(times[times < horizon].tolist())
            if times[-1] >= horizon:
                break
            t = float(times[-1])
        n = len(gaps)
        if n == 0:
            return
        times = np.asarray(gaps)
        units = np.minimum((self.rng["unit"].random(n) * self.n_units).astype(np.int64), self.n_units - 1)
        u_building = self.rng["unit"].random(n)
        building = [int(self.members[u][min(np.searchsorted(self.member_cum[u], ub * self.member_cum[u][-1], side="right"),
                                             len(self.members[u]) - 1)]) for u, ub in zip(units.tolist(), u_building.tolist())]
        households = np.maximum(1, np.rint(self.co.households.inverse_cdf(self.rng["households"].random(n)))).astype(np.int64)
        severity = np.minimum(np.searchsorted(self.sev_cum, self.rng["severity"].random(n) * self.sev_cum[-1], side="right"),
                              len(self.sev_cum) - 1)
        scale = self.co.handling_factor * (1.0 + self.co.handling_per_household * (households - 1))
        n_levels = len(self.handling)
        u_hand = self.rng["handling"].random((n_levels, n))
        u_out = self.rng["outcome"].random((n_levels, n))
        hand = np.empty((n_levels, n))
        tri = np.zeros((n_levels, n))
        out = np.empty((n_levels, n))
        for li in range(n_levels):
            for si, (spec, hpu) in enumerate(self.handling[li]):
                mask = severity == si
                if mask.any():
                    hand[li, mask] = spec.inverse_cdf(u_hand[li, mask], hpu)
            hand[li] *= scale
            spec, hpu = self.triage[li]
            if spec is not None:
                tri[li] = spec.inverse_cdf(u_hand[li], hpu) * scale
            p = self.settle[li]
            # the case process settles when outcome < the level's chance: -1 always, 2 never
            out[li] = u_out[li] if p is None else np.where(u_out[li] < p, -1.0, 2.0)
        counted = times >= self.warmup
        self.cases += int(counted.sum())
        self.households_sum += int(households[counted].sum())
        yield CaseBlock(times.tolist(), building, severity.tolist(), [self.category] * n, hand.T.tolist(),
                        tri.T.tolist(), out.T.tolist(), start=[self.start] * n)


class CollectiveRuntime:
    def __init__(self, scenario: "Scenario", ctx: "Context"):
        self.sources = [CollectiveSource(scenario, ctx, name, co) for name, co in scenario.collective.items()]

    def hooks(self) -> Hooks:
        return Hooks(sources=tuple(self.sources))

    def report(self, sink: "MetricSink", end: float) -> None:
        for src in self.sources:
            sink.put(f"collective_cases.{src.name}", float(src.cases))
            sink.put(f"households_involved.{src.name}",
                     src.households_sum / src.cases if src.cases else float("nan"))


COLLECTIVE = Mechanism("collective", (Collective,), used=lambda sc: bool(sc.collective), problems=problems,
                       describe=describe, runtime=CollectiveRuntime)
