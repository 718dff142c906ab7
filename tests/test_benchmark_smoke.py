"""Checks behind the benchmarks (no timings): the yardstick models agree with the engine, and
the engine's event-saving shortcuts change no result.

* The plain-SimPy ladder of ``benchmarks/plain_simpy_ladder.py`` and ``sim`` on
  ``tests/scenarios/ladder.yaml`` are the same network, so their mean times in system must
  agree within a confidence interval of the difference.
* ``sim.engine.simpy_patches`` skips Release events nobody waits for, grants a free handler
  without a Request event, replaces off-duty blocker requests with :class:`RosteredResource`
  (whose units share a wake-up at each rise in head-count), wakes the cases waiting for an
  office to open with one event, and runs cases as ``CaseProcess`` (no start and end events);
  run with SimPy's stock resources, blockers, timeouts and processes instead, Fangxing and
  the ladder must give identical numbers, with fewer events.
* ``WeeklyProfile.on_duty_hours`` sums its terms vectorised; it must equal the plain loop.
"""

from __future__ import annotations

import math
import random
import sys
from pathlib import Path

import numpy as np
import pytest
import simpy
from scipy import stats

from conftest import run_counting_events
from sim.engine import model as model_mod
from sim.engine import simpy_patches
from sim.engine.model import Model, single_run
from sim.rosters import HOURS_PER_WEEK, WeeklyProfile, _exact_whole_weeks, weekly_profile
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from plain_simpy_ladder import run_simpy  # noqa: E402

from sim.metrics import OffDutyWork  # noqa: E402

LADDER = ROOT / "tests" / "scenarios" / "ladder.yaml"
FANGXING = ROOT / "scenarios" / "fangxing.yaml"


def test_plain_simpy_and_sim_agree_on_the_ladder() -> None:
    """Mean hours in system: sim and plain SimPy, 4 replications each, 99% CI of the difference."""
    hours, warm, reps = 15_000.0, 240.0, 4
    sc = load_scenario(LADDER, {"warmup_days": warm / 24.0})
    sim_means = [single_run(sc, 11, r, horizon_days=hours / 24.0).metrics["days_to_settle.mean"] * 24.0 for r in range(reps)]
    plain_means = [run_simpy(hours, seed=100 + r, warmup_hours=warm).mean_hours for r in range(reps)]
    a, b = np.array(sim_means), np.array(plain_means)
    se = math.sqrt(a.var(ddof=1) / reps + b.var(ddof=1) / reps)
    half = stats.t.ppf(0.995, 2 * reps - 2) * se
    assert abs(a.mean() - b.mean()) <= half, (sim_means, plain_means, half)
    assert half < 0.1 * b.mean()  # the check has teeth: the interval is narrower than 10% of the mean


def _stock_resources(env: simpy.Environment, n: int, profile: WeeklyProfile, warmup: float = 0.0) -> list[simpy.Resource]:
    """SimPy's own resources: every release is an event; partial rosters use blocker requests.
    Each carries the same overtime tracker as the engine's (the case process reports to it)."""
    cap = max(profile.peak, 1)
    if profile.constant or profile.on_off:
        resources = [simpy.Resource(env, capacity=cap) for _ in range(n)]
    else:
        resources = [simpy.PriorityResource(env, capacity=cap) for _ in range(n)]
        env.process(_blocker_roster(env, resources, profile))
    for r in resources:
        r.off_duty = None if profile.constant else OffDutyWork(profile, warmup)
        r.claim = r.request  # the case process's grant: here always a Request event
    return resources


def _blocker_roster(env: simpy.Environment, resources: list[simpy.PriorityResource], profile: WeeklyProfile):
    """The textbook roster: (peak - on duty) places of every resource held by high-priority
    "off duty" requests, at every change of the head-count; never pre-empts work in hand."""
    peak = max(profile.peak, 1)
    held: list[list[simpy.resources.resource.Request]] = [[] for _ in resources]
    t = 0.0
    while True:
        if t > env.now:
            yield env.timeout(t - env.now)
        need = peak - profile.count_at(t)
        for res, reqs in zip(resources, held):
            while len(reqs) < need:
                reqs.append(res.request(priority=-1))
            while len(reqs) > need:
                pending = [r for r in reqs if not r.triggered]
                req = pending[-1] if pending else reqs[-1]
                reqs.remove(req)
                if req.triggered:
                    res.release(req)
                else:
                    req.cancel()
        t = profile.next_change(t)


def _with_timeouts(env: simpy.Environment, gen):
    """The generator as a stock SimPy process can run it: each delay it yields as a number
    (which ``CaseProcess`` schedules without a ``Timeout`` object) becomes ``env.timeout``."""
    value, error = None, None
    while True:
        try:
            event = gen.send(value) if error is None else gen.throw(error)
        except StopIteration as stop:
            return stop.value
        value, error = None, None
        try:
            value = yield env.timeout(event) if isinstance(event, float) else event
        except BaseException as exc:  # a failed event: the case's generator sees it, as under CaseProcess
            error = exc


def _run_counting(scenario, days: float):
    return run_counting_events(Model(scenario, 5, 1, horizon_days=days, record_cases=True))


@pytest.mark.parametrize("path", [FANGXING, LADDER])
def test_lean_resources_change_no_result(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Same seed, same numbers with or without the event-saving resources and processes."""
    # Fixed triage times send cases waiting for the same opening hour on to the next level at one
    # instant, a tie the two event orders break differently (both first come, first served; with
    # Fangxing's 86 grids it happens within days). Exponential triage with the same means keeps
    # every mechanism of the model and leaves no such ties.
    changes = {} if path != FANGXING else {f"levels.{lv}.triage": {"dist": "exponential", "mean": mean}
                                           for lv, mean in (("building", 0.25), ("grid", 0.5), ("community", 1.0))}
    sc = load_scenario(path, changes)
    days = 100.0 if path == FANGXING else 40.0
    lean, lean_events = _run_counting(sc, days)
    monkeypatch.setattr(model_mod, "make_resources", _stock_resources)
    monkeypatch.setattr(model_mod, "CaseProcess", lambda env, gen: env.process(_with_timeouts(env, gen)))
    monkeypatch.setattr(simpy_patches.OpeningBell, "at", lambda self, delay: delay)  # a timeout per case
    stock, stock_events = _run_counting(sc, days)
    assert lean.metrics.keys() == stock.metrics.keys()
    for k, v in stock.metrics.items():
        # sums over cases granted at one instant (an office opening) may add in another order: last-digit
        # differences only; every case row below is identical
        assert lean.metrics[k] == pytest.approx(v, rel=1e-12, nan_ok=True), k
    assert lean.backlog == stock.backlog
    # repr: open cases carry NaN, and nan != nan; sorted: cases a meeting settles at one sitting
    # close at the same instant, in an order the two event orders may break differently
    assert sorted(map(repr, lean.cases)) == sorted(map(repr, stock.cases))
    assert sorted(map(repr, lean.visits)) == sorted(map(repr, stock.visits))
    assert lean.metrics["cases_arrived"] > 100
    assert lean_events < 0.8 * stock_events


def _loop_on_duty_hours(profile: WeeklyProfile, start: float, end: float) -> float:
    """The reference definition: a loop over weeks and steps."""
    if end <= start:
        return 0.0
    total = 0.0
    bounds = [s for s, _ in profile.steps] + [HOURS_PER_WEEK]
    for w in range(math.floor(start / HOURS_PER_WEEK), math.floor(end / HOURS_PER_WEEK) + 1):
        base = w * HOURS_PER_WEEK
        for (s, c), e in zip(profile.steps, bounds[1:]):
            a, b = max(start, base + s), min(end, base + e)
            if b > a:
                total += c * (b - a)
    return total


def test_on_duty_hours_equals_the_loop_exactly() -> None:
    sc = load_scenario(FANGXING)
    profiles = [weekly_profile(r) for r in sc.roles.values()] + [WeeklyProfile(((0.0, 3), (10.5, 0), (20.0, 1)))]
    rng = random.Random(3)
    for _ in range(60):  # random rosters too: steps a quarter-hour apart or a hair after, some nobody on duty
        cuts = sorted(rng.sample(range(1, 4 * 168), rng.randint(0, 9)))
        profiles.append(WeeklyProfile(((0.0, rng.randint(0, 4)),) + tuple(
            (c / 4 + rng.choice([0.0, 1e-9, 0.2]), rng.randint(0, 4)) for c in cuts)))
    for p in profiles:
        for _ in range(40):
            start = rng.choice([0.0, 168.0, rng.uniform(0, 5000)])
            end = start + rng.choice([0.0, 30.0, 168.0, 336.0 - start % 168.0, rng.uniform(0, 400_000)])
            assert p.on_duty_hours(start, end) == _loop_on_duty_hours(p, start, end)


def test_whole_weeks_of_a_usual_roster_are_summed_exactly_in_a_few_steps() -> None:
    """The shortcut of ``on_duty_hours`` takes quarter-hour rosters over 300 years (its use in
    the 1,000-household run) and refuses sums that would round: then the loop's order counts."""
    quarter = WeeklyProfile(((0.0, 0), (8.25, 3), (17.5, 1), (21.0, 0)))
    on = [(8.25, 17.5, 3.0), (17.5, 21.0, 1.0)]
    weeks = int(300 * 365 * 24 / HOURS_PER_WEEK)
    assert _exact_whole_weeks(0.0, on, -1, weeks) == (weeks * (9.25 * 3 + 3.5)) == quarter.on_duty_hours(0.0, weeks * HOURS_PER_WEEK)
    assert _exact_whole_weeks(0.1, on, -1, weeks) is None  # 0.1 carries bits that the sum would round away
    assert _exact_whole_weeks(0.0, [(8.0 + 1e-9, 17.0, 3.0)], -1, weeks) is None
