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
