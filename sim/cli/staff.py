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
                    "--target (lower bound for >=, upper bound for <=). The default search runs few replications first and "
                    "more only where a point's interval straddles a target, and skips points that more or less staff "
                    "decides (docs/staffing-search.md); --search exhaustive runs every combination.")
    p.add_argument("scenario")
    p.add_argument("--vary", action="append", default=[], required=True, metavar="key.path=min..max",
                   help="a staffing key and its range, e.g. roles.grid_worker.staff_per_unit=1..6 (or v1,v2,...)")
    p.add_argument("--target", action="append", default=[], required=True, metavar="metric>=x",
                   help='a target, e.g. "within_target_share>=0.9" (repeatable)')
    p.add_argument("--cost", action="append", default=[], metavar="key.path=yuan",
                   help="yuan per year for one step of a varied key (default: the role's cost_per_year, else 1)")
    p.add_argument("--search", choices=("auto", "sequential", "bisection", "marginal", "exhaustive"), default="auto")
    a.add_retries(p)
    a.add_experiment(p)
    p.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    """Run the search; print the planner's answer (baseline, cheapest feasible staffing, change, cost)
    and the frontier it explored."""
    from rich.markup import escape

    from ..experiments.staff import Target, staff
    from ..experiments.staffing_answer import answer_lines
    from ..experiments.sweep import PointsFailed
    from ..results import prepare_out, publish

    out = prepare_out(args.out, args.force, "staff") if args.out else None
    bar, advance = progress(None, "staffing points", enabled=not args.quiet)  # total unknown: a search
    t0 = time.perf_counter()
    try:
        with bar:
            result = staff(args.scenario, args.vary, args.target, args.reps, args.seed, costs=args.cost,
                           horizon_days=args.horizon_days, overrides=a.overrides(args), workers=args.workers,
                           retries=args.retries, search=args.search, out=out, progress=advance, **a.executor(args))
    except PointsFailed as exc:
        print(f"sim staff: {exc}", file=sys.stderr)
        return 1
    frontier, chosen = result
    answer = result.answer
    out = publish(out, args.out) if out else None  # with --force: only now replaces what was there
    elapsed = time.perf_counter() - t0
    if args.json:
        print(json.dumps({"frontier": json.loads(frontier.to_json(orient="records")), "chosen": chosen,
                          "targets": args.target, "answer": answer.to_json() if answer else None},
                         ensure_ascii=False))
        return 0
    con = console()
    if answer is not None:
        con.print(f"[bold]{escape(answer.scenario)}: targets {', '.join(answer.targets)} on the 95% confidence bound, "
                  f"{answer.reps} replications, seed {answer.seed}[/bold]")
        for line in answer_lines(answer):
            style = "bold green" if line.startswith("Answer") else ("yellow" if line.startswith("Note") else "")
            con.print(f"[{style}]{escape(line)}[/{style}]" if style else escape(line))
    targets = {t.metric: t for t in (Target.parse(x) for x in args.target)}
    columns = list(frontier.columns)
    t = table(f"Staffing points explored ({len(frontier)}; cost in {frontier.attrs.get('cost_unit', 'yuan a year')})",
              [short_column(c) for c in columns], left=0, unbroken=columns.index("cost"))
    for row in frontier.itertuples(index=False):
        style = "bold green" if row.chosen else ("" if row.feasible else "dim")
        t.add_row(*[_cell(c, v, targets) for c, v in zip(columns, row)], style=style)
    con.print(t)
    if chosen is None:
        con.print("[red]no staffing in the ranges meets every target[/red]")
    con.print(f"[dim]{elapsed:.1f} s{'; written to ' + str(out) if out else ''}[/dim]")
    return 0 if chosen is not None else 1


def _cell(column: str, value: Any, targets: dict[str, Any]) -> str:
    """A frontier cell; a confidence bound with the digits that show which side of its target it is on."""
    from ..experiments.staffing_answer import bound_text

    metric, _, stat = column.rpartition(".")
    if stat in ("ci_low", "ci_high") and metric in targets and isinstance(value, float):
        return bound_text(value, targets[metric].value)
    if column == "cost" and isinstance(value, float) and value == value:
        return f"{value:,.0f}"
    return fmt(value)
