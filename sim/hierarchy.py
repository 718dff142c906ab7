"""Scenario -> hierarchy: how many units each level has, how they nest, as a networkx graph.

Units are numbered per level. Edges run child -> parent. The engine uses the plain arrays in
:class:`Hierarchy` (parent index per unit, households per bottom unit); the graph is for
people and plots: node ``(level, index)`` with attributes ``level``, ``depth``, ``staff``,
``role`` and, at the bottom, ``households``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from .scenario.checks import unit_counts, unit_problems
from .scenario.loader import Problem, ScenarioError
from .scenario.schema import Scenario

if TYPE_CHECKING:  # pragma: no cover - networkx is imported when the graph is asked for (start-up)
    import networkx as nx


@dataclass(frozen=True)
class Hierarchy:
    """Units per level (bottom first), parent index of every unit, households per bottom unit."""

    levels: tuple[str, ...]
    counts: tuple[int, ...]
    parents: tuple[np.ndarray, ...]  # parents[i][j]: index at level i+1 of unit j of level i
    households: np.ndarray  # per unit of the bottom level
    staff: tuple[int, ...]  # staff per unit, per level
    roles: tuple[str, ...]
    unit_names: tuple[tuple[str, ...] | None, ...] = ()  # per level, when given with units_named

    @cached_property
    def ancestors(self) -> np.ndarray:
        """ancestors[i, b]: the unit at level i above bottom unit b (row 0 is b itself)."""
        out = np.empty((len(self.levels), self.counts[0]), dtype=np.int64)
        out[0] = np.arange(self.counts[0])
        for i in range(1, len(self.levels)):
            out[i] = self.parents[i - 1][out[i - 1]]
        return out

    @cached_property
    def graph(self) -> nx.DiGraph:
        """The hierarchy as a networkx DiGraph with child -> parent edges."""
        import networkx as nx

        g = nx.DiGraph()
        for depth, (name, n) in enumerate(zip(self.levels, self.counts)):
            attrs = {"level": name, "depth": depth, "staff": self.staff[depth], "role": self.roles[depth]}
            if depth == 0:
                g.add_nodes_from(((name, j), {**attrs, "households": int(self.households[j])}) for j in range(n))
            else:
                g.add_nodes_from(((name, j), attrs) for j in range(n))
        for depth in range(len(self.levels) - 1):
            child, parent = self.levels[depth], self.levels[depth + 1]
            g.add_edges_from(((child, j), (parent, int(p))) for j, p in enumerate(self.parents[depth]))
        return g


def build_hierarchy(scenario: Scenario, file: str = "<scenario>") -> Hierarchy:
    """Work out the units of every level and how they nest.

    A validated scenario always builds (the schema runs the same unit checks); the guard
    raises ScenarioError for one built around validation (``model_construct``).
    """
    problems = unit_problems(scenario)
    if problems:  # refuse before allocating anything
        raise ScenarioError([Problem(file, *msg.split(": ", 1)) for msg in problems])
    names = scenario.level_names
    levels = list(scenario.levels.values())
    counts = unit_counts(scenario)
    unit_names = tuple(tuple(u.name for u in lv.units_named) if lv.units_named else None for lv in levels)
    parents: list[np.ndarray] = []
    for i in range(len(levels) - 1):
        lv, n, n_up = levels[i], counts[i], counts[i + 1]
        if lv.units_named is not None:
            up = {name: j for j, name in enumerate(unit_names[i + 1] or ())}
            arr = np.asarray([up.get(u.parent, 0) if u.parent is not None else 0 for u in lv.units_named], dtype=np.int64)
        elif lv.parents is not None:
            arr = np.asarray(lv.parents, dtype=np.int64)
        elif lv.per_parent is not None:
            arr = np.arange(n, dtype=np.int64) // lv.per_parent
        else:
            arr = (np.arange(n, dtype=np.int64) * n_up) // n
        parents.append(arr)
    h, n0 = scenario.households, counts[0]
    households = np.full(n0, h // n0, dtype=np.int64)
    households[: h % n0] += 1
    staff = tuple(scenario.roles[lv.role].staff_per_unit for lv in levels)
    roles = tuple(lv.role for lv in levels)
    return Hierarchy(tuple(names), tuple(counts), tuple(parents), households, staff, roles, unit_names)
