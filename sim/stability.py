"""Will the queues settle down? An analytic utilisation estimate per level, before running.

A fluid (mean-flow) model of the hierarchy. Cases arrive at the bottom units in proportion
to households, split by the severity mix. At every unit the offered load is

    sum over severities of (cases an hour) x (mean handling hours, or mean triage hours for
    severities above the level's ceiling),

and the capacity is the staff on duty averaged over the roster week (after availability).
A handler whose shift ends finishes the case in hand, so part of the work of a long case falls
outside on-duty hours (overtime): the share of each handling time that falls on duty is
computed from the roster, for a start at a random on-duty moment, and utilisation = on-duty
work / capacity, the engine's ``utilisation.<role>``. A queue can only settle down when it is
below 1 (handlers free at some on-duty hours to start the next case).
Cases a level handles but does not settle (1 - settle probability), and all cases above its
ceiling, go up to the parent unit. When a unit is overloaded it can only pass on what it
serves (the rest piles up), unless it has a deadline: then the excess is escalated by the
deadline instead, so the load moves up the hierarchy. A level is "unstable" when its
worst unit (or its shared queue) has utilisation >= 1 and no deadline to drain it.

The estimate counts volunteers with the level's staff and adds the roles' other duties to the
offered load (utilisation covers both kinds of work, as in the engine); channels, meetings, pools and partners
change the flows (see :func:`estimate`), though their own load is not estimated, nor the work a
deadline cuts short, so treat it as a warning, not a verdict; the engine's ``max_open_cases``
limit and ``backlog_growing`` flag catch what it misses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from typing import TYPE_CHECKING

from .hierarchy import Hierarchy, build_hierarchy
from .scenario.schema import Scenario

if TYPE_CHECKING:  # pragma: no cover
    from .rosters import WeeklyProfile

HOURS_PER_YEAR = 365.0 * 24.0
HOURS_PER_WEEK = 168.0


@dataclass(frozen=True)
class LevelLoad:
    """The estimate for one level: arrivals, offered load, staff and utilisation."""

    level: str
    arrivals_per_hour: float  # cases reaching the level
    offered: float  # staff-hours of work arriving per hour (erlangs), overtime included
    capacity: float  # staff on duty, averaged over the week, whole level
    utilisation: float  # offered / capacity, whole level (inf without staff)
    worst_utilisation: float  # of the busiest unit (or of the shared queue)
    worst_unit: int  # index of that unit
    deadline_days: float | None
    offered_on_duty: float = float("nan")  # the part of ``offered`` that falls in on-duty hours
    worst_work_ratio: float = float("nan")  # all work (overtime included) over on-duty staff, busiest unit

    @property
    def unstable(self) -> bool:
        """Utilisation >= 1 somewhere and no deadline to send the excess up."""
        return self.worst_utilisation >= 1.0 and self.deadline_days is None

    @property
    def overloaded(self) -> bool:
        return self.worst_utilisation >= 1.0

    @property
    def needs_overtime(self) -> bool:
        """More work arrives than the on-duty hours hold: the queue keeps up only through overtime."""
        return self.worst_work_ratio >= 1.0


SLOT_HOURS = 0.25  # the roster grid of the on-duty share
QUANTILES = 40  # handling times per distribution


def level_profile(scenario: Scenario, level: str) -> "WeeklyProfile":
    """On-duty head-count of one unit of a level: its role and the volunteers joining it."""
    from .rosters import add_profiles, weekly_profile

    lv = scenario.levels[level]
    profiles = [weekly_profile(scenario.roles[r]) for r in (lv.role, *lv.volunteers)]
    return add_profiles(*profiles) if len(profiles) > 1 else profiles[0]


def on_duty_share(profile: "WeeklyProfile", hours: np.ndarray) -> np.ndarray:
    """Expected share of each handling time (hours) that falls in on-duty hours.

    Cases arrive evenly over the week; one arriving off duty starts when staff next come on
    (as at low load, when nobody queues). A handler counts as on duty at a later moment in
    proportion to the staff on duty then, relative to when the case started (at most 1).
    """
    hours = np.asarray(hours, dtype=float)
    if profile.constant:
        return np.ones_like(hours)
    n = int(round(HOURS_PER_WEEK / SLOT_HOURS))
    counts = np.array([profile.count_at(i * SLOT_HOURS + 1e-9) for i in range(n)], dtype=float)
    on = np.flatnonzero(counts > 0)
    if not len(on):
        return np.zeros_like(hours)
    ext = np.concatenate((on, on + n))
    starts = ext[np.searchsorted(ext, np.arange(n))]  # each slot's arrivals start at the next on-duty slot
    weeks = int(np.ceil(hours.max(initial=0.0) / HOURS_PER_WEEK)) + 3
    total = np.zeros_like(hours)
    start_counts = counts[starts % n]
    for c in np.unique(start_counts):
        cum = np.concatenate(([0.0], np.cumsum(np.tile(np.minimum(1.0, counts / c), weeks)))) * SLOT_HOURS
        idx = starts[start_counts == c]
        for j, d in enumerate(hours):
            if d <= 0.0:
                total[j] += len(idx)
                continue
            k = d / SLOT_HOURS
            k0 = int(np.floor(k))
            end = cum[idx + k0] + (k - k0) * (cum[idx + k0 + 1] - cum[idx + k0])
            total[j] += float((end - cum[idx]).sum()) / d
    return total / n


def _on_duty_work(dist: object, hpu: float, profile: "WeeklyProfile") -> float:
    """Expected on-duty hours of one handling time drawn from ``dist`` (in ``hpu`` hours a unit)."""
    u = (np.arange(QUANTILES) + 0.5) / QUANTILES
    d = quantiles(dist, u, hpu)
    return float(np.mean(d * on_duty_share(profile, d)))


GAMMA_SHAPE_MAX = 1e4  # larger shapes (tiny spreads) take SciPy's quantiles: the series below would be long


def quantiles(dist: object, u: np.ndarray, hpu: float) -> np.ndarray:
    """The distribution's quantiles at ``u`` (in ``hpu`` hours a unit), without importing SciPy
    for the lognormal and gamma (SciPy's import cost more than the rest of ``sim validate``):
    the normal quantile from :class:`statistics.NormalDist` and the gamma quantile by Newton's
    method on the regularised incomplete gamma function; both agree with SciPy to about 1e-12."""
    name = getattr(dist, "dist", None)
    if name == "lognormal":
        from statistics import NormalDist

        mean, sd = dist.mean, dist.sd  # type: ignore[attr-defined]
        s2 = math.log1p((sd / mean) ** 2)
        mu = math.log(mean) - s2 / 2.0
        z = np.array([NormalDist().inv_cdf(float(x)) for x in u])
        return np.exp(mu + math.sqrt(s2) * z) * hpu
    if name == "gamma":
        mean, sd = dist.mean, dist.sd  # type: ignore[attr-defined]
        shape = (mean / sd) ** 2
        if shape <= GAMMA_SHAPE_MAX:
            return np.array([gamma_quantile(shape, float(x)) for x in u]) * (sd**2 / mean) * hpu
    return dist.inverse_cdf(u, hpu)  # type: ignore[attr-defined]


def _gamma_p(a: float, x: float) -> float:
    """The regularised lower incomplete gamma function P(a, x) (series below a + 1, else a
    continued fraction for its complement; Numerical Recipes, 6.2)."""
    if x <= 0.0:
        return 0.0
    front = math.exp(a * math.log(x) - x - math.lgamma(a))
    if x < a + 1.0:
        term = total = 1.0 / a
        n = a
        while abs(term) > abs(total) * 1e-17:
            n += 1.0
            term *= x / n
            total += term
        return total * front
    tiny = 1e-300
    b = x + 1.0 - a
    c, d = 1.0 / tiny, 1.0 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        h *= d * c
        if abs(d * c - 1.0) < 1e-16:
            break
    return 1.0 - front * h


def gamma_quantile(a: float, p: float) -> float:
    """The p-quantile of the gamma distribution of shape ``a`` and scale 1: Newton's method in
    log x, kept inside a bracket that bisection narrows (0 when it underflows)."""
    if p <= 0.0:
        return 0.0
    t = (math.log(p) + math.lgamma(a + 1.0)) / a if a < 1.0 else math.log(a)  # the small-x limit, or the mean
    if t < -745.0:  # P(a, x) ~ x^a / gamma(a + 1) for such x: below the smallest double
        return 0.0
    lo, hi = t - 1.0, t + 1.0
    while _gamma_p(a, math.exp(lo)) > p:
        if lo < -745.0:
            return 0.0
        lo -= 2.0 * (hi - lo)
    while _gamma_p(a, math.exp(hi)) < p:
        hi = min(hi + 2.0 * (hi - lo), 709.0)
    t = min(max(t, lo), hi)
    for _ in range(200):
        x = math.exp(t)
        f = _gamma_p(a, x) - p
        if f > 0.0:
            hi = t
        else:
            lo = t
        slope = math.exp(a * t - x - math.lgamma(a))  # dP / d(log x)
        nxt = t - f / slope if slope > 0.0 else 0.5 * (lo + hi)
        if not lo < nxt < hi:
            nxt = 0.5 * (lo + hi)
        if abs(nxt - t) <= 1e-15 * max(1.0, abs(t)):
            return math.exp(nxt)
        t = nxt
    return math.exp(t)


def mean_on_duty(scenario: Scenario, level: str) -> float:
    """Staff of one unit of a level on duty, averaged over the roster week (after availability)."""
    from .rosters import weekly_profile

    lv = scenario.levels[level]
    roles = [lv.role, *getattr(lv, "volunteers", [])]  # volunteers join the level's handlers
    return sum(weekly_profile(scenario.roles[r]).on_duty_hours(0.0, HOURS_PER_WEEK) for r in roles) / HOURS_PER_WEEK


def _mask(names: list[str] | None, universe: list[str]) -> np.ndarray:
    return np.array([names is None or x in names for x in universe], dtype=float)


def _takes(spec: object, sevs: list[str], cats: list[str]) -> np.ndarray:
    """Share of the cases of each (severity, category) a channel, meeting, pool or partner takes."""
    return getattr(spec, "share", 1.0) * _mask(spec.severities, sevs)[:, None] * _mask(spec.categories, cats)[None, :]  # type: ignore[attr-defined]


def _settles(spec: object, sevs: list[str]) -> np.ndarray:
    from .mechanisms.base import per_severity

    return np.array(per_severity(spec.settle, sevs))[:, None]  # type: ignore[attr-defined]


def estimate(scenario: Scenario, hierarchy: Hierarchy | None = None) -> list[LevelLoad]:
    """Utilisation estimate of every level, bottom first (see the module docstring).

    Channels move their share of cases to the level they enter at; a pool or partner taking a
    level's cases instead of its staff takes their load away (what it does not settle goes up);
    meetings and desks after a level settle part of what the level passes up. The load of the
    meetings, pools and partners themselves is not estimated.
    """
    h = hierarchy or build_hierarchy(scenario)
    sevs, cats = list(scenario.severities), list(scenario.categories)
    names = list(scenario.levels)
    mix = np.array([scenario.arrivals.severity_mix.get(s, 0.0) for s in sevs])
    cmix = np.array([scenario.arrivals.category_mix.get(c, 0.0) for c in cats])
    rate = scenario.arrivals.rate_per_household_year * scenario.households / HOURS_PER_YEAR
    share = h.households / h.households.sum()
    flow = rate * share[:, None, None] * mix[None, :, None] * cmix[None, None, :]  # (unit, severity, category)
    inject: dict[int, np.ndarray] = {}
    remaining = np.ones((len(sevs), len(cats)))
    for ch in scenario.channels.values():  # a case takes the first channel that draws it
        frac = remaining * _takes(ch, sevs, cats)
        remaining = remaining - frac
        li = names.index(ch.enters_at)
        add = np.zeros((h.counts[li], len(sevs), len(cats)))
        np.add.at(add, h.ancestors[li], flow * frac[None])
        inject[li] = inject.get(li, 0.0) + add
    flow = flow * remaining[None]
    desks = [*scenario.pools.values(), *scenario.partners.values()]
    hpu = scenario.hours_per_unit
    out: list[LevelLoad] = []
    for li, (name, lv) in enumerate(scenario.levels.items()):
        if li in inject:
            flow = flow + inject[li]
        diverted_up = np.zeros_like(flow)
        left = np.ones((len(sevs), len(cats)))
        for d in desks:
            if d.level == name and d.mode == "instead":
                took = left * _takes(d, sevs, cats)
                left = left - took
                diverted_up = diverted_up + flow * (took * (1.0 - _settles(d, sevs)))[None]
        flow = flow * left[None]
        ceiling = sevs.index(lv.ceiling) if lv.ceiling in sevs else len(sevs) - 1
        above = np.arange(len(sevs)) > ceiling
        work = np.array([lv.triage.expected() * hpu if (a and lv.triage is not None) else
                         (0.0 if a else scenario.handling_dist(name, s).expected() * hpu) for s, a in zip(sevs, above)])
        passes = np.where(above, 1.0, 1.0 - np.array([scenario.settle_prob(name, s) for s in sevs]))
        after = np.ones((len(sevs), len(cats)))  # share of the passed-up cases no meeting or desk after it settles
        for m in [*scenario.meetings.values(), *(d for d in desks if d.mode == "after")]:
            if m.level == name:
                after = after * (1.0 - _takes(m, sevs, cats) * _settles(m, sevs))
        per_unit_staff = mean_on_duty(scenario, name)
        profile = level_profile(scenario, name)
        if profile.constant:
            work_on = work
        else:
            work_on = np.array([_on_duty_work(lv.triage, hpu, profile) if (a and lv.triage is not None) else
                                (0.0 if a else _on_duty_work(scenario.handling_dist(name, s), hpu, profile))
                                for s, a in zip(sevs, above)])
        by_sev = flow.sum(axis=2)
        total_u = by_sev @ work + _other_duties_load(scenario, lv.role)  # per unit, overtime included
        offered_u = by_sev @ work_on + _other_duties_load(scenario, lv.role)  # per unit, on duty
        if lv.queue == "shared":
            cap_u = np.full(len(offered_u), per_unit_staff * len(offered_u))
            rho_u = np.full(len(offered_u), _ratio(offered_u.sum(), cap_u[0]))
            work_u = np.full(len(offered_u), _ratio(total_u.sum(), cap_u[0]))
        else:
            cap_u = np.full(len(offered_u), per_unit_staff)
            rho_u = np.array([_ratio(o, c) for o, c in zip(offered_u, cap_u)])
            work_u = np.array([_ratio(o, c) for o, c in zip(total_u, cap_u)])
        offered_on, capacity = float(offered_u.sum()), per_unit_staff * len(offered_u)
        worst = int(np.argmax(rho_u)) if len(rho_u) else 0
        out.append(LevelLoad(name, float(flow.sum()), float(total_u.sum()), capacity,
                             _ratio(offered_on, capacity), float(rho_u[worst]) if len(rho_u) else 0.0, worst,
                             lv.deadline_days, offered_on, float(work_u.max()) if len(work_u) else 0.0))
        if li + 1 < len(scenario.levels):
            served = np.minimum(1.0, 1.0 / np.maximum(rho_u, 1e-300))  # share of arrivals a unit gets through
            sent = flow * served[:, None, None] * (passes[:, None] * after)[None] + diverted_up
            if lv.deadline_days is not None:  # the unserved share is escalated by the deadline
                sent = sent + flow * (1.0 - served)[:, None, None]
            parents = h.parents[li]
            flow = np.zeros((h.counts[li + 1], len(sevs), len(cats)))
            np.add.at(flow, parents, sent)
    return out


def _other_duties_load(scenario: Scenario, role: str) -> float:
    """Staff-hours an hour of a unit's other duties (tasks a member a week x members x hours a
    task, over the week's hours); counted on duty: tasks arrive on duty and stop when
    nobody is on duty. Weekday and hour factors only move tasks within the week (each member
    keeps ``tasks_per_person_week``), so the weekly average is the same; the rule (who goes
    first) does not change the load either."""
    spec = scenario.roles[role]
    duties = spec.other_duties
    if duties is None:
        return 0.0
    return duties.tasks_per_person_week * spec.staff_per_unit * duties.duration.expected() / 168.0


def _ratio(offered: float, capacity: float) -> float:
    if offered <= 0.0:
        return 0.0
    return offered / capacity if capacity > 0.0 else float("inf")


def warnings(loads: list[LevelLoad]) -> list[str]:
    """One line per unstable or overloaded level, for the CLI to print before running."""
    lines = []
    for ld in loads:
        if not ld.overloaded:
            if ld.needs_overtime:
                lines.append(f"near capacity: at level {ld.level} the work arriving ({ld.offered:.3g} staff-hours an "
                             f"hour, busiest unit {ld.worst_work_ratio:.2f} times its on-duty hours) exceeds the "
                             f"{ld.capacity:.3g} staff on duty on average; the queue keeps up only while staff work "
                             f"past their shifts (see overtime_hours and backlog_growing)")
            continue
        where = "" if ld.worst_utilisation == ld.utilisation else f" (busiest unit #{ld.worst_unit}: {ld.worst_utilisation:.3g})"
        detail = (f"estimated utilisation {ld.utilisation:.3g}{where}: {ld.offered_on_duty:.3g} staff-hours of "
                  f"on-duty work an hour for {ld.capacity:.3g} staff on duty on average")
        if ld.unstable:
            lines.append(f"unstable: arrival rate exceeds capacity at level {ld.level} ({detail}); "
                         f"its queue grows (backlog_growing), or the run stops at max_open_cases")
        else:
            lines.append(f"overloaded: arrival rate exceeds capacity at level {ld.level} ({detail}); "
                         f"its deadline of {ld.deadline_days:g} days sends the excess up")
    return lines
