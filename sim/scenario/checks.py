"""Cross-field checks of a scenario that need more than one model: the shape of the hierarchy
(named units with parents, cycles, several roots, parent indices, unit counts) and whether a
level that receives cases has anyone on duty. A scenario that passes them can be built: the
hierarchy builder re-uses :func:`unit_problems` only as a guard.

Each check returns messages ``"key.path: what is wrong"``, which the schema's model validator
joins and the loader turns into located :class:`~sim.scenario.loader.Problem` rows, so every
problem of a file is reported at once.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .schema import Level, Role, Scenario

MAX_UNITS = 1_000_000  # units per level; more is a mistake (and would not fit in memory)


def on_duty_peak(role: "Role") -> int:
    """Most staff of one unit ever on duty at once (the engine's weekly profile): 0 means
    nobody ever handles a case."""
    from ..rosters import weekly_profile

    return weekly_profile(role).peak


def levels_reached(scenario: "Scenario") -> list[bool]:
    """Whether cases can reach each level: the bottom always; a level above only if the level
    below can pass a case up (a deadline, a severity above its ceiling, or settle < 1)."""
    reached = [True]
    sevs = [s for s in scenario.severities if scenario.arrivals.severity_mix.get(s, 0.0) > 0.0] or scenario.severities
    names = scenario.level_names
    for name in names[:-1]:
        lv = scenario.levels[name]
        rank = scenario.severities.index(lv.ceiling) if lv.ceiling in scenario.severities else len(scenario.severities) - 1
        passes = lv.deadline_days is not None or any(
            scenario.severities.index(s) > rank or scenario.settle_prob(name, s) < 1.0 for s in sevs)
        reached.append(reached[-1] and passes)
    return reached


def staff_problems(scenario: "Scenario") -> list[str]:
    """A level that receives cases but whose role has nobody on duty, ever."""
    out: list[str] = []
    for reached, (name, lv) in zip(levels_reached(scenario), scenario.levels.items()):
        role = scenario.roles.get(lv.role)
        if role is None or not reached:
            continue
        helpers = [scenario.roles[r] for r in getattr(lv, "volunteers", []) if r in scenario.roles]
        if any(on_duty_peak(r) > 0 for r in helpers):
            continue
        p = f"levels.{name}.role"
        if role.staff_per_unit == 0 and isinstance(role.roster, str):
            out.append(f"{p}: role '{lv.role}' has staff_per_unit 0 but cases are routed to level '{name}'")
        elif on_duty_peak(role) == 0:
            out.append(f"{p}: role '{lv.role}' never has anyone on duty (staff_per_unit {role.staff_per_unit} x availability "
                       f"{role.availability:g} is 0, or every shift has staff 0) but cases are routed to level '{name}'")
    return out


def unit_counts(scenario: "Scenario") -> list[int]:
    """Units per level, bottom first (the top level is a single unit unless named otherwise)."""
    levels = list(scenario.levels.values())
    top = len(levels) - 1
    counts = [0] * len(levels)
    counts[top] = len(levels[top].units_named) if getattr(levels[top], "units_named", None) else 1
    for i in range(top - 1, -1, -1):
        lv = levels[i]
        if lv.units is not None:
            counts[i] = lv.units
        elif lv.per_parent is not None:
            counts[i] = lv.per_parent * counts[i + 1]
        elif getattr(lv, "units_named", None) is not None:
            counts[i] = len(lv.units_named)
        else:
            counts[i] = len(lv.parents or [])
    return counts


def unit_problems(scenario: "Scenario") -> list[str]:
    """Unit counts that cannot be built: too many units, more bottom units than households,
    parent indices out of range, or too few units to cover the level above."""
    out: list[str] = []
    names = scenario.level_names
    levels = list(scenario.levels.values())
    counts = unit_counts(scenario)
    for name, n in zip(names, counts):
        if n > MAX_UNITS:
            out.append(f"levels.{name}: {n:,} units (more than {MAX_UNITS:,}); check units and per_parent")
    if levels[0].units is None and counts[0] > scenario.households:
        out.append(f"levels.{names[0]}: {counts[0]:,} units but only {scenario.households:,} households")
    for i, lv in enumerate(levels[:-1]):
        n, n_up = counts[i], counts[i + 1]
        if getattr(lv, "units_named", None) is not None:
            continue
        if lv.parents is not None:
            bad = next((k for k, p in enumerate(lv.parents) if p >= n_up), None)
            if bad is not None:
                out.append(f"levels.{names[i]}.parents.{bad}: parent index {lv.parents[bad]} but level "
                           f"'{names[i + 1]}' has only {n_up} units (0..{n_up - 1})")
        elif lv.per_parent is None and n < n_up:
            out.append(f"levels.{names[i]}.units: {n} units cannot cover the {n_up} units of level '{names[i + 1]}' above")
    return out


def hierarchy_problems(scenario: "Scenario") -> list[str]:
    """Unit counts, parent indices and the named-unit tree (unknown parents, cycles, roots)."""
    out = unit_problems(scenario)
    if any(getattr(lv, "units_named", None) for lv in scenario.levels.values()):
        out.extend(_named_tree_problems(scenario))
    return out


def _named_tree_problems(scenario: "Scenario") -> list[str]:
    """Named units: every parent declared, at the level above, no cycle, exactly one root."""
    import networkx as nx

    out: list[str] = []
    names = scenario.level_names
    levels: list["Level"] = list(scenario.levels.values())
    top = len(levels) - 1
    where: dict[str, tuple[int, int]] = {}  # unit name -> (level index, position)
    for i, lv in enumerate(levels):
        for k, u in enumerate(lv.units_named or []):
            if u.name in where:
                li, lk = where[u.name]
                out.append(f"levels.{names[i]}.units_named.{k}.name: unit '{u.name}' is already declared "
                           f"at levels.{names[li]}.units_named.{lk}")
            else:
                where[u.name] = (i, k)
    g = nx.DiGraph()
    # (description, key path) of every unit without a parent
    roots: list[tuple[str, str]] = [] if levels[top].units_named else [(f"the {names[top]} unit", f"levels.{names[top]}")]
    for i, lv in enumerate(levels):
        # below an unnamed level (the single top unit, say) a unit without a parent hangs under it
        under_plain = i < top and not levels[i + 1].units_named
        for k, u in enumerate(lv.units_named or []):
            p = f"levels.{names[i]}.units_named.{k}.parent"
            g.add_node(u.name)
            if u.parent is None:
                if not under_plain:
                    roots.append((f"'{u.name}' ({names[i]})", f"levels.{names[i]}.units_named.{k}"))
                continue
            if u.parent not in where:
                pool = [v.name for v in (levels[i + 1].units_named or [])] if i < top else []
                hint = difflib.get_close_matches(u.parent, pool, n=1)
                hint_txt = f"; did you mean '{hint[0]}'?" if hint else ""
                level_txt = f"at level '{names[i + 1]}'" if i < top else "(the top level has no parent level)"
                out.append(f"{p}: parent '{u.parent}' is not declared {level_txt}{hint_txt}")
                continue
            g.add_edge(u.name, u.parent, path=p, level=i)
    cycle_nodes: set[str] = set()
    for comp in nx.simple_cycles(g):
        cycle_nodes.update(comp)
        first = min(comp, key=lambda n: where[n])
        order = comp[comp.index(first):] + comp[:comp.index(first)] + [first]
        li, lk = where[first]
        out.append(f"levels.{names[li]}.units_named.{lk}.parent: cycle in the hierarchy: {' -> '.join(order)}")
    for child, parent, attrs in g.edges(data=True):
        if child in cycle_nodes and parent in cycle_nodes:
            continue
        i, pi = attrs["level"], where[parent][0]
        if i == top:
            out.append(f"{attrs['path']}: '{child}' is at the top level '{names[i]}', which has no parent level")
        elif pi != i + 1:
            out.append(f"{attrs['path']}: parent '{parent}' is a unit of level '{names[pi]}', "
                       f"expected a unit of level '{names[i + 1]}' (the level above)")
    for i, lv in enumerate(levels[:-1]):
        single_top = i + 1 == top and counts_is_one(levels[top])
        if lv.units_named and not levels[i + 1].units_named and not single_top:
            out.append(f"levels.{names[i]}.units_named: the level above ('{names[i + 1]}') has no named units to be "
                       f"parents; name them with units_named too")
    top_path = f"levels.{names[top]}"
    roots.sort(key=lambda r: not (r[1] == top_path or r[1].startswith(top_path + ".")))  # the top's first; point at an extra one
    if len(roots) > 1:
        out.append(f"{roots[1][1]}: several roots in the hierarchy: {', '.join(r for r, _ in roots)}; exactly one unit, "
                   f"at the top level '{names[top]}', may have no parent")
    return out


def counts_is_one(level: "Level") -> bool:
    """A top level given as a single unit (``units: 1`` or one named unit)."""
    if level.units_named:
        return len(level.units_named) == 1
    return level.units in (None, 1)

