"""Where and when cases arrive, with everything random about them drawn at arrival.

Cases come from one Poisson stream for the whole area (the superposition of every
building's stream), thinned for weekday and hour profiles, and are spread over buildings in
proportion to households. Each case's handling-time and outcome uniforms for every level
are drawn at arrival from per-level streams and turned into times by inverse CDFs, in
vectorised blocks: cheap per case, and strong common random numbers between scenarios.
With a case difficulty (:mod:`sim.mechanisms.difficulty`) each case also draws one
difficulty from its own stream, which ties its outcome uniforms at the levels together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..hierarchy import Hierarchy
from ..mechanisms.difficulty import draw_for
from ..scenario.schema import Scenario
from ..streams import stream

HOURS_PER_YEAR = 365.0 * 24.0
HOURS_PER_WEEK = 168.0
BLOCK = 4096


@dataclass
class CaseBlock:
    """A block of arrivals as plain Python lists (fast to index from the SimPy processes)."""

    times: list[float]
    building: list[int]
    severity: list[int]
    category: list[int]
    handling: list[list[float]]  # per case: handling hours at each level
    triage: list[list[float]]  # per case: triage hours at each level
    outcome: list[list[float]]  # per case: uniform deciding settlement at each level
    start: list[int] | None = None  # per case: the level it enters at (None: the bottom, or channels decide)
    delay: list[float] | None = None  # per case: hours from arrival until it is known (detection)

    def subset(self, keep: list[int]) -> "CaseBlock":
        """The cases at positions ``keep``, in order (prevention thins a block)."""
        def pick(xs: list | None) -> list | None:
            return None if xs is None else [xs[i] for i in keep]
        return CaseBlock(pick(self.times), pick(self.building), pick(self.severity), pick(self.category),  # type: ignore[arg-type]
                         pick(self.handling), pick(self.triage), pick(self.outcome), pick(self.start),  # type: ignore[arg-type]
                         pick(self.delay))


def weekly_factor_table(scenario: Scenario) -> np.ndarray | None:
    """Arrival-rate factor for each of the 168 hours of the week, averaging 1; None if flat."""
    a = scenario.arrivals
    if a.weekday_factors is None and a.hour_factors is None:
        return None
    day = np.asarray(a.weekday_factors or [1.0] * 7, dtype=float)
    hour = np.asarray(a.hour_factors or [1.0] * 24, dtype=float)
    table = (day[:, None] * hour[None, :]).ravel()
    return table / table.mean()


class CaseSource:
    """Generates the arrivals of one replication, block by block, from its own streams."""

    def __init__(self, scenario: Scenario, hierarchy: Hierarchy, seed: int, rep: int):
        self.scenario = scenario
        self.rate = scenario.arrivals.rate_per_household_year * scenario.households / HOURS_PER_YEAR
        self.factors = weekly_factor_table(scenario)
        self.fmax = float(self.factors.max()) if self.factors is not None else 1.0
        self.cum_households = np.cumsum(hierarchy.households).astype(float)
        sev = scenario.arrivals.severity_mix
        cat = scenario.arrivals.category_mix
        self.sev_cum = np.cumsum([sev.get(s, 0.0) for s in scenario.severities])
        self.cat_cum = np.cumsum([cat.get(c, 0.0) for c in scenario.categories])
        self.rng_time = stream(seed, rep, "arrivals")
        self.rng_building = stream(seed, rep, "building")
        self.rng_severity = stream(seed, rep, "severity")
        self.rng_category = stream(seed, rep, "category")
        names = scenario.level_names
        self.rng_handling = [stream(seed, rep, f"handling.{n}") for n in names]
        self.rng_outcome = [stream(seed, rep, f"outcome.{n}") for n in names]
        hpu = scenario.hours_per_unit
        self.handling_specs = [[(scenario.handling_dist(n, s), hpu) for s in scenario.severities] for n in names]
        self.triage_specs = [scenario.levels[n].triage for n in names]
        self.difficulty = draw_for(scenario, seed, rep)  # None: independent outcome uniforms
        self.t = 0.0

    def blocks(self, horizon: float) -> Iterator[CaseBlock]:
        """Blocks of arrivals in time order until the horizon (hours)."""
        while self.t < horizon:
            times = self._times(horizon)
            if times.size:
                yield self._fill(times)

    def _times(self, horizon: float) -> np.ndarray:
        lam = self.rate * self.fmax
        gaps = self.rng_time.exponential(1.0 / lam, BLOCK)
        times = self.t + np.cumsum(gaps)
        self.t = float(times[-1])
        if self.factors is not None:
            keep = self.rng_time.random(BLOCK) * self.fmax < self.factors[(times % HOURS_PER_WEEK).astype(np.int64)]
            times = times[keep]
        return times[times < horizon]

    def _fill(self, times: np.ndarray) -> CaseBlock:
        n = times.size
        building = np.searchsorted(self.cum_households, self.rng_building.random(n) * self.cum_households[-1], side="right")
        severity = np.minimum(np.searchsorted(self.sev_cum, self.rng_severity.random(n) * self.sev_cum[-1], side="right"), len(self.sev_cum) - 1)
        category = np.minimum(np.searchsorted(self.cat_cum, self.rng_category.random(n) * self.cat_cum[-1], side="right"), len(self.cat_cum) - 1)
        n_levels = len(self.handling_specs)
        hand = np.empty((n_levels, n))
        tri = np.zeros((n_levels, n))
        out = np.empty((n_levels, n))
        for li in range(n_levels):
            u = self.rng_handling[li].random(n)
            out[li] = self.rng_outcome[li].random(n)
            for si, (spec, scale) in enumerate(self.handling_specs[li]):
                mask = severity == si
                if mask.any():
                    hand[li, mask] = spec.inverse_cdf(u[mask], scale)
            if self.triage_specs[li] is not None:
                tri[li] = self.triage_specs[li].inverse_cdf(u, self.scenario.hours_per_unit)
        if self.difficulty is not None:
            self.difficulty.apply(out, severity, category)
        return CaseBlock(
            times.tolist(), building.tolist(), severity.tolist(), category.tolist(),
            hand.T.tolist(), tri.T.tolist(), out.T.tolist(),
        )
