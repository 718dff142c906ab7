"""`sim reps`: how many replications a metric needs for a relative confidence half-width."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..format import fmt
from . import args as a
from .scenarios import load
from .tables import console


def add(sub: Any) -> None:
    p = sub.add_parser("reps", help="replications needed for a relative CI half-width (sequential method)")
    p.add_argument("scenario")
    p.add_argument("--metric", required=True, help="e.g. days_to_settle.mean")
    p.add_argument("--precision", type=a.positive, default=0.05,
                   help="relative half-width of the 95%% CI (default 0.05)")
    p.add_argument("--initial", type=a.count, default=5, help="replications before the first check (default 5)")
    p.add_argument("--look-ahead", type=a.count, default=5, help="replications the precision must hold for (default 5)")
    p.add_argument("--max-reps", type=a.count, default=200, help="budget (default 200)")
    a.add_seed(p)
    a.add_horizon(p)
    a.add_overrides(p)
    a.add_workers(p)
    a.add_output(p, progress=False)
    p.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    """Run replications until the precision is reached and held (Hoad, Robinson & Davies, via sim-tools)."""
    from ..experiments.output_analysis import scenario_replications_needed

    sc = load(args.scenario, args.set, args.allow_large).scenario
    try:
        res = scenario_replications_needed(sc, args.metric, args.precision, args.seed, horizon_days=args.horizon_days,
                                           initial=args.initial, look_ahead=args.look_ahead, budget=args.max_reps,
                                           workers=args.workers, **a.executor(args))
    except KeyError as exc:
        raise a.UsageError(str(exc.args[0])) from None
    doc = res.to_json(sc.name)
    if args.json:
        print(json.dumps(doc))
        return 0 if res.replications else 1
    con = console()
    if res.replications is None:
        con.print(f"[red]{args.metric}: precision {args.precision:g} not reached within {args.max_reps} replications "
                  f"(relative half-width {fmt(doc['relative_half_width'])} after {res.runs})[/red]")
        return 1
    con.print(f"[bold]{sc.name}[/bold]: {args.metric} needs [bold]{res.replications} replications[/bold] for a 95% "
              f"confidence half-width within {args.precision:.0%} of the mean (held for {args.look_ahead} more; "
              f"mean {fmt(doc['mean'])}, {res.runs} replications run).")
    return 0
