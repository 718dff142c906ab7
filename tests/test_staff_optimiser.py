"""The staffing optimiser on M/M/c stations whose answer follows from the Erlang C formula."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from sim.cli import main
from sim.experiments.staff import Target, parse_vary, staff, unit_costs
from sim.scenario import validate_data

LAMBDA = 3.0  # arrivals an hour at the first station
MEAN_SERVICE = 1.0  # hours
TARGET_WAIT = 0.2  # hours of mean wait in queue


def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival waits in an M/M/c queue with offered load a = lambda/mu (closed form)."""
    if c <= a:
        return 1.0
    top = a ** c / math.factorial(c) * c / (c - a)
    return top / (sum(a ** k / math.factorial(k) for k in range(c)) + top)


def mean_wait(c: int, lam: float, mean_service: float) -> float:
    """Erlang C mean wait in queue: C(c, a) / (c mu - lambda)."""
    mu = 1.0 / mean_service
    return math.inf if c * mu <= lam else erlang_c(c, lam / mu) / (c * mu - lam)


def smallest_c(lam: float, mean_service: float, target: float) -> int:
    return next(c for c in range(1, 100) if mean_wait(c, lam, mean_service) <= target)


def station(name: str, role: str, settle: float) -> dict[str, Any]:
    return {"units": 1, "role": role, "handling": {"default": {"dist": "exponential", "mean": MEAN_SERVICE}}, "settle": settle}


def mmc_scenario(two_stations: bool = False) -> dict[str, Any]:
    levels = {"front": station("front", "clerk", 0.5 if two_stations else 1.0)}
    roles = {"clerk": {"staff_per_unit": 1, "cost_per_year": 60000.0}}
    if two_stations:
        levels["back"] = station("back", "officer", 1.0)
        roles["officer"] = {"staff_per_unit": 1, "cost_per_year": 90000.0}
    return {
        "name": "mmc", "time_unit": "hours", "severities": ["micro"], "categories": ["any"],
        "households": int(LAMBDA * 8760), "arrivals": {"rate_per_household_year": 1.0, "severity_mix": {"micro": 1.0},
                                                       "category_mix": {"any": 1.0}},
        "roles": roles, "levels": levels, "horizon_days": 40, "warmup_days": 3, "replications": 5, "seed": 3,
        "sources": {"": {"assumption": "M/M/c test station"}},
    }


def test_single_station_bisection_finds_the_erlang_c_answer(tmp_path: Path) -> None:
    exact = smallest_c(LAMBDA, MEAN_SERVICE, TARGET_WAIT)
    # the design leaves room for simulation noise on both sides of the answer
    assert mean_wait(exact, LAMBDA, MEAN_SERVICE) < 0.75 * TARGET_WAIT < TARGET_WAIT < 0.5 * mean_wait(exact - 1, LAMBDA, MEAN_SERVICE)
    sc = validate_data(mmc_scenario())
    values = list(range(1, 9))
    frontier, chosen = staff(sc, {"roles.clerk.staff_per_unit": values}, [f"wait_hours.front<={TARGET_WAIT}"],
                             reps=5, seed=3, out=tmp_path)
    assert chosen is not None and chosen["roles.clerk.staff_per_unit"] == exact
    assert chosen["cost"] == exact * 60000.0
    assert len(frontier) <= math.ceil(math.log2(len(values))) + 1 < len(values)  # bisection, not every value
    assert list(frontier.columns) == ["roles.clerk.staff_per_unit", "cost", "wait_hours.front.mean",
                                      "wait_hours.front.ci_low", "wait_hours.front.ci_high", "feasible", "reps", "chosen"]
    assert frontier["reps"].max() == 5 and frontier.loc[frontier["chosen"], "reps"].item() == 5
    assert frontier["chosen"].sum() == 1
    row = frontier[frontier["chosen"]].iloc[0]
    assert row["wait_hours.front.ci_low"] <= mean_wait(exact, LAMBDA, MEAN_SERVICE) <= row["wait_hours.front.ci_high"]
    # feasible exactly when the upper confidence bound meets the target
    assert (frontier["feasible"] == (frontier["wait_hours.front.ci_high"] <= TARGET_WAIT)).all()
    saved = json.loads((tmp_path / "chosen.json").read_text())
    assert saved["chosen"]["roles.clerk.staff_per_unit"] == exact and (tmp_path / "frontier.csv").exists()


def within_share(c: int, lam: float, mean_service: float, t: float) -> float:
    """P(time in system <= t) in M/M/c: no wait (1 - C) or an Exp(c mu - lambda) wait, then Exp(mu) service."""
    mu = 1.0 / mean_service
    C, theta = erlang_c(c, lam / mu), c * mu - lam
    if abs(theta - mu) < 1e-12:
        tail = math.exp(-mu * t) * (1 + C * mu * t)
    else:
        tail = (1 - C) * math.exp(-mu * t) + C * (theta * math.exp(-mu * t) - mu * math.exp(-theta * t)) / (theta - mu)
    return 1.0 - tail


def test_share_within_target_days_follows_the_erlang_c_sojourn_time() -> None:
    hours, share = 3.0, 0.9
    exact = next(c for c in range(4, 20) if within_share(c, LAMBDA, MEAN_SERVICE, hours) >= share)
    assert within_share(exact - 1, LAMBDA, MEAN_SERVICE, hours) < share - 0.02 < share + 0.03 < within_share(exact, LAMBDA, MEAN_SERVICE, hours)
    data = mmc_scenario()
    data["target_days"] = hours / 24.0
    frontier, chosen = staff(validate_data(data), {"roles.clerk.staff_per_unit": list(range(4, 9))},
                             [f"within_target_share>={share}"], reps=5, seed=8)
    assert chosen is not None and chosen["roles.clerk.staff_per_unit"] == exact
    row = frontier[frontier["chosen"]].iloc[0]
    assert row["within_target_share.ci_low"] <= within_share(exact, LAMBDA, MEAN_SERVICE, hours) <= row["within_target_share.mean"] + (
        row["within_target_share.mean"] - row["within_target_share.ci_low"])


def test_two_stations_marginal_analysis_finds_both_erlang_c_answers() -> None:
    front_target, back_target = 0.25, 0.3
    exact_front = smallest_c(LAMBDA, MEAN_SERVICE, front_target)
    exact_back = smallest_c(LAMBDA * 0.5, MEAN_SERVICE, back_target)  # Jackson: half the cases go on, as Poisson
    for lam, c, target in ((LAMBDA, exact_front, front_target), (LAMBDA * 0.5, exact_back, back_target)):
        assert mean_wait(c, lam, MEAN_SERVICE) < 0.75 * target < target < 0.5 * mean_wait(c - 1, lam, MEAN_SERVICE)
    sc = validate_data(mmc_scenario(two_stations=True))
    vary = {"roles.clerk.staff_per_unit": list(range(4, 11)), "roles.officer.staff_per_unit": list(range(2, 9))}
    frontier, chosen = staff(sc, vary, [f"wait_hours.front<={front_target}", f"wait_hours.back<={back_target}"],
                             reps=4, seed=5, horizon_days=25, workers=2)
    assert chosen is not None
    assert (chosen["roles.clerk.staff_per_unit"], chosen["roles.officer.staff_per_unit"]) == (exact_front, exact_back)
    assert len(frontier) < 7 * 7 / 4  # marginal analysis explores a fraction of the 49 combinations
    assert chosen["cost"] == exact_front * 60000.0 + exact_back * 90000.0
    cheaper = frontier[frontier["cost"] < chosen["cost"]]
    assert not cheaper["feasible"].any()


def test_targets_costs_and_ranges() -> None:
    t = Target.parse("within_target_share>=0.9")
    assert (t.metric, t.op, t.value) == ("within_target_share", ">=", 0.9)
    assert t.met({"ci_low": 0.91, "ci_high": 0.99}) and not t.met({"ci_low": 0.89, "ci_high": 0.99})  # the lower bound decides
    assert not t.met({"ci_low": float("nan"), "ci_high": float("nan")})
    u = Target.parse("wait_hours.grid <= 2")
    assert u.met({"ci_low": 0.0, "ci_high": 2.0}) and not u.met({"ci_low": 0.0, "ci_high": 2.1})
    assert parse_vary(["a.b=1..4", "c=3,1"]) == {"a.b": [1, 2, 3, 4], "c": [1, 3]}
    data = mmc_scenario(two_stations=True)
    data["levels"]["front"]["units"] = 3
    sc = validate_data(data)
    unit = unit_costs(sc, ["roles.clerk.staff_per_unit", "roles.officer.staff_per_unit"], {"roles.officer.staff_per_unit": 5.0})
    assert unit == {"roles.clerk.staff_per_unit": 3 * 60000.0, "roles.officer.staff_per_unit": 5.0}


def test_staff_command_prints_frontier(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "mmc.yaml"
    path.write_text(json.dumps(mmc_scenario()))  # JSON is YAML
    code = main(["staff", str(path), "--vary", "roles.clerk.staff_per_unit=4..6", "--target", f"wait_hours.front<={TARGET_WAIT}",
                 "--reps", "3", "--horizon-days", "15", "--json", "--quiet"])
    doc = json.loads(capsys.readouterr().out)
    feasible = [r["roles.clerk.staff_per_unit"] for r in doc["frontier"] if r["feasible"]]
    assert code == 0 and doc["chosen"]["roles.clerk.staff_per_unit"] == min(feasible)
    # few short replications give wide intervals: the lower-bound rule may only err towards more staff
    assert doc["chosen"]["roles.clerk.staff_per_unit"] >= smallest_c(LAMBDA, MEAN_SERVICE, TARGET_WAIT)
    assert main(["staff", str(path), "--vary", "roles.clerk.staff_per_unit=4..5", "--target", "no_such_metric>=1",
                 "--reps", "2", "--horizon-days", "5", "--quiet"]) == 2
