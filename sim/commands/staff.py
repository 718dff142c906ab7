"""`sim staff`: the cheapest staffing that meets every target on its confidence bound."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``staff`` sub-command."""
    from ..cli import _common_run_args

    p = subparsers.add_parser(
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
    p.add_argument("--retries", type=int, default=2, help="retries of a task whose worker process died (default 2)")
    _common_run_args(p)
    p.set_defaults(func=cmd_staff)


def cmd_staff(args: argparse.Namespace) -> int:
    """Run the search and print the frontier it explored and the chosen staffing."""
    from ..cli import _console, _progress, fmt
    from ..experiments.staff import staff
    from ..experiments.sweep import PointsFailed
    from .sweep import prepare_out

    out = prepare_out(args.out, args.force, "staff") if args.out else None
    bar, advance = _progress(None, "staffing points", enabled=not args.quiet)  # total unknown: a search
    t0 = time.perf_counter()
    try:
        with bar:
            table, chosen = staff(args.scenario, args.vary, args.target, args.reps, args.seed, costs=args.cost,
                                  horizon_days=args.horizon_days, overrides=args.set, workers=args.workers,
                                  retries=args.retries, search=args.search, out=out, progress=advance)
    except PointsFailed as exc:
        import sys

        print(f"sim staff: {exc}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - t0
    if args.json:
        print(json.dumps({"frontier": json.loads(table.to_json(orient="records")), "chosen": chosen,
                          "targets": args.target}, ensure_ascii=False))
        return 0
    from rich.table import Table

    t = Table(title=f"Staffing frontier explored ({len(table)} points; targets: {', '.join(args.target)} "
                    f"on the 95% confidence bound)", title_justify="left")
    for c in table.columns:
        t.add_column(c, justify="right")
    for row in table.itertuples(index=False):
        style = "bold green" if row.chosen else ("" if row.feasible else "dim")
        t.add_row(*[fmt(v) if not isinstance(v, bool) else ("yes" if v else "no") for v in row], style=style)
    con = _console()
    con.print(t)
    if chosen is None:
        con.print("[red]no staffing in the ranges meets every target[/red]")
    else:
        keys = ", ".join(f"{k}={v}" for k, v in chosen.items() if k in table.columns[: list(table.columns).index("cost")])
        con.print(f"[bold]chosen:[/bold] {keys} (cost {fmt(chosen['cost'])}, {table.attrs.get('cost_unit', 'yuan a year')})")
    con.print(f"[dim]{elapsed:.1f} s{'; written to ' + str(out) if out else ''}[/dim]")
    return 0 if chosen is not None else 1
