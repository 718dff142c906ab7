"""`sim sweep`: the Cartesian product of settings as one tidy table, resumable."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from . import args as a
from .tables import console, hidden_note, progress, shown_metrics, sweep_table


def add(sub: Any) -> None:
    p = sub.add_parser(
        "sweep", help="run every combination of settings (a grid) with confidence intervals; resumable",
        description="Run the Cartesian product of --grid settings, each with the same seed and replications "
                    "(common random numbers). A task runs whole points (all their replications); every finished point is "
                    "written to OUT/points/<hash>.parquet as it arrives, so running the same command again after an "
                    "interruption resumes without redoing finished points; sweep.csv, sweep.parquet and manifest.json "
                    "are written when every point is done. With --scheduler the points run on a Dask cluster and "
                    "results still land in OUT on this machine (docs/staffing-search.md).")
    p.add_argument("scenario")
    p.add_argument("--grid", action="append", default=[], required=True, metavar="key.path=v1,v2,...",
                   help="a key path and its values (repeatable; values are YAML scalars)")
    p.add_argument("--points-per-task", type=a.count, default=None, metavar="N",
                   help="points run in each task (default: 1 on this machine; on Dask up to 8, at least 8 tasks "
                        "per worker); results do not depend on it")
    a.add_retries(p)
    a.add_experiment(p)
    a.add_metric_filter(p)
    p.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    """Run the sweep, print a table of the shown metrics, write OUT/sweep.csv, sweep.parquet and manifest.json."""
    from ..experiments.inputs import resolve_base
    from ..experiments.sweep import PointsFailed, grid_points, parse_grid, sweep
    from ..results import prepare_out, publish

    grid = parse_grid(args.grid)
    base = resolve_base(args.scenario, a.overrides(args))
    out = prepare_out(args.out, args.force, "sweep") if args.out else None
    points = grid_points(grid)
    bar, advance = progress(len(points), f"{base.scenario.name}: sweep points", enabled=not args.quiet)
    t0 = time.perf_counter()
    try:
        with bar:
            table = sweep(args.scenario, grid, args.reps, args.seed, out, args.workers, horizon_days=args.horizon_days,
                          overrides=a.overrides(args),
                          retries=args.retries, progress=advance, points_per_task=args.points_per_task,
                          **a.executor(args))
    except PointsFailed as exc:
        print(f"sim sweep: {exc}", file=sys.stderr)
        if out is not None and out == Path(args.out):  # not with --force over another folder: that work is discarded
            print(f"sim sweep: finished points are kept in {out}/points; run the same command again to retry", file=sys.stderr)
        return 1
    out = publish(out, args.out) if out else None  # with --force: only now replaces what was there
    elapsed = time.perf_counter() - t0
    if args.json:
        print(table.to_json(orient="records", force_ascii=False))
        return 0
    names = list(dict.fromkeys(table["metric"]))
    metrics = shown_metrics(names, args)
    con = console()
    fit = not (args.metrics or args.all)
    t, shown = sweep_table(f"{base.scenario.name}: {len(points)} points; mean ± half-width of the 95% CI", table,
                           list(grid), points, metrics, fit=fit)
    con.print(t)
    notes = [f"{elapsed:.1f} s", hidden_note(len(names), len(shown)), f"written to {out}" if out else ""]
    con.print(f"[dim]{'; '.join(n for n in notes if n)}[/dim]")
    return 0
