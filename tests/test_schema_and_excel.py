"""Editor completion and Excel: the committed JSON Schemas equal `sim schema`, every scenario file
names one on its first line and validates against it, the reference is current, and
`sim export --xlsx` writes numbers as numbers with intervals in their own columns."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import openpyxl
import pytest
import yaml

import sim
from sim.cli import main
from sim.cli.schema import schema_text

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted((ROOT / "scenarios").glob("*.yaml")) + sorted((ROOT / "scenarios" / "base").glob("*.yaml")) + sorted(
    (ROOT / "scenarios" / "variants").glob("*.yaml"))


@pytest.mark.parametrize("partial,name", [(False, "scenario.schema.json"), (True, "scenario-part.schema.json")])
def test_committed_schema_is_current(partial, name):
    assert (ROOT / "docs" / name).read_text(encoding="utf-8") == schema_text(partial), \
        f"docs/{name} is stale: run `sim schema{' --partial' if partial else ''} > docs/{name}`"


def test_sim_schema_prints_the_schema(capsys):
    assert main(["schema"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["properties"]["roles"]["additionalProperties"]["$ref"] == "#/$defs/Role"
    assert "Unit: days." in printed["properties"]["horizon_days"]["description"]
    assert printed["$defs"]["Level"]["properties"]["queue"]["enum"] == ["per_unit", "shared"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_scenario_names_and_meets_its_schema(path):
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema="), first
    schema_path = (path.parent / first.split("$schema=", 1)[1]).resolve()
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert ("part" in schema_path.name) == ("extends" in raw or "levels" not in raw)
    jsonschema.Draft202012Validator(json.loads(schema_path.read_text(encoding="utf-8"))).validate(raw)
    if path.parent.name == "scenarios":
        full = json.loads((ROOT / "docs" / "scenario.schema.json").read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator(full).validate(sim.load(path).data)


def test_schema_rejects_what_the_model_rejects():
    full = json.loads((ROOT / "docs" / "scenario.schema.json").read_text(encoding="utf-8"))
    data = sim.load(ROOT / "scenarios" / "fangxing.yaml").data
    data["levels"]["grid"]["queue"] = "fifo"
    with pytest.raises(jsonschema.ValidationError, match="fifo"):
        jsonschema.Draft202012Validator(full).validate(data)


def test_reference_is_current():
    from sim.cli.schema import reference_markdown

    assert (ROOT / "docs" / "scenario-reference.md").read_text(encoding="utf-8") == reference_markdown(), \
        "docs/scenario-reference.md is stale: run `sim schema --reference > docs/scenario-reference.md`"


def test_export_xlsx_of_a_comparison(tmp_path):
    out = tmp_path / "cmp"
    res = sim.compare([ROOT / "scenarios" / "fangxing.yaml", ROOT / "scenarios" / "zhaojialou.yaml"], 3, 7,
                      horizon_days=60, out=out)
    assert main(["export", str(out), "--xlsx", str(tmp_path / "r.xlsx")]) == 0
    wb = openpyxl.load_workbook(tmp_path / "r.xlsx")
    assert wb.sheetnames == ["summary", "paired differences", "replications", "parameters"]
    rows = list(wb["summary"].iter_rows(values_only=True))
    header = rows[0]
    assert header[:8] == ("scenario", "metric", "label", "unit", "mean", "ci_low", "ci_high", "n")
    got = {(r[0], r[1]): r for r in rows[1:]}
    m = res.results[0].metric("within_target_share")
    row = got[("fangxing", "within_target_share")]
    assert row[4] == pytest.approx(m["mean"]) and row[5] == pytest.approx(m["ci_low"]) and row[7] == 3
    diff = list(wb["paired differences"].iter_rows(values_only=True))
    assert diff[1][0] == "zhaojialou" and diff[1][1] == "fangxing" and isinstance(diff[1][4], float)
    params = list(wb["parameters"].iter_rows(values_only=True))
    assert ("fangxing", "households", 42000) in {r[:3] for r in params}
    assert main(["export", str(out)]) == 2


def test_the_guide_scenario_is_valid(tmp_path):
    text = (ROOT / "scenarios" / "README.md").read_text(encoding="utf-8")
    guide = text.split("## Writing a scenario from scratch", 1)[1]
    block = guide.split("```yaml\n", 1)[1].split("```", 1)[0]
    assert "extends" not in block and "roster: office" in block
    path = tmp_path / "riverside.yaml"
    path.write_text(block, encoding="utf-8")
    loaded = sim.load(path)
    assert loaded.scenario.title and list(loaded.scenario.levels) == ["building", "grid", "community"]
    full = json.loads((ROOT / "docs" / "scenario.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(full).validate(yaml.safe_load(block))
