"""Numbers a planner can act on: compare warns when scenarios define metrics differently,
overrides are recorded with what they replaced, and `sim staff` answers in planners' terms."""

from __future__ import annotations

import json
import math
from pathlib import Path

import nbformat
import pytest
import yaml

from sim.cli import main
from sim.experiments.comparability import differences
from sim.experiments.compare import compare, wide
from sim.experiments.staff import Target, staff
from sim.experiments.staffing_answer import bound_text, neighbour_notes
from sim.provenance import override_records, parameter_table
from sim.report import build_report, render_markdown
from sim.scenario import load_scenario_full

ROOT = Path(__file__).resolve().parents[1]
LADDER = str(ROOT / "tests" / "scenarios" / "ladder.yaml")
FANGXING = str(ROOT / "scenarios" / "fangxing.yaml")
QUICK = ["--reps", "2", "--horizon-days", "40", "--quiet"]


def flat(text: str) -> str:
    """Console output with the table's line wrapping undone."""
    return " ".join(text.replace("│", " ").split())


def variant(tmp_path: Path, name: str, **settings: object) -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"extends": LADDER, "name": name, **settings}), encoding="utf-8")
    return str(path)


# --------------------------------------------------------------------------- 6. comparability
def test_compare_warns_and_marks_metrics_when_target_days_differ(tmp_path: Path) -> None:
    a, b = variant(tmp_path, "seven", target_days=7), variant(tmp_path, "fourteen", target_days=14)
    res = compare([a, b], reps=2, horizon_days=40)
    assert [d.what for d in res.differences] == ["target days per severity"]
    assert "seven: micro 7" in res.warning and "fourteen: micro 14" in res.warning
    long = res.table()
    differs = long.groupby("metric")["definition_differs"].any()
    assert differs["within_target_share"] and not differs["cases_arrived"]
    doc = res.to_json()
    assert doc["comparability"]["comparable"] is False
    assert doc["scenarios"]["fourteen"]["within_target_share"]["definition_differs"] is True
    rows = wide(long, ["within_target_share", "cases_arrived"])["metric"].tolist()
    assert rows == ["within_target_share †", "cases_arrived"]


def test_like_for_like_comparison_has_no_warning(tmp_path: Path) -> None:
    a, b = variant(tmp_path, "one", target_days=7), variant(tmp_path, "two", target_days=7)
    res = compare([a, b], reps=2, horizon_days=40)
    assert res.differences == [] and res.warning == ""
    assert res.to_json()["comparability"]["comparable"] is True
    assert not any("†" in m for m in res.wide_table()["metric"])


def test_differences_name_severities_levels_horizon_and_warmup() -> None:
    base = load_scenario_full(LADDER).scenario
    other = base.model_copy(update={"name": "other", "severities": ["micro", "big"], "warmup_days": 20.0,
                                    "levels": dict(list(base.levels.items())[1:])})
    found = {d.what: d for d in differences([base, other], [40.0, 80.0])}
    assert set(found) == {"severities", "levels", "run length (days)", "warm-up (days)"}
    assert found["levels"].affects("settled_share.building") and found["levels"].affects("within_ceiling_share")
    assert found["run length (days)"].affects("cases_arrived")
    assert found["severities"].affects("within_target_share")


def test_compare_cli_json_folder_and_report_carry_the_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                             ) -> None:
    a, b = variant(tmp_path, "seven", target_days=7), variant(tmp_path, "fourteen", target_days=14)
    out = tmp_path / "cmp"
    assert main(["compare", a, b, *QUICK, "--out", str(out)]) == 0
    text = flat(capsys.readouterr().out)
    assert "within target †" in text and "Not like for like" in text and "target days per severity differ" in text
    for doc in (json.loads((out / "compare.json").read_text()), json.loads((out / "manifest.json").read_text())):
        assert doc["comparability"]["differences"][0]["metrics"] == ["within_target_share"]
    md, _ = render_markdown(build_report(out, figures=False))
    assert "target days per severity differ" in md and "within_target_share †" in md
    assert main(["compare", a, b, *QUICK, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["comparability"]["comparable"] is False


# --------------------------------------------------------------------------- 7. overrides
def test_describe_shows_the_override_with_the_value_and_source_it_replaced(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["describe", FANGXING, "--set", "arrivals.rate_per_household_year=0.16"]) == 0
    text = flat(capsys.readouterr().out)
    was = load_scenario_full(FANGXING).data["arrivals"]["rate_per_household_year"]
    assert f"overridden on the command line: 0.16 (was {was}, source assumption: calibrated to" in text


def test_parameter_table_marks_overridden_rows_and_leaves_others() -> None:
    records = override_records(LADDER, ["levels.building.settle=0.8"])
    assert records[0]["was"] == 0.7 and records[0]["value"] == 0.8
    data = load_scenario_full(LADDER, ["levels.building.settle=0.8"]).data
    rows = {r["parameter"]: r for r in parameter_table(data, records)}
    assert rows["levels.building.settle"]["overridden"]
    assert rows["levels.building.settle"]["source"].startswith("overridden on the command line: 0.8 (was 0.7, source")
    assert not rows["levels.grid.settle"]["overridden"]


def test_run_json_includes_the_overrides(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", LADDER, *QUICK, "--json", "--set", "levels.building.settle=0.8"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["overrides"][0]["set"] == "levels.building.settle=0.8" and doc["overrides"][0]["was"] == 0.7


@pytest.mark.parametrize("command", [
    ["run", LADDER],
    ["compare", LADDER],
    ["sweep", LADDER, "--grid", "roles.grid_staff.staff_per_unit=2,3"],
    ["staff", LADDER, "--vary", "roles.grid_staff.staff_per_unit=2..3", "--target", "cases_arrived>=0"],
    ["sensitivity", LADDER, "--param", "levels.grid.settle=0.5..0.7", "--samples", "2", "--metric", "cases_arrived"],
])
def test_every_results_folder_records_command_line_and_overrides(tmp_path: Path, command: list[str]) -> None:
    out = tmp_path / "out"
    argv = [*command, *QUICK, "--set", "levels.building.settle=0.8", "--out", str(out)]
    assert main(argv) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"].startswith(f"sim {command[0]} ") and "--set levels.building.settle=0.8" in manifest["command"]
    assert [(r["key"], r["value"], r["was"]) for r in manifest["overrides"]] == [("levels.building.settle", 0.8, 0.7)]


def test_report_shows_overrides(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert main(["run", LADDER, *QUICK, "--set", "levels.building.settle=0.8", "--out", str(out)]) == 0
    md, _ = render_markdown(build_report(out, figures=False))
    assert "overridden on the command line: 0.8 (was 0.7, source assumption: synthetic queueing test case)" in md


def _numbers(node: object) -> list[float]:
    if isinstance(node, dict):
        return [x for v in node.values() for x in _numbers(v)]
    if isinstance(node, list):
        return [x for v in node for x in _numbers(v)]
    return [float(node)] if isinstance(node, (int, float)) and not isinstance(node, bool) else []


def _scenario_files() -> list[Path]:
    files = sorted((ROOT / "scenarios").rglob("*.yaml")) + sorted((ROOT / "tests" / "scenarios").rglob("*.yaml"))
    return [f for f in files if "sources" in (yaml.safe_load(f.read_text(encoding="utf-8")) or {})]


@pytest.mark.parametrize("path", _scenario_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_source_range_holds_its_files_value(path: Path) -> None:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    try:
        data = load_scenario_full(path).data  # inherited values count too
    except Exception:
        data = raw  # a base file that is not a scenario on its own
    outside = []
    for key, entry in (raw.get("sources") or {}).items():
        if not isinstance(entry, dict) or not entry.get("range"):
            continue
        lo, hi = (float(x) for x in entry["range"])
        node: object = data
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        outside += [(key, v, [lo, hi]) for v in _numbers(node) if not lo <= v <= hi]
    assert not outside, f"values outside their source's range: {outside}"


# --------------------------------------------------------------------------- 8. sim staff
@pytest.mark.parametrize("bound, target", [(0.8996, 0.9), (0.89999, 0.9), (0.9004, 0.9), (0.9, 0.9), (0.12345, 0.1235),
                                           (0.70049, 0.7005)])
def test_a_bound_is_never_shown_on_the_wrong_side_of_its_target(bound: float, target: float) -> None:
    shown = float(bound_text(bound, target))
    assert (shown < target) == (bound < target) and (shown >= target) == (bound >= target)


def test_neighbour_notes_only_when_intervals_overlap() -> None:
    t = Target("within_target_share", ">=", 0.9)
    rows = {(5,): {"within_target_share.mean": 0.905, "within_target_share.ci_low": 0.899},
            (6,): {"within_target_share.mean": 0.907, "within_target_share.ci_low": 0.901},
            (7,): {"within_target_share.mean": 0.95, "within_target_share.ci_low": 0.94}}
    notes = neighbour_notes(rows, (6,), ["g"], [[5, 6, 7]], [t])
    assert len(notes) == 1 and notes[0].startswith("g = 5 gives within_target_share the same as 6")


def test_staff_answer_has_baseline_head_counts_change_and_cost(tmp_path: Path) -> None:
    key = "roles.grid_worker.staff_per_unit"
    result = staff(FANGXING, {key: [5, 6, 7]}, ["within_target_share>=0"], reps=2, horizon_days=40,
                   costs={key: 90000}, out=tmp_path / "staff")
    _frontier, chosen = result  # still unpacks as before
    ans = result.answer
    assert ans.baseline.values == {key: 6} and ans.cost_unit == "yuan a year"
    grid = ans.baseline.role("grid_worker")
    assert (grid.staff_per_unit, grid.units, grid.head_count, grid.levels) == (6, 86, 516.0, ["grid"])
    assert ans.baseline.cost == pytest.approx(516 * 90000)
    assert ans.chosen is not None and ans.chosen.values == {key: chosen[key]}
    assert ans.chosen.role("grid_worker").head_count == chosen[key] * 86
    change = ans.change
    assert change["head_count"]["grid_worker"] == (chosen[key] - 6) * 86
    assert change["cost"] == pytest.approx(ans.chosen.cost - ans.baseline.cost)
    assert all(c.met for c in ans.chosen.checks)
    saved = json.loads((tmp_path / "staff" / "answer.json").read_text())
    assert saved == json.loads(json.dumps(ans.to_json()))
    assert saved["baseline"]["head_count"] == 516.0


def test_staff_command_prints_baseline_answer_change_and_unit(capsys: pytest.CaptureFixture[str]) -> None:
    key = "roles.grid_staff.staff_per_unit"
    status = main(["staff", LADDER, "--vary", f"{key}=2..4", "--target", "cases_arrived>=0", "--cost", f"{key}=90000",
                   *QUICK])
    assert status == 0
    text = flat(capsys.readouterr().out)
    assert f"Current staffing (baseline, same seeds): {key} = 2" in text
    assert "grid_staff: 2 per grid x 1 grids = 2 people" in text
    assert "Answer: cheapest staffing meeting every target" in text
    assert "Change from current staffing" in text and "yuan a year" in text.split("Answer")[0]


def test_staff_table_shows_a_bound_below_target_as_below() -> None:
    from sim.cli.staff import _cell

    targets = {"within_target_share": Target("within_target_share", ">=", 0.9)}
    assert _cell("within_target_share.ci_low", 0.8996, targets) == "0.8996"
    assert _cell("within_target_share.mean", 0.8996, targets) == "0.9"  # a mean is not judged: rounded as usual


def test_notebook_02_searches_every_whole_staff_level() -> None:
    nb = nbformat.read(ROOT / "notebooks" / "02_staffing_fangxing_vs_zhaojialou.ipynb", as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", []))
    values: dict = {}
    exec(cell.source, values)  # the parameters cell is plain assignments
    grid = list(values["GRID_WORKERS"])
    assert grid == list(range(min(grid), max(grid) + 1)) and len(grid) > 2
    assert not math.isnan(values["REQUIRED_WITHIN_TARGET"])
