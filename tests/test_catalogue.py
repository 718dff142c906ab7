"""The metric catalogue describes every metric every scenario produces, each with bounds that hold."""

from __future__ import annotations

import pytest

from conftest import SCENARIOS, TEST_SCENARIOS
from sim import catalogue, load_scenario
from sim.engine.model import single_run

FILES = sorted(SCENARIOS.glob("*.yaml")) + sorted(TEST_SCENARIOS.glob("*.yaml"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_metric_is_catalogued_and_within_bounds(path):
    sc = load_scenario(path)
    rec = single_run(sc, 3, 0, horizon_days=sc.warmup_days + 30)
    assert catalogue.unknown(rec.metrics) == []
    outside = {k: v for k, v in rec.metrics.items() if not catalogue.within_bounds(k, v)}
    assert not outside


def test_patterns_resolve_to_the_most_specific_entry():
    assert catalogue.info("settled_share.pool.centre").entry.group == "pools"
    assert catalogue.info("settled_share.grid").subject == "grid"
    assert catalogue.info("wait_hours.partner.lawyers").entry.pattern == "wait_hours.partner.<partner>"
    assert "lawyers" in catalogue.meaning("wait_hours.partner.lawyers")
    with pytest.raises(catalogue.UnknownMetric):
        catalogue.info("no_such_metric")
    with pytest.raises(catalogue.UnknownMetric):
        catalogue.info("settled_share.a.b.c")


def test_entries_are_complete_and_distinct():
    patterns = [m.pattern for m in catalogue.METRICS]
    assert len(patterns) == len(set(patterns))
    for m in catalogue.METRICS:
        assert m.meaning and m.unit, m.pattern
        assert m.lower is None or m.upper is None or m.lower <= m.upper


def test_clip_and_select():
    assert catalogue.clip("unresolved_share", -0.2) == 0.0
    assert catalogue.clip("unresolved_share", 1.3) == 1.0
    assert catalogue.clip("open_cases_end", -3.0) == 0.0
    names = ["cases_arrived", "escalated_failed.grid", "settled_share.grid"]
    assert catalogue.select(names) == ["cases_arrived", "settled_share.grid"]
    assert catalogue.select(names, ["escalated_*"]) == ["escalated_failed.grid"]
    assert catalogue.select(names, everything=True) == names


def test_readme_metric_table_is_the_catalogue_table():
    readme = (SCENARIOS.parent / "README.md").read_text(encoding="utf-8")
    inside = readme.split(catalogue.MARKDOWN_START, 1)[1].split(catalogue.MARKDOWN_END, 1)[0]
    assert inside.strip() == catalogue.markdown_table().strip(), "run: python -m sim.catalogue README.md"
    assert catalogue.with_markdown_table(readme) == readme


def test_markdown_table_has_a_row_per_entry_with_bounds_and_headline():
    rows = catalogue.markdown_table().splitlines()[2:]
    assert len(rows) == len(catalogue.METRICS)
    by_pattern = {r.split(" | ")[0].strip("| `"): r.split(" | ") for r in rows}
    assert by_pattern["settled_share.pool.<pool>"][1:] == ["share of closed cases settled by the pooled centre `<pool>`",
                                                           "share", "0 to 1", "yes |"]
    assert by_pattern["cases_settled"][3:] == ["≥ 0", " |"]


def test_mechanism_kinds_and_items_come_from_the_patterns():
    assert catalogue.mechanism_groups() == ("meetings", "pools", "partners", "channels", "closed_loop", "prevention",
                                            "detection", "collective", "court_link", "other_duties", "reopening")
    assert catalogue.mechanism_kinds("settled_share") == {"meeting": "meetings", "pool": "pools", "partner": "partners",
                                                          "studio": "court_link"}
    assert catalogue.mechanism_kinds()["channel"] == "channels"
    assert catalogue.mechanism_item("wait_hours.pool.centre") == "pool.centre"
    assert catalogue.mechanism_item("settled_share.grid") is None
    assert catalogue.mechanism_item("handover_late.grid") is None  # closed-loop metrics are about levels


def test_units_fractions_and_axis_labels():
    assert catalogue.unit("days_to_settle.p90") == catalogue.DAYS and catalogue.unit("nothing") == ""
    assert catalogue.is_fraction("settled_share.meeting.weekly") and catalogue.is_fraction("utilisation.pool.centre")
    assert not catalogue.is_fraction("wait_hours.grid") and not catalogue.is_fraction("cases_arrived")
    assert catalogue.bounds_text("unresolved_share") == "0 to 1" and catalogue.bounds_text("nothing") == "–"
    assert catalogue.axis_label("days_to_settle.p90") == "days to settle p90 (days)"
    assert catalogue.axis_label("utilisation.grid_worker") == "utilisation grid worker\n(busy hours per on-duty hour)"
