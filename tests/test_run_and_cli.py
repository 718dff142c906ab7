"""Runs end to end: conservation, determinism, the JSON contract, results folders, bad input."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from conftest import SCENARIOS, tiny
from sim import load_scenario, run
from sim.cli import main
from sim.engine import single_run

REQUIRED = ["cases_arrived", "cases_settled", "settled_per_day", "within_ceiling_share", "unresolved_share",
            "days_to_settle.mean", "days_to_settle.p50", "days_to_settle.p90", "within_target_share", "open_cases_end"]


@pytest.mark.parametrize("name", ["fangxing", "zhaojialou"])
def test_conservation_and_counts(name):
    sc = load_scenario(SCENARIOS / f"{name}.yaml", {"warmup_days": 0})
    rec = single_run(sc, 11, 0, horizon_days=60, record_cases=True)
    m = rec.metrics
    assert m["cases_arrived"] == m["cases_settled"] + m["cases_unresolved"] + m["open_cases_end"]
    assert len(rec.cases) == m["cases_arrived"]
    assert len({r[0] for r in rec.cases}) == len(rec.cases)  # each case recorded once
    shares = sum(v for k, v in m.items() if k.startswith("settled_share.")) + m["unresolved_share"]
    assert shares == pytest.approx(1.0)
    assert rec.backlog[-1] == m["open_cases_end"] or len(rec.backlog) == 61


def test_same_seed_same_numbers_and_other_seed_differs():
    sc = load_scenario(SCENARIOS / "fangxing.yaml")
    a = single_run(sc, 5, 2, horizon_days=60).metrics
    b = single_run(sc, 5, 2, horizon_days=60).metrics
    c = single_run(sc, 6, 2, horizon_days=60).metrics
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    assert a["cases_arrived"] != c["cases_arrived"] or a["days_to_settle.mean"] != c["days_to_settle.mean"]


def test_replications_are_independent_of_each_other():
    sc = load_scenario(SCENARIOS / "zhaojialou.yaml")
    full = run(sc, reps=3, seed=9, horizon_days=60)
    alone = single_run(sc, 9, 2, horizon_days=60)
    assert repr(full.records[2].metrics) == repr(alone.metrics)  # repr: NaN metrics compare unequal


def test_common_random_numbers_share_arrivals_between_scenarios():
    sc = load_scenario(SCENARIOS / "zhaojialou.yaml")
    fewer_staff = load_scenario(SCENARIOS / "zhaojialou.yaml", {"roles.grid_worker.staff_per_unit": 1})
    a = single_run(sc, 4, 0, horizon_days=60, record_cases=True)
    b = single_run(fewer_staff, 4, 0, horizon_days=60, record_cases=True)
    arrivals = lambda rec: sorted((r[0], r[1], r[2], r[3]) for r in rec.cases)
    assert arrivals(a) == arrivals(b)
    assert a.metrics["wait_hours.grid"] < b.metrics["wait_hours.grid"]


def test_python_api_summary_has_confidence_intervals():
    res = run(load_scenario(SCENARIOS / "fangxing.yaml"), reps=3, horizon_days=60)
    s = res.summary.set_index("metric")
    for metric in REQUIRED:
        assert metric in s.index
    row = s.loc["cases_arrived"]
    assert row["ci_low"] < row["mean"] < row["ci_high"] and row["n"] == 3
    assert len(res.replications) == 3


def test_json_contract(capsys):
    code = main(["run", str(SCENARIOS / "zhaojialou.yaml"), "--reps", "2", "--horizon-days", "60", "--seed", "3",
                 "--json", "--quiet"])
    assert code == 0
    out = capsys.readouterr().out
    doc = json.loads(out)
    assert doc["scenario"] == "zhaojialou" and doc["replications"] == 2 and doc["seed"] == 3
    assert doc["horizon_days"] == 60 and doc["warmup_days"] == 30
    names = set(doc["metrics"])
    for metric in REQUIRED:
        assert metric in names
    for lv in ("building", "grid", "community", "street"):
        assert f"settled_share.{lv}" in names and f"wait_hours.{lv}" in names
    for role in ("building_head", "grid_worker", "social_worker", "street_mediator"):
        assert f"utilisation.{role}" in names
    for v in doc["metrics"].values():
        assert set(v) == {"mean", "ci_low", "ci_high", "n"}


def test_set_override_changes_the_run(capsys):
    main(["run", str(SCENARIOS / "zhaojialou.yaml"), "--reps", "2", "--horizon-days", "60", "--json", "--quiet",
          "--set", "levels.building.settle.micro=0.0"])
    doc = json.loads(capsys.readouterr().out)
    assert doc["metrics"]["settled_share.building"]["mean"] == 0.0


def test_out_folder_is_complete_and_not_overwritten(tmp_path, capsys):
    out = tmp_path / "res"
    args = ["run", str(SCENARIOS / "zhaojialou.yaml"), "--reps", "2", "--horizon-days", "40", "--quiet", "--out", str(out)]
    assert main(args) == 0
    for f in ("summary.json", "replications.csv", "backlog.csv", "cases.parquet", "manifest.json"):
        assert (out / f).exists(), f
    man = json.loads((out / "manifest.json").read_text())
    assert man["seed"] == 20240426 and len(man["scenario_hash"]) == 16 and "simpy" in man["versions"]
    cases = pd.read_parquet(out / "cases.parquet")
    summary = json.loads((out / "summary.json").read_text())
    assert len(cases) == sum(pd.read_csv(out / "replications.csv")["cases_arrived"]) + \
        int(((cases.arrival_day < 30)).sum())  # cases before warm-up are in the table but not counted
    assert summary["replications"] == 2
    assert main(args) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(args + ["--force"]) == 0


def test_extends_and_describe(tmp_path, capsys):
    child = tmp_path / "child.yaml"
    child.write_text(yaml.safe_dump({"extends": str(SCENARIOS / "fangxing.yaml"), "name": "fangxing_more_grid",
                                     "roles": {"grid_worker": {"staff_per_unit": 9}}}))
    sc = load_scenario(child)
    assert sc.name == "fangxing_more_grid" and sc.roles["grid_worker"].staff_per_unit == 9
    assert sc.roles["grid_worker"].other_duties.tasks_per_person_week == 6.5 and sc.households == 42000
    assert main(["describe", str(SCENARIOS / "fangxing.yaml")]) == 0
    out = capsys.readouterr().out
    assert "seed 000_8bafd8a29a5e1d83.txt" in out and "assumption" in out and "239" in out


@pytest.mark.parametrize("mutate, expected", [
    (lambda d: d["arrivals"].__setitem__("rate_per_household_year", -1), "arrivals.rate_per_household_year: expected a number greater than 0 (got -1)"),
    (lambda d: d["levels"]["building"].__setitem__("settle", 1.5), "levels.building.settle"),
    (lambda d: d["arrivals"]["severity_mix"].__setitem__("micro", 0.5), "arrivals.severity_mix: mix must sum to 1"),
    (lambda d: d["levels"]["building"].__setitem__("role", "ghost"), "levels.building.role: role 'ghost' is not declared"),
    (lambda d: d["roles"]["head"].__setitem__("staff_per_unit", 0), "role 'head' has staff_per_unit 0 but cases are routed to level 'building'"),
    (lambda d: d["levels"]["building"].__setitem__("setle", 1.0), "unknown key 'setle'; did you mean 'settle'?"),
    (lambda d: d.__setitem__("households", "many"), "households: expected a whole number (got 'many')"),
])
def test_bad_input_names_file_key_and_expectation(tmp_path, capsys, mutate, expected):
    d = tiny()
    mutate(d)
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump(d, sort_keys=False))
    assert main(["validate", str(f)]) == 2
    err = capsys.readouterr().err
    assert str(f) in err and expected in err


def test_yaml_syntax_error_has_line_and_column_and_no_traceback(tmp_path):
    f = tmp_path / "broken.yaml"
    f.write_text("name: x\nlevels:\n  building: {units: 3\n  grid: 1\n")
    proc = subprocess.run([sys.executable, "-m", "sim.cli", "run", str(f)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert f"{f}:4:" in proc.stderr and "YAML syntax error" in proc.stderr


def test_compare_refuses_two_scenarios_with_one_name(capsys):
    path = str(SCENARIOS / "zhaojialou.yaml")
    assert main(["compare", path, path, "--reps", "2", "--quiet"]) == 2
    assert "compared scenarios must have different names; 'zhaojialou'" in capsys.readouterr().err


def test_results_are_readable_by_others(tmp_path):
    import os
    import stat

    from sim.results import atomic_write_text

    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "x.txt", "hello")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "x.txt").stat().st_mode) == 0o644


def test_spooled_case_rows_equal_rows_in_memory(tmp_path, monkeypatch):
    import sim.engine.model as model_mod

    monkeypatch.setattr(model_mod, "CHUNK_ROWS", 25)  # several row groups per replication
    sc = load_scenario(SCENARIOS / "zhaojialou.yaml")
    in_memory = run(sc, reps=2, seed=3, horizon_days=120, record_cases=True)
    spooled = run(sc, reps=2, seed=3, horizon_days=120, record_cases=str(tmp_path / "spool"))
    assert all(r.cases is None and len(r.extra["case_files"]) == 1 for r in spooled.records)
    import pyarrow.parquet as pq

    assert all(pq.ParquetFile(r.extra["case_files"][0]).num_row_groups > 1 for r in spooled.records)
    a, b = in_memory.cases(), spooled.cases()
    pd.testing.assert_frame_equal(a.sort_values(["rep", "case_id"]).reset_index(drop=True),
                                  b.sort_values(["rep", "case_id"]).reset_index(drop=True))
    assert in_memory.replications.equals(spooled.replications)
    from sim.results import write_cases

    out = tmp_path / "out"
    out.mkdir()
    assert write_cases(out, spooled.records)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "cases.parquet"), b)
    assert len(pd.read_csv(out / "cases.csv.gz")) == len(b)


def test_run_out_leaves_no_spool_behind(tmp_path):
    out = tmp_path / "res"
    assert main(["run", str(SCENARIOS / "zhaojialou.yaml"), "--reps", "2", "--horizon-days", "40", "--quiet",
                 "--out", str(out)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]


def test_compare_out_folder_has_case_tables_matching_runs(tmp_path):
    out = tmp_path / "cmp"
    fx, zj = str(SCENARIOS / "fangxing.yaml"), str(SCENARIOS / "zhaojialou.yaml")
    assert main(["compare", fx, zj, "--reps", "2", "--horizon-days", "40", "--seed", "5", "--quiet", "--out", str(out)]) == 0
    alone = run(load_scenario(zj), reps=2, seed=5, horizon_days=40, record_cases=True).cases()
    written = pd.read_parquet(out / "zhaojialou" / "cases.parquet")
    pd.testing.assert_frame_equal(written.sort_values(["rep", "case_id"]).reset_index(drop=True),
                                  alone.sort_values(["rep", "case_id"]).reset_index(drop=True))
    assert (out / "fangxing" / "cases.parquet").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cmp"]


def test_rates_per_1000_households_follow_the_counts():
    sc = load_scenario(SCENARIOS / "zhaojialou.yaml")
    m = single_run(sc, 2, 0, horizon_days=395).metrics  # 30-day warm-up: exactly one counted year
    assert m["cases_per_1000_households_year"] == pytest.approx(m["cases_arrived"] * 1000 / sc.households)
    assert m["unresolved_per_1000_households_year"] == pytest.approx(m["cases_unresolved"] * 1000 / sc.households)
    # Poisson arrivals: the count has sd sqrt(households x rate)
    rate = sc.arrivals.rate_per_household_year
    sd = math.sqrt(sc.households * rate) * 1000 / sc.households
    assert abs(m["cases_per_1000_households_year"] - rate * 1000) < 4 * sd
