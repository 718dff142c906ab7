"""Cross-check against Ciw, an established queueing simulation library, on the ladder.

The ladder (tests/scenarios/ladder.yaml) is built a second time as a Ciw network: one node per
level with the level's handlers as servers, exponential handling, Poisson arrivals at the
bottom, and a routing matrix that sends a case up with probability 1 - settle. Both
simulations estimate the mean time from arrival to leaving and each level's utilisation;
the estimates are independent, so they are compared with a Welch confidence interval on their
difference (Bonferroni-widened over the four metrics), which must contain zero. The 95%
interval of the difference must also be narrow (half-width under 6% of the theory), so that a
real disagreement of that size would be caught.
"""

from __future__ import annotations

import math

import ciw
import numpy as np
from scipy import stats

from conftest import TEST_SCENARIOS
from sim.analytic import analyse
from sim.scenario import load_scenario
from sim.scenario.schema import Scenario
from test_analytic import LADDER, replications

CIW_REPS, CIW_YEARS = 5, 3.0
POWER = 0.06  # the 95% interval of the difference must be narrower than this share of the theory


def ciw_network(sc: Scenario) -> ciw.Network:
    """The scenario as a Ciw network: one node per level (single-unit levels only), rates per hour."""
    h = sc.hours_per_unit
    lam = sc.arrivals.rate_per_household_year * sc.households / (365.0 * 24.0)
    names = sc.level_names
    n = len(names)
    routing = [[0.0] * n for _ in range(n)]
    for i in range(n - 1):
        routing[i][i + 1] = 1.0 - sc.settle_prob(names[i], sc.severities[0])
    return ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=lam)] + [None] * (n - 1),
        service_distributions=[ciw.dists.Exponential(rate=1.0 / (sc.handling_dist(nm, sc.severities[0]).mean * h))
                               for nm in names],
        number_of_servers=[sc.roles[sc.levels[nm].role].staff_per_unit for nm in names],
        routing=routing,
    )


def ciw_replication(sc: Scenario, seed: int, horizon_hours: float) -> dict[str, float]:
    """One Ciw run: mean hours in system of cases arriving after warm-up, utilisation per level."""
    ciw.seed(seed)
    q = ciw.Simulation(ciw_network(sc))
    q.simulate_until_max_time(horizon_hours)
    warm = sc.warmup_days * 24.0
    first: dict[int, float] = {}
    leave: dict[int, float] = {}
    busy = np.zeros(len(sc.levels))
    for r in q.get_all_records():
        if r.record_type != "service":
            continue
        first[r.id_number] = min(first.get(r.id_number, math.inf), r.arrival_date)
        if r.destination == -1:  # left the system
            leave[r.id_number] = r.exit_date
        busy[r.node - 1] += max(0.0, min(r.service_end_date, horizon_hours) - max(r.service_start_date, warm))
    times = [leave[i] - first[i] for i in leave if first[i] >= warm]
    out = {"time_in_system": float(np.mean(times))}
    span = horizon_hours - warm
    for li, nm in enumerate(sc.level_names):
        role = sc.levels[nm].role
        out[f"utilisation.{role}"] = busy[li] / (sc.roles[role].staff_per_unit * span)
    return out


def test_ladder_agrees_with_ciw() -> None:
    sc = load_scenario(TEST_SCENARIOS / "ladder.yaml")
    theory = analyse(sc).metrics()
    theory["time_in_system"] = theory["days_to_settle.mean"] * 24.0
    ours = replications(*LADDER)
    ours = {**ours, "time_in_system": ours["days_to_settle.mean"] * 24.0}  # every case settles at the top
    runs = [ciw_replication(sc, 1000 + r, CIW_YEARS * 365.0 * 24.0) for r in range(CIW_REPS)]
    theirs = {k: np.array([r[k] for r in runs]) for k in runs[0]}
    metrics = list(theirs)
    family = 1.0 - 0.05 / len(metrics)
    failures = []
    for m in metrics:
        test = stats.ttest_ind(ours[m], theirs[m], equal_var=False)
        lo, hi = test.confidence_interval(confidence_level=family)
        lo95, hi95 = test.confidence_interval(confidence_level=0.95)
        diff = ours[m].mean() - theirs[m].mean()
        if not lo <= 0.0 <= hi:
            failures.append(f"{m}: sim {ours[m].mean():.4g} vs Ciw {theirs[m].mean():.4g}, difference {diff:.3g} "
                            f"[{lo:.3g}, {hi:.3g}] excludes 0")
        if (hi95 - lo95) / 2.0 > POWER * theory[m]:
            failures.append(f"{m}: interval of the difference ±{(hi95 - lo95) / 2:.3g} too wide to detect a "
                            f"{POWER:.0%} disagreement")
        # Ciw itself must agree with the theory, or the comparison proves nothing.
        mean, half = theirs[m].mean(), stats.t.ppf(0.5 + family / 2, CIW_REPS - 1) * theirs[m].std(ddof=1) / math.sqrt(CIW_REPS)
        if abs(mean - theory[m]) > half:
            failures.append(f"{m}: Ciw {mean:.4g} ± {half:.3g} misses the theory {theory[m]:.4g}")
    assert failures == []
