"""The court link on tiny scenarios: routes of cases leaving the top unsettled, and a judge's studio."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import tiny
from sim.engine import single_run
from sim.scenario import validate_data
from sim.scenario.problems import ScenarioError

COLS = ["case_id", "arrival_day", "building", "severity", "category", "level", "outcome", "close_day", "days_to_close"]
STUDIO = {"staff": 50, "handling": {"default": {"dist": "fixed", "value": 3.0}}, "settle": 1.0}


def unsettled(**court_link):
    """Tiny scenario where nobody settles: every case leaves the top unsettled."""
    data = tiny(levels__building__settle=0.0, levels__community__settle=0.0)
    data["court_link"] = court_link
    return data


def same(a: dict, b: dict) -> bool:
    """Equal metric values, NaN equal to NaN."""
    return a.keys() == b.keys() and all(a[k] == b[k] or (math.isnan(a[k]) and math.isnan(b[k])) for k in a)


def run(data, seed=3):
    rec = single_run(validate_data(data), seed, 0, record_cases=True)
    return rec, pd.DataFrame(rec.cases, columns=COLS)


def test_studio_settles_every_court_bound_case_after_its_handling():
    rec, cases = run(unsettled(routes={"default": {"court": 1.0, "petition": 0.0, "abandoned": 0.0}}, studio=STUDIO))
    closed = cases[cases.outcome != "open"]
    assert len(closed) > 20
    assert (closed.level == "studio.judge").all() and (closed.outcome == "settled").all()
    assert closed.days_to_close.sub(10 / 24).abs().max() < 1e-9  # building 2 h + community 5 h + studio 3 h
    m = rec.metrics
    assert m["settled_share.studio.judge"] == 1.0
    assert m["unresolved_share"] == 0.0
    assert m["unresolved_share.court"] == m["unresolved_share.petition"] == m["unresolved_share.abandoned"] == 0.0
    assert m["cases.studio.judge"] == m["cases_arrived"] - (len(cases) - len(closed))
    assert m["wait_hours.studio.judge"] == 0.0
    assert 0.0 < m["utilisation.studio.judge"] < 1.0


def test_cases_the_studio_does_not_settle_go_to_court():
    rec, cases = run(unsettled(routes={"default": {"court": 1.0, "petition": 0.0, "abandoned": 0.0}},
                               studio={**STUDIO, "settle": 0.0}))
    closed = cases[cases.outcome != "open"]
    assert (closed.outcome == "unresolved").all()
    assert closed.days_to_close.sub(10 / 24).abs().max() < 1e-9
    m = rec.metrics
    assert m["unresolved_share.court"] == m["unresolved_share"] == 1.0
    assert m["cases_to_court"] == m["cases_unresolved"]
    assert m["settled_share.studio.judge"] == 0.0


def test_routes_split_unresolved_and_leave_the_engine_untouched():
    plain = tiny(levels__building__settle=0.5, levels__community__settle=0.3, horizon_days=400)
    base = single_run(validate_data(plain), 5, 0).metrics
    data = {**plain, "court_link": {"routes": {"default": {"court": 0.25, "petition": 0.5, "abandoned": 0.25}}}}
    m = single_run(validate_data(data), 5, 0).metrics
    assert same({k: v for k, v in m.items() if k in base}, base)  # no studio: only new metrics
    parts = [m[f"unresolved_share.{r}"] for r in ("court", "petition", "abandoned")]
    assert math.isclose(sum(parts), m["unresolved_share"], rel_tol=1e-12)
    n = m["cases_unresolved"]
    assert n > 100
    court = m["unresolved_share.court"] / m["unresolved_share"]
    assert abs(court - 0.25) < 4 * math.sqrt(0.25 * 0.75 / n)
    assert m["cases_to_court"] == round(court * n)


def test_category_routes_replace_the_severity_routes():
    data = unsettled(routes={"default": {"court": 1.0, "petition": 0.0, "abandoned": 0.0}},
                     category_routes={"family": {"court": 0.0, "petition": 0.0, "abandoned": 1.0}})
    data["categories"] = ["neighbour", "family"]
    data["arrivals"]["category_mix"] = {"neighbour": 0.5, "family": 0.5}
    rec, cases = run(data)
    closed = cases[cases.outcome != "open"]
    m = rec.metrics
    assert m["unresolved_share.court"] == pytest.approx((closed.category == "neighbour").mean(), abs=1e-12)
    assert m["unresolved_share.abandoned"] == pytest.approx((closed.category == "family").mean(), abs=1e-12)
    assert m["unresolved_share.petition"] == 0.0


@pytest.mark.parametrize("court_link, message", [
    ({"routes": {"default": {"court": 0.5, "petition": 0.2, "abandoned": 0.2}}}, "must sum to 1"),
    ({"routes": {"micro": {"court": 1.0, "petition": 0.0, "abandoned": 0.0}}}, "court_link.routes: no 'default'"),
    ({"routes": {"default": {"court": 1.0, "petition": 0.0, "abandoned": 0.0}},
      "category_routes": {"noise": {"court": 1.0, "petition": 0.0, "abandoned": 0.0}}},
     "court_link.category_routes.noise: 'noise' is not a declared category"),
    ({"routes": {"default": {"court": 0.0, "petition": 1.0, "abandoned": 0.0}}, "studio": STUDIO},
     "court_link.studio: no route sends cases to court"),
])
def test_invalid_court_link_is_reported_with_its_path(court_link, message):
    with pytest.raises(ScenarioError, match=message):
        validate_data(unsettled(**court_link))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(court=st.floats(0.01, 1.0), petition_part=st.floats(0.0, 1.0), studio_settle=st.floats(0.0, 1.0),
       seed=st.integers(0, 10_000))
def test_settled_and_unresolved_routes_sum_to_one(court, petition_part, studio_settle, seed):
    petition = (1.0 - court) * petition_part
    routes = {"court": court, "petition": petition, "abandoned": 1.0 - court - petition}
    data = tiny(levels__building__settle=0.5, levels__community__settle=0.5, horizon_days=5)
    data["court_link"] = {"routes": {"default": routes}, "studio": {**STUDIO, "settle": studio_settle}}
    m = single_run(validate_data(data), seed, 0).metrics
    settled = m["settled_share.building"] + m["settled_share.community"] + m["settled_share.studio.judge"]
    parts = sum(m[f"unresolved_share.{r}"] for r in ("court", "petition", "abandoned"))
    if m["cases_arrived"] and m["cases_settled"] + m["cases_unresolved"]:
        assert math.isclose(settled + parts, 1.0, abs_tol=1e-9)
        assert math.isclose(parts, m["unresolved_share"], abs_tol=1e-12)
