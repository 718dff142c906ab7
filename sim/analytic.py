"""Exact steady-state results for scenarios that are open Jackson networks.

A scenario is a Jackson network when cases arrive as a time-homogeneous Poisson stream,
handling times are exponential with one mean per level, handlers are on duty around the
clock, and a case leaving a level is settled with a fixed probability or passed to the
parent unit (no deadlines, no ceilings that force escalation). Every queue is then an
M/M/c station whose arrival rate comes from the traffic equations, and the network has
product form, so the textbook formulas hold exactly. The tests compare the engine with
these figures; ``sim analytic`` prints them beside a simulation of the same file.

Stations: with ``queue: per_unit`` every unit of a level is its own M/M/c station, fed by
the buildings below it in proportion to households; with ``queue: shared`` a level is one
M/M/(c x units) station. Per-level figures are averages over stations weighted by arrivals,
which is what the engine's per-level metrics measure. Rates are per hour, times in hours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .hierarchy import build_hierarchy
from .scenario.loader import Problem, ScenarioError
from .scenario.schema import Exponential, Scenario

HOURS_PER_YEAR = 365.0 * 24.0

# Fields this module understands. Any other field of the schema that is set to a
# non-default value (a feature added later: meetings, pools, partners, channels, ...) is
# something the Jackson formulas do not model, so the scenario is refused.
_SCENARIO_FIELDS = {"name", "title", "description", "time_unit", "severities", "categories", "households",
                    "arrivals", "roles", "levels", "target_days", "horizon_days", "warmup_days", "replications",
                    "seed", "max_open_cases", "sources"}
_ARRIVAL_FIELDS = {"rate_per_household_year", "severity_mix", "category_mix", "weekday_factors", "hour_factors"}
_ROLE_FIELDS = {"staff_per_unit", "roster", "availability", "cost_per_year", "description"}
_LEVEL_FIELDS = {"units", "per_parent", "parents", "units_named", "role", "queue", "handling", "settle", "ceiling", "triage",
                 "deadline_days", "description"}


class NotJacksonError(ScenarioError):
    """The scenario is not a Jackson network (or has no steady state): one Problem per reason."""


def erlang_c(servers: int, offered: float) -> float:
    """Probability that an arrival waits in an M/M/c queue with offered load a = lambda/mu.

    Uses the Erlang-B recursion B(k) = a B(k-1) / (k + a B(k-1)), which never forms a^c or c!
    and so stays accurate for hundreds of servers, then C = B / (1 - rho (1 - B)).
    """
    if offered <= 0.0:
        return 0.0
    rho = offered / servers
    if rho >= 1.0:
        return 1.0
    b = 1.0
    for k in range(1, servers + 1):
        b = offered * b / (k + offered * b)
    return b / (1.0 - rho * (1.0 - b))


@dataclass(frozen=True)
class Station:
    """One M/M/c queue: a unit of a level (or the whole level when its queue is shared)."""

    level: str
    unit: int | None  # None for a shared queue
    servers: int
    arrival_rate: float  # cases per hour
    service_rate: float  # cases per hour per handler

    @property
    def offered(self) -> float:
        return self.arrival_rate / self.service_rate

    @property
    def utilisation(self) -> float:
        return self.offered / self.servers

    @property
    def p_wait(self) -> float:
        return erlang_c(self.servers, self.offered)

    @property
    def mean_wait(self) -> float:
        """Mean hours from joining the queue to a handler taking the case (Erlang C)."""
        if self.arrival_rate == 0.0:
            return 0.0
        return self.p_wait / (self.servers * self.service_rate - self.arrival_rate)

    @property
    def mean_time(self) -> float:
        """Mean hours at the station: wait plus handling."""
        return self.mean_wait + 1.0 / self.service_rate


@dataclass(frozen=True)
class LevelResult:
    """Steady-state figures of one level (arrival-weighted over its stations)."""

    level: str
    role: str
    stations: int
    servers: int  # handlers per station
    arrival_rate: float  # cases per hour into the whole level
    utilisation: float
    p_wait: float
    mean_wait: float  # hours
    mean_time: float  # hours, wait + handling
    settled_share: float  # of all cases arriving in the system


@dataclass
class AnalyticResult:
    """Steady state of a Jackson scenario: per level, and from arrival to leaving the system."""

    scenario: str
    arrival_rate: float  # cases per hour into the system
    levels: list[LevelResult]
    stations: list[Station]
    mean_time_in_system: float  # hours, every case, settled or unresolved
    mean_time_to_settle: float  # hours, settled cases only (the engine's days_to_settle)
    unresolved_share: float
    role_utilisation: dict[str, float] = field(default_factory=dict)

    @property
    def mean_in_system(self) -> float:
        """Mean number of open cases (Little's law)."""
        return self.arrival_rate * self.mean_time_in_system

    def metrics(self) -> dict[str, float]:
        """The theory under the engine's metric names (days where the engine uses days)."""
        out: dict[str, float] = {}
        for lv in self.levels:
            out[f"wait_hours.{lv.level}"] = lv.mean_wait
            out[f"settled_share.{lv.level}"] = lv.settled_share
        for role, u in self.role_utilisation.items():
            out[f"utilisation.{role}"] = u
        out["unresolved_share"] = self.unresolved_share
        out["days_to_settle.mean"] = self.mean_time_to_settle / 24.0
        out["settled_per_day"] = self.arrival_rate * 24.0 * (1.0 - self.unresolved_share)
        return out


def jackson_problems(scenario: Scenario, file: str = "<scenario>") -> list[Problem]:
    """Every reason why the scenario is not a Jackson network (empty list: it is one)."""
    out: list[Problem] = []

    def refuse(path: str, why: str) -> None:
        out.append(Problem(file, path, f"not a Jackson network: {why}"))

    _unknown_fields(scenario, _SCENARIO_FIELDS, "", refuse)
    a = scenario.arrivals
    _unknown_fields(a, _ARRIVAL_FIELDS, "arrivals.", refuse)
    for key in ("weekday_factors", "hour_factors"):
        f = getattr(a, key)
        if f is not None and len(set(f)) > 1:
            refuse(f"arrivals.{key}", "arrival rates vary over the week; the theory needs a constant Poisson rate")
    used_roles = {lv.role for lv in scenario.levels.values()}
    for rname in sorted(used_roles):
        role = scenario.roles[rname]
        _unknown_fields(role, _ROLE_FIELDS, f"roles.{rname}.", refuse)
        if role.roster != "always":
            refuse(f"roles.{rname}.roster", "staff are not on duty around the clock (roster must be 'always')")
        if role.availability < 1.0:
            refuse(f"roles.{rname}.availability", "availability below 1 changes the number of handlers")
        if role.staff_per_unit == 0:
            refuse(f"roles.{rname}.staff_per_unit", "a level with no handlers never serves its queue")
    top = scenario.severities[-1]
    for lname, lv in scenario.levels.items():
        p = f"levels.{lname}"
        _unknown_fields(lv, _LEVEL_FIELDS, f"{p}.", refuse)
        if lv.deadline_days is not None:
            refuse(f"{p}.deadline_days", "deadlines make cases leave a queue after a fixed time")
        if lv.ceiling is not None and lv.ceiling != top:
            refuse(f"{p}.ceiling", "a ceiling below the top severity forces escalation after a triage time")
        dists = [scenario.handling_dist(lname, s) for s in scenario.severities]
        if not all(isinstance(d, Exponential) for d in dists):
            refuse(f"{p}.handling", "handling times must be exponential")
        elif len({d.mean for d in dists}) > 1:
            refuse(f"{p}.handling", "handling means differ by severity (a multi-class queue, not M/M/c)")
    return out


def _unknown_fields(model: Any, known: set[str], prefix: str, refuse) -> None:
    for name, info in type(model).model_fields.items():
        if name in known:
            continue
        value = getattr(model, name)
        default = info.get_default(call_default_factory=True)
        if value != default and value not in (None, [], {}, 0, False, ""):
            refuse(f"{prefix}{name}", f"'{name}' is not modelled by the queueing formulas")


def analyse(scenario: Scenario, file: str = "<scenario>") -> AnalyticResult:
    """Steady-state results of a Jackson scenario; raise NotJacksonError if it is not one or is unstable."""
    problems = jackson_problems(scenario, file)
    if problems:
        raise NotJacksonError(problems)
    h = build_hierarchy(scenario, file)
    names = scenario.level_names
    n_levels = len(names)
    lam = scenario.arrivals.rate_per_household_year * scenario.households / HOURS_PER_YEAR
    lam_b = lam * h.households / h.households.sum()  # per bottom unit
    mix = np.array([scenario.arrivals.severity_mix.get(s, 0.0) for s in scenario.severities])
    settle = np.array([[scenario.settle_prob(n, s) for s in scenario.severities] for n in names])  # level x severity
    reach = np.ones((n_levels, len(mix)))  # probability a case of each severity reaches each level
    for li in range(1, n_levels):
        reach[li] = reach[li - 1] * (1.0 - settle[li - 1])
    reach_share = reach @ mix  # share of all cases that reach each level
    settle_share = (reach * settle) @ mix  # share of all cases settled at each level
    unresolved = float(mix @ (reach[-1] * (1.0 - settle[-1])))

    stations: list[Station] = []
    level_results: list[LevelResult] = []
    time_at = np.zeros((n_levels, h.counts[0]))  # mean hours at the station that serves bottom unit b
    unstable: list[Problem] = []
    for li, (name, lv) in enumerate(scenario.levels.items()):
        mu = 1.0 / (scenario.handling_dist(name, scenario.severities[0]).mean * scenario.hours_per_unit)
        c = scenario.roles[lv.role].staff_per_unit
        units = h.counts[li]
        if lv.queue == "shared":
            groups = np.zeros(h.counts[0], dtype=np.int64)
            station_rates = np.array([lam_b.sum() * reach_share[li]])
            servers, labels = c * units, [None]
        else:
            groups = h.ancestors[li]
            station_rates = np.bincount(groups, weights=lam_b, minlength=units) * reach_share[li]
            servers, labels = c, list(range(units))
        sts = [Station(name, u, servers, float(r), mu) for u, r in zip(labels, station_rates)]
        for st in sts:
            if st.utilisation >= 1.0:
                where = "the shared queue" if st.unit is None else f"unit {st.unit}"
                unstable.append(Problem(file, f"levels.{name}", f"no steady state: utilisation {st.utilisation:.3f} >= 1 at {where} "
                                                                f"(arrivals {st.arrival_rate:.4g}/h, capacity {st.servers * mu:.4g}/h)"))
        if unstable:
            continue  # reported below, with every other unstable station
        stations += sts
        time_at[li] = np.array([st.mean_time for st in sts])[groups]
        total = float(station_rates.sum())
        weights = station_rates / total if total > 0 else np.full(len(sts), 1.0 / len(sts))
        level_results.append(LevelResult(
            level=name, role=lv.role, stations=len(sts), servers=servers, arrival_rate=total,
            utilisation=float(sum(st.offered for st in sts) / (servers * len(sts))),
            p_wait=float(weights @ [st.p_wait for st in sts]),
            mean_wait=float(weights @ [st.mean_wait for st in sts]),
            mean_time=float(weights @ [st.mean_time for st in sts]),
            settled_share=float(settle_share[li]),
        ))
    if unstable:
        raise NotJacksonError(unstable)

    # Time in system: a case from bottom unit b spends mean_time at each station it reaches.
    w_b = h.households / h.households.sum()  # share of cases from each bottom unit
    cum = np.cumsum(time_at, axis=0)  # hours from arrival to leaving level li, per bottom unit
    in_system = float(w_b @ (reach_share @ time_at))
    settled_total = 1.0 - unresolved
    to_settle = float(w_b @ (settle_share @ cum)) / settled_total if settled_total > 0 else math.nan

    busy: dict[str, float] = {}
    cap: dict[str, float] = {}
    for lr in level_results:
        busy[lr.role] = busy.get(lr.role, 0.0) + lr.utilisation * lr.servers * lr.stations
        cap[lr.role] = cap.get(lr.role, 0.0) + lr.servers * lr.stations
    roles = {r: busy[r] / cap[r] for r in busy}
    return AnalyticResult(scenario.name, lam, level_results, stations, in_system, to_settle, unresolved, roles)


def compare_with_simulation(theory: AnalyticResult, summary: Any) -> list[dict[str, Any]]:
    """Theory beside a simulation summary (DataFrame metric, mean, ci_low, ci_high, n), one row per metric.

    ``inside`` says whether the theory lies in the simulation's 95% interval; ``rel_half_width``
    is the interval's half-width over its mean (how tight the check is).
    """
    sim = summary.set_index("metric")
    rows = []
    for metric, value in theory.metrics().items():
        if metric not in sim.index:
            continue
        r = sim.loc[metric]
        mean, lo, hi = float(r["mean"]), float(r["ci_low"]), float(r["ci_high"])
        half = (hi - lo) / 2.0
        rows.append({"metric": metric, "theory": value, "mean": mean, "ci_low": lo, "ci_high": hi, "n": int(r["n"]),
                     "rel_half_width": half / abs(mean) if mean else math.nan,
                     "inside": bool(lo <= value <= hi) if math.isfinite(half) else None})
    return rows
