"""`sim sweep`: the Cartesian product of settings as one tidy table, resumable."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``sweep`` sub-command."""
    from ..cli import _common_run_args

    p = subparsers.add_parser(
        "sweep", help="run every combination of settings (a grid) with confidence intervals; resumable",
        description="Run the Cartesian product of --grid settings, each with the same seed and replications "
                    "(common random numbers). Every finished point is kept in OUT/points, so running the same "
                    "command again after an interruption resumes without redoing finished points.")
    p.add_argument("scenario")
    p.add_argument("--grid", action="append", default=[], required=True, metavar="key.path=v1,v2,...",
                   help="a key path and its values (repeatable; values are YAML scalars)")
    p.add_argument("--retries", type=int, default=2, help="retries of a task whose worker process died (default 2)")
    _common_run_args(p)
    p.set_defaults(func=cmd_sweep)


def prepare_out(out: str, force: bool, kind: str) -> Path:
    """A results folder that a rerun resumes; another kind of folder is replaced only with --force."""
    from ..cli import _UsageError

    path = Path(out)
    if path.exists():
        ours = (path / "points").is_dir() or _kind(path) == kind
        if force:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        elif not ours:
            raise _UsageError(f"{out} exists and is not a {kind} folder; pass --force to replace it")
    return path


def _kind(path: Path) -> str | None:
    try:
        return json.loads((path / "manifest.json").read_text()).get("kind")
    except (OSError, ValueError, AttributeError):
        return None


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run the sweep, print a compact table, write OUT/sweep.csv, sweep.parquet and manifest.json."""
    from ..cli import _console, _progress, fmt
    from ..experiments.sweep import PointsFailed, grid_points, parse_grid, resolve_base, sweep

    grid = parse_grid(args.grid)
    base = resolve_base(args.scenario, args.set)
    out = prepare_out(args.out, args.force, "sweep") if args.out else None
    n = len(grid_points(grid))
    bar, advance = _progress(n, f"{base.scenario.name}: sweep points", enabled=not args.quiet)
    t0 = time.perf_counter()
    try:
        with bar:
            table = sweep(args.scenario, grid, args.reps, args.seed, out, args.workers,
                          horizon_days=args.horizon_days, overrides=args.set, retries=args.retries, progress=advance)
    except PointsFailed as exc:
        print(f"sim sweep: {exc}", file=sys.stderr)
        if out:
            print(f"sim sweep: finished points are kept in {out}/points; run the same command again to retry", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - t0
    if args.json:
        print(table.to_json(orient="records", force_ascii=False))
        return 0
    from rich.table import Table

    keys = list(grid)
    t = Table(title=f"{base.scenario.name}: {n} points", title_justify="left")
    for k in keys:
        t.add_column(k)
    shown = [m for m in dict.fromkeys(table["metric"]) if not m.startswith(("escalated_", "unstable", "utilisation"))][:6]
    for m in shown:
        t.add_column(f"{m}\nmean [95% CI]", justify="right")
    wide = table.set_index([*keys, "metric"])
    for point in grid_points(grid):
        cells = []
        for m in shown:
            r = wide.loc[(*point.values(), m)]
            cells.append(f"{fmt(r['mean'])} [{fmt(r['ci_low'])}, {fmt(r['ci_high'])}]")
        t.add_row(*[str(v) for v in point.values()], *cells)
    con = _console()
    con.print(t)
    con.print(f"[dim]{elapsed:.1f} s{'; written to ' + str(out) if out else ''}[/dim]")
    return 0
