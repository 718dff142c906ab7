"""Study reports: every STRESS-DES section and every parameter of every scenario, in md and HTML."""

from __future__ import annotations

import json
import re

import pytest
from conftest import TEST_SCENARIOS

from sim import report as rp
from sim.cli import main
from sim.experiments.compare import compare
from sim.experiments.replicate import run
from sim.provenance import parameter_table
from sim.results import write_compare, write_run
from sim.scenario import load_scenario_full

LADDER = TEST_SCENARIOS / "ladder.yaml"


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    base = tmp_path_factory.mktemp("results")
    a = load_scenario_full(LADDER)
    b = load_scenario_full(LADDER, {"name": "ladder_b", "levels.grid.settle": 0.8, "target_days": 0.25})
    write_run(base / "run", run(a.scenario, 3, 5, horizon_days=15, record_cases=True), a)
    write_compare(base / "compare", compare([a.scenario, b.scenario], 3, 5, horizon_days=15), [a, b])
    return base, a, b


def _check(text: str, loaded_list, html: bool) -> None:
    for title in rp.SECTIONS:
        assert (f"<h2>{title}</h2>" if html else f"\n## {title}\n") in text, title
    for loaded in loaded_list:
        for row in parameter_table(loaded.data):
            cells = [row["parameter"], rp._fmt(row["value"]), row["source"], "yes" if row["assumption"] else "no"]
            if html:
                import html as h

                pattern = "".join(f"<td>{h.escape(c)}</td>" for c in cells)
            else:
                pattern = "| " + " | ".join(rp._md_cell(c) for c in cells) + " |"
            assert pattern in text, row["parameter"]


def test_run_report_has_every_section_and_parameter(folders):
    base, a, _ = folders
    md = rp.write_report(base / "run", "md")
    text = md.read_text()
    _check(text, [a], html=False)
    figures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(figures) >= 3 and all((md.parent / f).read_bytes()[:4] == b"\x89PNG" for f in figures)
    assert a.hash in text and "matches" in text
    # the experiment: replications, seed, run length and warm-up of this run
    assert "| ladder | 3 | 5 | 15 | 10 |" in text


def test_compare_report_is_self_contained_html_with_both_scenarios(folders):
    base, a, b = folders
    assert main(["report", str(base / "compare"), "--format", "html", "--out", str(base / "cmp.html")]) == 0
    text = (base / "cmp.html").read_text()
    _check(text, [a, b], html=True)
    assert "paired" in text and "ladder_b − ladder" in text
    imgs = re.findall(r'<img [^>]*src="([^"]+)"', text)
    assert len(imgs) >= 3 and all(src.startswith("data:image/png;base64,") for src in imgs)
    assert a.hash in text and b.hash in text


def test_report_flags_a_scenario_that_does_not_match_its_hash(folders, tmp_path):
    base, _, _ = folders
    import shutil

    shutil.copytree(base / "run", tmp_path / "run")
    m = json.loads((tmp_path / "run" / "manifest.json").read_text())
    m["scenario"]["levels"]["grid"]["settle"] = 0.5  # edited after the run
    (tmp_path / "run" / "manifest.json").write_text(json.dumps(m))
    text = rp.write_report(tmp_path / "run", "md", figures=False).read_text()
    assert "| NO |" in text and "Figures left out" in text


def test_sensitivity_report_and_missing_folder(tmp_path):
    out = tmp_path / "sa"
    assert main(["sensitivity", str(LADDER), "--param", "levels.building.settle=0.3..0.9", "--param",
                 "levels.grid.settle", "--metric", "settled_share.grid", "--samples", "2", "--reps", "2",
                 "--horizon-days", "12", "--out", str(out), "--quiet"]) == 0
    text = rp.write_report(out, "md").read_text()
    _check(text, [load_scenario_full(LADDER)], html=False)
    assert "Sensitivity of settled_share.grid" in text and "mu_star_conf" in text
    assert main(["report", str(tmp_path / "nothing")]) == 2


def test_sweep_report_lists_the_sweep_table(tmp_path):
    from sim.experiments.sweep import sweep

    table = sweep(str(LADDER), {"roles.grid_staff.staff_per_unit": [1, 2]}, reps=2, seed=3, out=tmp_path / "sw",
                  horizon_days=12)
    text = rp.write_report(tmp_path / "sw", "md", figures=False).read_text()
    _check(text, [load_scenario_full(LADDER)], html=False)
    assert "**sweep.csv**" in text and "--grid roles.grid_staff.staff_per_unit=1,2" in text
    shown = text.split("**sweep.csv**", 1)[1].split("## 7.", 1)[0]
    rows = [ln for ln in shown.splitlines() if ln.startswith("| ")]
    assert rows[0].startswith("| roles.grid_staff.staff_per_unit | metric | mean |")
    assert len(rows) - 1 == len(table)  # every row of the sweep (below 400 rows)


# --------------------------------------------------------------------------- meanings, mechanisms, distributions
FANGXING = TEST_SCENARIOS.parent.parent / "scenarios" / "fangxing.yaml"


@pytest.fixture(scope="module")
def fangxing_report(tmp_path_factory):
    """The report of a short Fangxing run (meetings, a pool and channels), without figures."""
    loaded = load_scenario_full(FANGXING)
    out = tmp_path_factory.mktemp("fx") / "run"
    sc = loaded.scenario
    write_run(out, run(sc, 2, 1, horizon_days=sc.warmup_days + 20), loaded)
    return rp.build_report(out, figures=False), loaded


def _table(report, caption_start: str):
    return next(b.content for sec in report.sections for b in sec.blocks
                if b.kind == "table" and b.caption.startswith(caption_start))


def test_every_output_of_fangxing_has_a_meaning_and_a_unit(fangxing_report):
    report, loaded = fangxing_report
    outputs = _table(report, "Outputs")
    assert len(outputs) > 40 and {"output", "meaning", "unit", "bounds", "headline"} <= set(outputs.columns)
    assert all(outputs["meaning"].str.len() > 0), list(outputs.loc[outputs["meaning"] == "", "output"])
    assert all(outputs["unit"].str.len() > 0)
    pool = next(iter(loaded.scenario.pools))
    pool_rows = outputs[outputs["output"].str.contains(f".pool.{pool}", regex=False)]
    assert len(pool_rows) >= 4  # settled share, wait, utilisation, cases
    for meaning in pool_rows["meaning"]:
        assert pool in meaning and "this role" not in meaning and "this level" not in meaning
    assert outputs.set_index("output").loc["within_target_share", "headline"] == "yes"
    assert outputs.set_index("output").loc["cases_settled", "headline"] == ""


def test_mechanisms_and_distributions_are_described_from_the_scenario(fangxing_report):
    report, loaded = fangxing_report
    sc = loaded.scenario
    for group in ("meetings", "pools", "channels"):
        table = _table(report, f"fangxing: {group}")
        assert list(table["name"]) == list(getattr(sc, group))
    levels = _table(report, "fangxing: levels")
    for (name, lv), text in zip(sc.levels.items(), levels["handling"]):
        for key, dist in lv.handling.items():
            assert f"{key}: {dist.describe(sc.time_unit)}" in text, name
    pools = _table(report, "fangxing: pools")
    for (name, pool), text in zip(sc.pools.items(), pools["handling"]):
        assert all(d.describe(sc.time_unit) in text for d in pool.handling.values()), name
