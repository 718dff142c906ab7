"""The hierarchy builder: units per level, nesting, households and the networkx graph."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from conftest import SCENARIOS, tiny
from sim.hierarchy import build_hierarchy
from sim.scenario import ScenarioError, load_scenario, validate_data


def four_levels(**levels):
    d = tiny()
    lv = d["levels"]
    base = {"role": "head", "handling": {"default": {"dist": "fixed", "value": 1.0}}, "settle": 0.5}
    d["households"] = 1000
    d["levels"] = {
        "building": {**base, **levels.get("building", {"units": 12})},
        "grid": {**base, **levels.get("grid", {"units": 3})},
        "community": {**base, **levels.get("community", {"units": 1})},
    }
    del lv
    return validate_data(d)


def test_even_spread_counts_and_parents():
    h = build_hierarchy(four_levels())
    assert h.counts == (12, 3, 1)
    assert h.parents[0].tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]
    assert h.parents[1].tolist() == [0, 0, 0]
    assert h.households.sum() == 1000
    assert h.households.max() - h.households.min() <= 1


def test_per_parent_and_explicit_parents():
    h = build_hierarchy(four_levels(building={"per_parent": 5}, grid={"parents": [0, 0]}))
    assert h.counts == (10, 2, 1)
    assert h.parents[0].tolist() == [0] * 5 + [1] * 5
    h2 = build_hierarchy(four_levels(building={"parents": [1, 0, 1]}, grid={"units": 2}))
    assert h2.parents[0].tolist() == [1, 0, 1]
    assert h2.ancestors[:, 0].tolist() == [0, 1, 0]


def test_explicit_parent_out_of_range_is_a_validation_error():
    """Validation alone finds what would stop the hierarchy being built: no build needed."""
    with pytest.raises(ScenarioError) as exc:
        four_levels(building={"parents": [0, 5]}, grid={"units": 2})
    assert {p.path for p in exc.value.problems} == {"levels.building.parents.1"}
    assert "has only 2 units" in str(exc.value)


def test_too_few_units_to_cover_the_level_above_is_a_validation_error():
    with pytest.raises(ScenarioError) as exc:
        four_levels(building={"units": 2}, grid={"units": 3})
    assert {p.path for p in exc.value.problems} == {"levels.building.units"}
    assert "2 units cannot cover the 3 units of level 'grid'" in str(exc.value)


def test_the_builder_still_refuses_a_scenario_built_around_validation():
    sc = four_levels(building={"parents": [0, 1]}, grid={"units": 2})
    building = sc.levels["building"].model_copy(update={"parents": [0, 5]})
    bad = sc.model_copy(update={"levels": {**sc.levels, "building": building}})
    with pytest.raises(ScenarioError) as exc:
        build_hierarchy(bad, "x.yaml")
    assert [(p.file, p.path) for p in exc.value.problems] == [("x.yaml", "levels.building.parents.1")]


def test_graph_is_a_tree_with_child_to_parent_edges():
    h = build_hierarchy(load_scenario(SCENARIOS / "fangxing.yaml"))
    g = h.graph
    assert isinstance(g, nx.DiGraph)
    assert g.number_of_nodes() == sum(h.counts)
    assert nx.is_tree(g.to_undirected()) and nx.is_directed_acyclic_graph(g)
    root = [n for n in g if g.out_degree(n) == 0]
    assert root == [("street", 0)]
    for child, parent in g.edges:
        assert g.nodes[parent]["depth"] == g.nodes[child]["depth"] + 1
    assert sum(d.get("households", 0) for _, d in g.nodes(data=True)) == 42000
    assert g.nodes[("building", 0)]["staff"] == 1
    # every building's ancestor chain agrees with the graph
    for b in (0, 100, 238):
        chain = [("building", b)] + list(nx.dfs_preorder_nodes(g, ("building", b)))[1:]
        assert [n[1] for n in chain] == h.ancestors[:, b].tolist()


def test_fangxing_published_counts():
    h = build_hierarchy(load_scenario(SCENARIOS / "fangxing.yaml"))
    # 239 building heads (seed 000); 86 grids, the seed's resident groups (its 9 community party
    # organisations are not grids)
    assert h.counts[0] == 239 and h.counts[1] == 86
    assert int(np.sum(h.households)) == 42000


def test_a_run_builds_the_hierarchy_once_for_all_its_replications(monkeypatch):
    import sim.engine.model as model_mod
    import sim.experiments.replicate as replicate
    from sim.hierarchy import build_hierarchy as real

    calls: list[str] = []

    def counting(scenario, *args):
        calls.append(scenario.name)
        return real(scenario, *args)

    monkeypatch.setattr(replicate, "build_hierarchy", counting)
    monkeypatch.setattr(model_mod, "build_hierarchy", counting)
    sc = four_levels()
    result = replicate.run(sc, reps=4, seed=1, horizon_days=5)
    assert len(result.records) == 4 and calls == [sc.name]
    given = real(sc)
    replicate.run(sc, reps=2, seed=1, horizon_days=5, hierarchy=given)
    assert calls == [sc.name]  # a hierarchy handed in is used as it is
