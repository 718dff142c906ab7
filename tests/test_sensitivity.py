"""Sensitivity analysis (SALib Morris and Sobol) on scenarios whose answer is known.

In the ladder with ``levels.grid.settle = 1`` no case ever reaches the community level, so
the community's handling time cannot influence anything; the building's settle probability
decides the share settled at the building, and the building's handling time decides the wait
there (the settle outcome happens after handling, so it cannot change that wait).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import TEST_SCENARIOS, tiny

from sim.cli import main
from sim.experiments import sensitivity as sa
from sim.scenario import ScenarioError, load_scenario_full

LADDER = str(TEST_SCENARIOS / "ladder.yaml")
INERT = "levels.community.handling.default.mean"
SETTLE = "levels.building.settle"
HANDLING = "levels.building.handling.default.mean"
PARAMS = [f"{INERT}=2..8", f"{SETTLE}=0.3..0.9", f"{HANDLING}=0.5..1.4"]
RUN = {"reps": 2, "seed": 11, "horizon_days": 20}


@pytest.fixture(scope="module")
def ladder():
    loaded = load_scenario_full(LADDER, {"levels.grid.settle": 1.0})
    return loaded, [sa.parse_param(p, loaded.data) for p in PARAMS]


def _rows(result, metric):
    return result.table[result.table["metric"] == metric].set_index("parameter")


def test_morris_finds_the_inert_and_the_dominant_parameter(ladder):
    loaded, factors = ladder
    res = sa.run_sensitivity(loaded.data, factors, ["settled_share.building", "wait_hours.building"], method="morris",
                             samples=8, **RUN)
    assert len(res.X) == 8 * (len(factors) + 1)
    for metric, dominant, zero in (("settled_share.building", SETTLE, [INERT]),
                                   ("wait_hours.building", HANDLING, [INERT, SETTLE])):
        t = _rows(res, metric)
        assert res.ranking(metric)[0] == dominant
        assert t.loc[dominant, "mu_star"] - t.loc[dominant, "mu_star_conf"] > 0  # distinguishable from zero
        for p in zero:
            assert t.loc[p, "mu_star"] <= t.loc[p, "mu_star_conf"] + 1e-12
            assert t.loc[p, "mu_star"] < 0.05 * t.loc[dominant, "mu_star"]
    # the settle probability moves the building's share by about its range (0.6) times the share reaching it (1)
    t = _rows(res, "settled_share.building")
    assert abs(t.loc[SETTLE, "mu_star"] - 0.6) < 3 * t.loc[SETTLE, "mu_star_conf"] + 0.05


def test_sobol_finds_the_inert_and_the_dominant_parameter(ladder):
    loaded, factors = ladder
    res = sa.run_sensitivity(loaded.data, factors, ["wait_hours.building"], method="sobol", samples=16, **RUN)
    assert len(res.X) == 16 * (len(factors) + 2)
    t = _rows(res, "wait_hours.building")
    assert res.ranking("wait_hours.building")[0] == HANDLING
    assert t.loc[HANDLING, "ST"] - t.loc[HANDLING, "ST_conf"] > 0
    for p in (INERT, SETTLE):
        assert abs(t.loc[p, "ST"]) <= t.loc[p, "ST_conf"] + 1e-12
        assert abs(t.loc[p, "S1"]) <= t.loc[p, "S1_conf"] + 1e-12
    assert list(res.table.columns) == sa.SOBOL_COLUMNS


def test_points_are_stored_and_a_rerun_resumes_without_running_them(ladder, tmp_path, monkeypatch):
    loaded, factors = ladder
    kw = dict(method="morris", samples=3, out=tmp_path, **RUN)
    first = sa.run_sensitivity(loaded.data, factors, ["settled_share.building"], **kw)
    stored = sorted((tmp_path / "points").glob("*.parquet"))
    assert len(stored) == len(set(sa.point_keys(loaded.data, factors, first.X)))
    # lose two points: only they are run again, and the result is identical
    for f in stored[:2]:
        f.unlink()
    from sim.experiments import sweep

    ran = []
    real = sweep._point_task

    def counting(task):
        ran.append(task)
        return real(task)

    monkeypatch.setattr(sweep, "_point_task", counting)
    again = sa.run_sensitivity(loaded.data, factors, ["settled_share.building"], **kw)
    assert len(ran) == 2 * RUN["reps"]
    assert again.table.equals(first.table)


def test_assumption_factors_ranges_integers_and_skips():
    data = tiny()
    data["target_days"] = 7
    data["sources"] = {
        "": "measured in a survey",
        "levels.building.settle": {"assumption": "guess"},
        "roles.head.staff_per_unit": {"assumption": "guess"},
        "levels.community.handling": {"assumption": "guess", "range": [1, 9]},
        "arrivals.severity_mix": {"assumption": "guess"},
        "target_days": "assumption: the policy target",
        "levels.community.units": {"assumption": "top"},
        "roles.mediator": {"assumption": "a range for the whole team", "range": [1, 9]},
    }
    factors, skipped = sa.assumption_factors(data)
    by = {f.path: f for f in factors}
    assert set(by) == {"levels.building.settle", "roles.head.staff_per_unit", "levels.community.handling.default.value",
                       "roles.mediator.staff_per_unit"}
    # a range on a prefix that does not hold the value is not this parameter's range: +-50% instead
    assert (by["roles.mediator.staff_per_unit"].low, by["roles.mediator.staff_per_unit"].high) == (25, 75)
    assert (by["levels.building.settle"].low, by["levels.building.settle"].high) == (0.5, 1.0)  # 1.0 +-50%, clipped
    staff = by["roles.head.staff_per_unit"]
    assert staff.integer and (staff.low, staff.high) == (25, 75) and staff.value(30.4) == 30
    assert (by["levels.community.handling.default.value"].low, by["levels.community.handling.default.value"].high) == (1, 9)
    reasons = dict(skipped)
    assert all(p in reasons for p in ("arrivals.severity_mix.micro", "target_days", "levels.community.units"))
    assert "households" not in by and "households" not in reasons  # measured, not an assumption


def test_bad_params_are_scenario_errors(ladder):
    loaded, _ = ladder
    for text in ("levels.nowhere.settle=0..1", "levels.grid.role=0..1", f"{SETTLE}=0.9..0.3", f"{SETTLE}=a..b"):
        with pytest.raises(ScenarioError):
            sa.parse_param(text, loaded.data)
    with pytest.raises(ScenarioError):
        sa.run_sensitivity(loaded.data, [sa.parse_param(PARAMS[1], loaded.data)], ["no_such_metric"], samples=2, **RUN)


def test_triangular_parts_varied_apart_stay_ordered():
    data = tiny(levels__building__handling={"default": {"dist": "triangular", "low": 1.0, "mode": 1.2, "high": 3.0}})
    fs = [sa.Factor("levels.building.handling.default.low", 0.5, 1.5), sa.Factor("levels.building.handling.default.mode", 0.6, 1.8)]
    d = sa.point_data(data, fs, [1.4, 0.9])
    tri = d["levels"]["building"]["handling"]["default"]
    assert (tri["low"], tri["mode"]) == (0.9, 1.4)


def test_cli_writes_table_json_plot_and_manifest(tmp_path):
    out = tmp_path / "sa"
    args = ["sensitivity", LADDER, "--set", "levels.grid.settle=1.0", *sum((["--param", p] for p in PARAMS), []),
            "--metric", "settled_share.building", "--samples", "3", "--reps", "2", "--horizon-days", "15", "--seed", "5",
            "--out", str(out), "--quiet"]
    assert main(args) == 0
    doc = json.loads((out / "sensitivity.json").read_text())
    assert doc["ranking"]["settled_share.building"][0] == SETTLE
    assert (out / "sensitivity.csv").read_text().splitlines()[0] == ",".join(sa.MORRIS_COLUMNS)
    assert (out / "sensitivity.png").read_bytes()[:4] == b"\x89PNG"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "sensitivity" and manifest["scenario"]["levels"]["grid"]["settle"] == 1.0
    assert len(list((out / "points").glob("*.parquet"))) > 0
    assert main([*args[:-3], "--metric", "nonsense", "--out", str(out), "--quiet"]) == 2
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("x")
    assert main([*args[:-3], "--out", str(other), "--quiet"]) == 2 and (other / "keep.txt").exists()


def test_same_seed_same_design_and_outputs(ladder):
    loaded, factors = ladder
    a = sa.design(factors, "morris", 4, seed=3)
    b = sa.design(factors, "morris", 4, seed=3)
    assert np.array_equal(a, b) and not np.array_equal(a, sa.design(factors, "morris", 4, seed=4))
