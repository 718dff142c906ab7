"""The analytic utilisation check (sim.stability) against hand calculations and the engine, and
the 'unstable' limit: warned before the run, reported clearly after it."""

from __future__ import annotations

import copy

import pytest

from conftest import TEST_SCENARIOS, tiny
from sim.cli import main
from sim.engine.model import single_run
from sim.experiments.replicate import run
from sim.scenario import load_scenario, validate_data
from sim.stability import estimate, mean_on_duty, warnings

LADDER = TEST_SCENARIOS / "ladder.yaml"


def by_level(sc):
    return {ld.level: ld for ld in estimate(sc)}


def test_ladder_utilisation_by_hand():
    """lambda = 1.2/h; building c=2 mean 1 settle 0.7; grid c=2 mean 2 settle 0.6; community c=1 mean 4."""
    loads = by_level(load_scenario(LADDER))
    lam = 8760 * 1.2 / 8760
    assert loads["building"].utilisation == pytest.approx(lam * 1.0 / 2)
    assert loads["grid"].arrivals_per_hour == pytest.approx(lam * 0.3)
    assert loads["grid"].utilisation == pytest.approx(lam * 0.3 * 2.0 / 2)
    assert loads["community"].utilisation == pytest.approx(lam * 0.3 * 0.4 * 4.0 / 1)
    assert not any(ld.overloaded for ld in loads.values()) and warnings(list(loads.values())) == []


def test_rosters_availability_ceilings_and_triage_by_hand():
    """Office hours (40 of 168 h) and availability set the capacity; cases above a ceiling
    bring only their triage time and all go up."""
    d = tiny(households=438)  # rate 8.76 -> 0.438 cases an hour
    d["arrivals"]["severity_mix"] = {"micro": 0.5, "small": 0.5, "big": 0.0, "major": 0.0}
    d["roles"]["head"] = {"staff_per_unit": 3, "roster": "office", "availability": 0.7}  # 2.1 on duty
    b = d["levels"]["building"]
    b.update(units=2, settle=0.6, ceiling="micro", triage={"dist": "fixed", "value": 0.5})
    sc = validate_data(d)
    lam = 0.438
    assert mean_on_duty(sc, "building") == pytest.approx(2.1 * 40 / 168)
    building = by_level(sc)["building"]
    offered = lam * 0.5 * 2.0 + lam * 0.5 * 0.5  # micro handled (fixed 2 h), small only triaged (0.5 h)
    assert building.offered == pytest.approx(offered)
    assert building.capacity == pytest.approx(2 * 2.1 * 40 / 168)
    # the part of a case after closing time is overtime: on-duty utilisation a little below offered / capacity
    full = offered / (2 * 2.1 * 40 / 168)
    assert 0.8 * full < building.utilisation < full and building.utilisation < 1
    community = by_level(sc)["community"]
    assert community.arrivals_per_hour == pytest.approx(lam * 0.5 * 0.4 + lam * 0.5)


def test_uneven_explicit_parents_make_one_unit_the_busiest():
    """Four buildings, three under grid 0 and one under grid 1: grid 0 carries 3/4 of the load."""
    d = tiny(households=400)
    base = copy.deepcopy(d["levels"]["building"])
    d["levels"] = {
        "building": {**base, "units": None, "parents": [0, 0, 0, 1], "settle": 0.0},
        "grid": {**base, "units": 2, "role": "mediator"},
        "community": copy.deepcopy(d["levels"]["community"]),
    }
    d["levels"]["building"].pop("units")
    d["roles"]["mediator"]["staff_per_unit"] = 1
    grid = by_level(validate_data(d))["grid"]
    lam = 0.4  # 400 households x 8.76 a year
    assert grid.worst_unit == 0
    assert grid.worst_utilisation == pytest.approx(0.75 * lam * 2.0 / 1)
    assert grid.utilisation == pytest.approx(lam * 2.0 / 2)


def test_deadline_sends_the_excess_up_instead_of_piling_it():
    """An overloaded building with a deadline is 'overloaded', not 'unstable', and the part it
    cannot serve (1 - 1/rho) goes up on top of the unsettled share."""
    sc = load_scenario(LADDER, ["arrivals.rate_per_household_year=2.5", "levels.building.deadline_days=1"])
    loads = by_level(sc)
    rho = 2.5 * 1.0 / 2
    assert loads["building"].utilisation == pytest.approx(rho)
    assert loads["building"].overloaded and not loads["building"].unstable
    served = 1 / rho
    assert loads["grid"].arrivals_per_hour == pytest.approx(2.5 * (served * 0.3 + (1 - served)))
    assert warnings(list(loads.values()))[0].startswith("overloaded: arrival rate exceeds capacity at level building")


def test_estimate_agrees_with_the_simulated_utilisation():
    """Ladder, 4 replications of 60 days: each role's simulated utilisation 95% CI holds the estimate
    (widened by 0.02 for the start-up bias that the 10-day warm-up does not quite remove)."""
    sc = load_scenario(LADDER)
    res = run(sc, 4, 11, horizon_days=60)
    for ld in estimate(sc):
        role = sc.levels[ld.level].role
        m = res.metric(f"utilisation.{role}")
        assert m["ci_low"] - 0.02 <= ld.utilisation <= m["ci_high"] + 0.02, (ld.level, ld.utilisation, m)


def test_predicted_unstable_level_is_where_the_engine_stops():
    sc = load_scenario(LADDER, ["arrivals.rate_per_household_year=2.5", "max_open_cases=300"])
    unstable = [ld.level for ld in estimate(sc) if ld.unstable]
    assert unstable == ["building"]
    rec = single_run(sc, seed=5, rep=0, horizon_days=120)
    assert rec.metrics["unstable"] == 1.0 and rec.unstable_level == "building"
    assert len(rec.backlog) - 1 < 120  # stopped early


def test_cli_warns_before_and_reports_after(capsys):
    code = main(["run", str(LADDER), "--set", "arrivals.rate_per_household_year=2.5", "--max-open-cases", "300",
                 "--reps", "2", "--horizon-days", "120", "--quiet", "--json"])
    assert code == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0] == (f"{LADDER}: warning: unstable: arrival rate exceeds capacity at level building (estimated "
                      "utilisation 1.25: 2.5 staff-hours of on-duty work an hour for 2 staff on duty on average); its "
                      "queue grows (backlog_growing), or the run stops at max_open_cases")
    assert err[1].startswith("sim: ladder: unstable: arrival rate exceeds capacity at level building: 2 of 2 replications stopped at ")
    assert err[1].endswith("when 300 cases were open (max_open_cases); their figures cover only the time before")


def test_stable_run_has_no_warning(capsys):
    assert main(["run", str(LADDER), "--reps", "2", "--horizon-days", "15", "--quiet", "--json"]) == 0
    assert capsys.readouterr().err == ""


# --------------------------------------------------------------------------- quantiles without SciPy
@pytest.mark.parametrize("shape", [1e-3, 0.01, 0.3, 1.0, 2.5, 10.0, 1000.0])
def test_gamma_quantiles_agree_with_scipy(shape: float):
    import numpy as np
    from scipy import special

    from sim.stability import gamma_quantile

    u = (np.arange(40) + 0.5) / 40
    ours, ref = np.array([gamma_quantile(shape, float(p)) for p in u]), special.gammaincinv(shape, u)
    shown = ref > 1e-290  # smaller quantiles underflow to 0 here; they add nothing to on-duty work
    assert np.allclose(ours[shown], ref[shown], rtol=1e-10, atol=0.0)
    assert (ours[~shown] < 1e-290).all()


@pytest.mark.parametrize("spec", [{"dist": "lognormal", "mean": 4.0, "sd": 2.0}, {"dist": "lognormal", "mean": 1.0, "sd": 30.0},
                                  {"dist": "gamma", "mean": 3.0, "sd": 1.5}, {"dist": "gamma", "mean": 3.0, "sd": 9.0},
                                  {"dist": "gamma", "mean": 5.0, "sd": 0.01}, {"dist": "triangular", "low": 1, "mode": 2, "high": 5}])
def test_estimate_quantiles_agree_with_the_distributions_own(spec: dict):
    import numpy as np
    from pydantic import TypeAdapter

    from sim.scenario.fields import Distribution
    from sim.stability import quantiles

    dist = TypeAdapter(Distribution).validate_python(spec)
    u = (np.arange(40) + 0.5) / 40
    assert np.allclose(quantiles(dist, u, 24.0), dist.inverse_cdf(u, 24.0), rtol=1e-10, atol=1e-300)


def test_validate_does_not_import_scipy():
    import subprocess
    import sys

    from conftest import ROOT

    code = ("import sys; from sim.experiments.inputs import validate; validate('scenarios/fangxing.yaml'); "
            "print(' '.join(m for m in sys.modules if m.split('.')[0] == 'scipy'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.strip() == ""
