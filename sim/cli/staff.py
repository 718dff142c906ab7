"""`sim staff`: the cheapest staffing that meets every target on its confidence bound."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from ..format import fmt
from . import args as a
from .tables import console, progress, short_column, table


def add(sub: Any) -> None:
    p = sub.add_parser(
        "staff", help="find the cheapest staffing meeting targets (lower confidence bound), print the frontier",
        description="Search staffing levels (--vary) for the cheapest one whose 95%% confidence bound meets every "
                    "--target (lower bound for >=, upper bound for <=). One key is bisected; several are searched by "
                    "marginal analysis, without evaluating every combination.")
    p.add_argument("scenario")
    p.add_argument("--vary", action="append", default=[], required=True, metavar="key.path=min..max",
                   help="a staffing key and its range, e.g. roles.grid_worker.staff_per_unit=1..6 (or v1,v2,...)")
    p.add_argument("--target", action="append", default=[], required=True, metavar="metric>=x",
                   help='a target, e.g. "within_target_share>=0.9" (repeatable)')
    p.add_argument("--cost", action="append", default=[], metavar="key.path=yuan",
                   help="yuan per year for one step of a varied key (default: the role's cost_per_year, else 1)")
    p.add_argument("--search", choices=("auto", "bisection", "marginal", "exhaustive"), default="auto")
    a.add_retries(p)
    a.add_experiment(p)
    p.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    """Run the search and print the frontier it explored and the chosen staffing."""
    from ..experiments.staff import staff
    from ..experiments.sweep import PointsFailed
    from ..results import prepare_out, publish

    out = prepare_out(args.out, args.force, "staff") if args.out else None
    bar, advance = progress(None, "staffing points", enabled=not args.quiet)  # total unknown: a search
    t0 = time.perf_counter()
    try:
        with bar:
            frontier, chosen = staff(args.scenario, args.vary, args.target, args.reps, args.seed, costs=args.cost,
                                     horizon_days=args.horizon_days, overrides=a.overrides(args), workers=args.workers,
                                     retries=args.retries, search=args.search, out=out, progress=advance,
                                     **a.executor(args))
    except PointsFailed as exc:
        print(f"sim staff: {exc}", file=sys.stderr)
        return 1
    out = publish(out, args.out) if out else None  # with --force: only now replaces what was there
    elapsed = time.perf_counter() - t0
    if args.json:
        print(json.dumps({"frontier": json.loads(frontier.to_json(orient="records")), "chosen": chosen,
                          "targets": args.target}, ensure_ascii=False))
        return 0
    t = table(f"Staffing frontier explored ({len(frontier)} points; targets: {', '.join(args.target)} "
              f"on the 95% confidence bound)", [short_column(c) for c in frontier.columns], left=0,
              unbroken=list(frontier.columns).index("cost"))
    for row in frontier.itertuples(index=False):
        style = "bold green" if row.chosen else ("" if row.feasible else "dim")
        t.add_row(*[fmt(v) for v in row], style=style)
    con = console()
    con.print(t)
    if chosen is None:
        con.print("[red]no staffing in the ranges meets every target[/red]")
    else:
        keys = ", ".join(f"{k}={v}" for k, v in chosen.items()
                         if k in frontier.columns[: list(frontier.columns).index("cost")])
        con.print(f"[bold]chosen:[/bold] {keys} (cost {fmt(chosen['cost'])}, "
                  f"{frontier.attrs.get('cost_unit', 'yuan a year')})")
    con.print(f"[dim]{elapsed:.1f} s{'; written to ' + str(out) if out else ''}[/dim]")
    return 0 if chosen is not None else 1
