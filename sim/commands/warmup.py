"""`sim warmup`: suggest a warm-up period (MSER-5 on the daily backlog)."""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``warmup`` sub-command."""
    p = subparsers.add_parser("warmup", help="suggest a warm-up period (MSER-5 on the daily open-case backlog)")
    p.add_argument("scenario")
    p.add_argument("--reps", type=int, default=5, help="replications (default 5)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--horizon-days", type=float, default=None, help="simulated days (default: the scenario's)")
    p.add_argument("--window", type=int, default=7, help="half-width in days of Welch's moving average (default 7)")
    p.add_argument("--set", action="append", default=[], metavar="key.path=value")
    p.add_argument("--workers", type=int, default=1, help="worker processes, 0 = one per CPU core")
    p.add_argument("--executor", choices=["local", "dask"], default=None)
    p.add_argument("--scheduler", default=None, metavar="ADDRESS")
    p.add_argument("--plot", default=None, metavar="FILE.png", help="save the backlog and Welch's moving average")
    p.add_argument("--json", action="store_true")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_warmup)


def cmd_warmup(args: argparse.Namespace) -> int:
    """Print the suggested warm-up and the scenario's current one."""
    from ..cli import _console, _progress, load
    from ..experiments.output_analysis import suggest_warmup

    sc = load(args.scenario, args.set).scenario
    bar, advance = _progress(args.reps, f"{sc.name}: replications", enabled=not args.quiet and not args.json)
    with bar:
        res = suggest_warmup(sc, args.reps, args.seed, horizon_days=args.horizon_days, window=args.window,
                             workers=args.workers, progress=advance)
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(8, 4))
        ax.plot(res.series["day"], res.series["mean_open_cases"], lw=0.8, label="open cases (mean of replications)")
        ax.plot(res.series["day"], res.series["welch"], lw=2, label=f"Welch moving average (window {args.window})")
        ax.axvline(res.days, color="red", ls="--", label=f"MSER-5 warm-up: {res.days} days")
        ax.set_xlabel("day")
        ax.set_ylabel("open cases")
        ax.legend()
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
    doc = {"scenario": sc.name, "suggested_warmup_days": res.days, "method": "MSER-5 on the mean daily backlog",
           "per_replication_days": res.per_rep_days, "current_warmup_days": sc.warmup_days,
           "replications": res.reps, "horizon_days": res.horizon_days}
    if args.json:
        print(json.dumps(doc))
        return 0
    con = _console()
    con.print(f"[bold]{sc.name}[/bold]: suggested warm-up [bold]{res.days} days[/bold] (MSER-5 on the daily backlog, "
              f"mean of {res.reps} replications of {res.horizon_days:g} days); the scenario uses {sc.warmup_days:g}.")
    con.print(f"[dim]per replication: {', '.join(map(str, res.per_rep_days))} days"
              f"{'; plot: ' + args.plot if args.plot else ''}[/dim]")
    if len(res.series) < 20:
        con.print("[yellow]fewer than 20 days: MSER-5 needs at least 4 batches of 5 days; use a longer --horizon-days[/yellow]")
    elif res.days >= 0.45 * len(res.series):
        con.print("[yellow]the backlog has not settled within the horizon: the system may be unstable, "
                  "or the horizon is too short[/yellow]")
    return 0
