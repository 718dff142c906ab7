"""`sim describe`: a scenario's hierarchy, staff, arrivals, mix and rules, each parameter with its source."""

from __future__ import annotations

import argparse
from typing import Any

from ..format import fmt
from . import args as a
from .scenarios import load
from .tables import console


def add(sub: Any) -> None:
    p = sub.add_parser("describe", help="show a scenario's hierarchy, staff and the source of every parameter")
    p.add_argument("file")
    a.add_overrides(p)
    p.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    """The hierarchy, staff, arrivals, mix and rules of a scenario, each parameter with its source."""
    from rich.markup import escape
    from rich.table import Table

    from ..hierarchy import build_hierarchy
    from ..provenance import override_records, overrides_lines, parameter_table

    loaded = load(args.file, args.set, args.allow_large)
    sc = loaded.scenario
    h = build_hierarchy(sc, args.file)
    con = console()
    con.print(f"[bold]{sc.name}[/bold] — {sc.title}")
    if sc.description:
        con.print(sc.description.strip())
    rate = sc.arrivals.rate_per_household_year * sc.households
    con.print(f"{sc.households:,} households; {rate:,.0f} cases a year ({rate / 365:.1f} a day); times in {sc.time_unit}")
    t = Table(title="Hierarchy (bottom to top)", title_justify="left")
    for col in ("level", "units", "role", "staff/unit", "roster", "queue", "ceiling", "deadline (days)"):
        t.add_column(col)
    for i, (name, lv) in enumerate(sc.levels.items()):
        role = sc.roles[lv.role]
        roster = role.roster if isinstance(role.roster, str) else f"{len(role.roster.shifts)} shifts"
        t.add_row(name, f"{h.counts[i]:,}", lv.role, str(role.staff_per_unit), roster, lv.queue, lv.ceiling or "any",
                  fmt(lv.deadline_days))
    con.print(t)
    mix = Table(title="Case mix", title_justify="left")
    mix.add_column("severity")
    mix.add_column("share", justify="right")
    for k, v in sc.arrivals.severity_mix.items():
        mix.add_row(k, f"{v:.0%}")
    con.print(mix)
    from ..mechanisms import describe as describe_mechanisms

    mech_rows = describe_mechanisms(sc)
    if mech_rows:
        mt = Table(title="Mechanisms", title_justify="left")
        for col in ("kind", "name", "at", "what"):
            mt.add_column(col)
        for row in mech_rows:
            mt.add_row(*row)
        con.print(mt)
    records = override_records(args.file, args.set)
    if records:
        con.print("[bold magenta]Overridden on the command line (--set):[/bold magenta]")
        for line in overrides_lines(records):
            con.print(f"[magenta]  {escape(line)}[/magenta]")
    p = Table(title="Parameters and their sources", title_justify="left")
    p.add_column("parameter", overflow="fold", min_width=24)
    p.add_column("value", overflow="fold")
    p.add_column("source", overflow="fold")
    for row in parameter_table(loaded.data, records):
        style = ("magenta" if row["overridden"] else "yellow" if row["assumption"] else
                 "red" if row["source"] == "(no source given)" else "")
        p.add_row(row["parameter"], str(row["value"]), row["source"], style=style)
    con.print(p)
    return 0
