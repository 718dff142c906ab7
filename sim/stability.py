"""Will the queues settle down? An analytic utilisation estimate per level, before running.

A fluid (mean-flow) model of the hierarchy. Cases arrive at the bottom units in proportion
to households, split by the severity mix. At every unit the offered load is

    sum over severities of (cases an hour) x (mean handling hours, or mean triage hours for
    severities above the level's ceiling),

and the capacity is the staff on duty averaged over the roster week (after availability),
so utilisation = offered load / capacity; a queue can only settle down when it is below 1.
Work carries over shift changes in the engine, so the weekly average is the right capacity.
Cases a level handles but does not settle (1 - settle probability), and all cases above its
ceiling, go up to the parent unit. When a unit is overloaded it can only pass on what it
serves (the rest piles up), unless it has a deadline: then the excess is escalated by the
deadline instead, so the load moves up the hierarchy. A level is "unstable" when its
worst unit (or its shared queue) has utilisation >= 1 and no deadline to drain it.

The estimate counts volunteers with the level's staff but ignores meetings, pools, partners
and channels (mechanisms beside the plain ladder) and the work a deadline cuts short, so treat it as a warning, not a
verdict; the engine's ``max_open_cases`` limit catches what it misses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .hierarchy import Hierarchy, build_hierarchy
from .scenario.schema import Scenario

HOURS_PER_YEAR = 365.0 * 24.0
HOURS_PER_WEEK = 168.0


@dataclass(frozen=True)
class LevelLoad:
    """The estimate for one level: arrivals, offered load, staff and utilisation."""

    level: str
    arrivals_per_hour: float  # cases reaching the level
    offered: float  # staff-hours of work arriving per hour (erlangs)
    capacity: float  # staff on duty, averaged over the week, whole level
    utilisation: float  # offered / capacity, whole level (inf without staff)
    worst_utilisation: float  # of the busiest unit (or of the shared queue)
    worst_unit: int  # index of that unit
    deadline_days: float | None

    @property
    def unstable(self) -> bool:
        """Utilisation >= 1 somewhere and no deadline to send the excess up."""
        return self.worst_utilisation >= 1.0 and self.deadline_days is None

    @property
    def overloaded(self) -> bool:
        return self.worst_utilisation >= 1.0


def mean_on_duty(scenario: Scenario, level: str) -> float:
    """Staff of one unit of a level on duty, averaged over the roster week (after availability)."""
    from .rosters import weekly_profile

    lv = scenario.levels[level]
    roles = [lv.role, *getattr(lv, "volunteers", [])]  # volunteers join the level's handlers
    return sum(weekly_profile(scenario.roles[r]).on_duty_hours(0.0, HOURS_PER_WEEK) for r in roles) / HOURS_PER_WEEK


def estimate(scenario: Scenario, hierarchy: Hierarchy | None = None) -> list[LevelLoad]:
    """Utilisation estimate of every level, bottom first (see the module docstring)."""
    h = hierarchy or build_hierarchy(scenario)
    sevs = scenario.severities
    mix = np.array([scenario.arrivals.severity_mix.get(s, 0.0) for s in sevs])
    rate = scenario.arrivals.rate_per_household_year * scenario.households / HOURS_PER_YEAR
    share = h.households / h.households.sum()
    flow = rate * share[:, None] * mix[None, :]  # cases an hour per (unit, severity) at the bottom
    hpu = scenario.hours_per_unit
    out: list[LevelLoad] = []
    for li, (name, lv) in enumerate(scenario.levels.items()):
        ceiling = sevs.index(lv.ceiling) if lv.ceiling in sevs else len(sevs) - 1
        above = np.arange(len(sevs)) > ceiling
        work = np.array([lv.triage.expected() * hpu if (a and lv.triage is not None) else
                         (0.0 if a else scenario.handling_dist(name, s).expected() * hpu) for s, a in zip(sevs, above)])
        passes = np.where(above, 1.0, 1.0 - np.array([scenario.settle_prob(name, s) for s in sevs]))
        per_unit_staff = mean_on_duty(scenario, name)
        offered_u = flow @ work  # per unit
        if lv.queue == "shared":
            cap_u = np.full(len(offered_u), per_unit_staff * len(offered_u))
            rho_u = np.full(len(offered_u), _ratio(offered_u.sum(), cap_u[0]))
        else:
            cap_u = np.full(len(offered_u), per_unit_staff)
            rho_u = np.array([_ratio(o, c) for o, c in zip(offered_u, cap_u)])
        offered, capacity = float(offered_u.sum()), per_unit_staff * len(offered_u)
        worst = int(np.argmax(rho_u)) if len(rho_u) else 0
        out.append(LevelLoad(name, float(flow.sum()), offered, capacity, _ratio(offered, capacity),
                             float(rho_u[worst]) if len(rho_u) else 0.0, worst, lv.deadline_days))
        if li + 1 < len(scenario.levels):
            served = np.minimum(1.0, 1.0 / np.maximum(rho_u, 1e-300))  # share of arrivals a unit gets through
            sent = flow * (served[:, None] * passes[None, :])
            if lv.deadline_days is not None:  # the unserved share is escalated by the deadline
                sent = sent + flow * (1.0 - served)[:, None]
            parents = h.parents[li]
            flow = np.zeros((h.counts[li + 1], len(sevs)))
            np.add.at(flow, parents, sent)
    return out


def _ratio(offered: float, capacity: float) -> float:
    if offered <= 0.0:
        return 0.0
    return offered / capacity if capacity > 0.0 else float("inf")


def warnings(loads: list[LevelLoad]) -> list[str]:
    """One line per unstable or overloaded level, for the CLI to print before running."""
    lines = []
    for ld in loads:
        if not ld.overloaded:
            continue
        where = "" if ld.worst_utilisation == ld.utilisation else f" (busiest unit #{ld.worst_unit}: {ld.worst_utilisation:.3g})"
        detail = (f"estimated utilisation {ld.utilisation:.3g}{where}: {ld.offered:.3g} staff-hours of work an hour "
                  f"for {ld.capacity:.3g} staff on duty on average")
        if ld.unstable:
            lines.append(f"unstable: arrival rate exceeds capacity at level {ld.level} ({detail}); "
                         f"its queue will grow until the run stops at max_open_cases")
        else:
            lines.append(f"overloaded: arrival rate exceeds capacity at level {ld.level} ({detail}); "
                         f"its deadline of {ld.deadline_days:g} days sends the excess up")
    return lines
