"""`sim warmup`: suggest a warm-up period (MSER-5 on the daily backlog)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from . import args as a
from .scenarios import load
from .tables import console, progress


def add(sub: Any) -> None:
    p = sub.add_parser("warmup", help="suggest a warm-up period (MSER-5 on the daily open-case backlog)")
    p.add_argument("scenario")
    a.add_reps(p, default=5)
    a.add_seed(p)
    a.add_horizon(p)
    p.add_argument("--window", type=a.count, default=7, help="half-width in days of Welch's moving average (default 7)")
    a.add_overrides(p)
    a.add_workers(p)
    p.add_argument("--plot", type=a.path, default=None, metavar="FILE.png",
                   help="save the backlog and Welch's moving average")
    a.add_output(p)
    p.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    """Print the suggested warm-up and the scenario's current one."""
    from ..experiments.output_analysis import suggest_warmup, warmup_figure

    sc = load(args.scenario, args.set, args.allow_large).scenario
    bar, advance = progress(args.reps, f"{sc.name}: replications", enabled=not args.quiet and not args.json)
    with bar:
        res = suggest_warmup(sc, args.reps, args.seed, horizon_days=args.horizon_days, window=args.window,
                             workers=args.workers, progress=advance, **a.executor(args))
    if args.plot:
        warmup_figure(res, args.plot)
    if args.json:
        print(json.dumps(res.to_json(sc)))
        return 0
    con = console()
    con.print(f"[bold]{sc.name}[/bold]: suggested warm-up [bold]{res.days} days[/bold] (MSER-5 on the daily backlog, "
              f"mean of {res.reps} replications of {res.horizon_days:g} days); the scenario uses {sc.warmup_days:g}.")
    con.print(f"[dim]per replication: {', '.join(map(str, res.per_rep_days))} days"
              f"{'; plot: ' + args.plot if args.plot else ''}[/dim]")
    if res.too_short:
        con.print("[yellow]fewer than 20 days: MSER-5 needs at least 4 batches of 5 days; use a longer --horizon-days[/yellow]")
    elif res.unsettled:
        con.print("[yellow]the backlog has not settled within the horizon: the system may be unstable, "
                  "or the horizon is too short[/yellow]")
    return 0
