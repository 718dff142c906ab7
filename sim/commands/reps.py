"""`sim reps`: how many replications a metric needs for a relative confidence half-width."""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``reps`` sub-command."""
    p = subparsers.add_parser("reps", help="replications needed for a relative CI half-width (sequential method)")
    p.add_argument("scenario")
    p.add_argument("--metric", required=True, help="e.g. days_to_settle.mean")
    p.add_argument("--precision", type=float, default=0.05, help="relative half-width of the 95%% CI (default 0.05)")
    p.add_argument("--initial", type=int, default=5, help="replications before the first check (default 5)")
    p.add_argument("--look-ahead", type=int, default=5, help="replications the precision must hold for (default 5)")
    p.add_argument("--max-reps", type=int, default=200, help="budget (default 200)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--horizon-days", type=float, default=None)
    p.add_argument("--set", action="append", default=[], metavar="key.path=value")
    p.add_argument("--workers", type=int, default=1, help="worker processes, 0 = one per CPU core")
    p.add_argument("--executor", choices=["local", "dask"], default=None)
    p.add_argument("--scheduler", default=None, metavar="ADDRESS")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_reps)


def cmd_reps(args: argparse.Namespace) -> int:
    """Run replications until the precision is reached and held (Hoad, Robinson & Davies, via sim-tools)."""
    from ..cli import _UsageError, _console, fmt, load
    from ..experiments.output_analysis import scenario_replications_needed

    sc = load(args.scenario, args.set).scenario
    try:
        res = scenario_replications_needed(sc, args.metric, args.precision, args.seed, horizon_days=args.horizon_days,
                                           initial=args.initial, look_ahead=args.look_ahead, budget=args.max_reps,
                                           workers=args.workers)
    except KeyError as exc:
        raise _UsageError(str(exc.args[0])) from None
    last = res.table.iloc[-1]
    doc = {"scenario": sc.name, "metric": args.metric, "precision": args.precision, "replications": res.replications,
           "replications_run": res.runs, "mean": float(last["Cumulative Mean"]),
           "relative_half_width": None if last["% deviation"] != last["% deviation"] else float(last["% deviation"])}
    if args.json:
        print(json.dumps(doc))
        return 0 if res.replications else 1
    con = _console()
    if res.replications is None:
        con.print(f"[red]{args.metric}: precision {args.precision:g} not reached within {args.max_reps} replications "
                  f"(relative half-width {fmt(doc['relative_half_width'])} after {res.runs})[/red]")
        return 1
    con.print(f"[bold]{sc.name}[/bold]: {args.metric} needs [bold]{res.replications} replications[/bold] for a 95% "
              f"confidence half-width within {args.precision:.0%} of the mean (held for {args.look_ahead} more; "
              f"mean {fmt(doc['mean'])}, {res.runs} replications run).")
    return 0
