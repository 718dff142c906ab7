"""`sim sensitivity`: which parameters drive which outputs (Morris or Sobol with SALib)."""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import sys
import time
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``sensitivity`` sub-command."""
    p = subparsers.add_parser(
        "sensitivity", help="global sensitivity analysis of scenario parameters (SALib Morris or Sobol)",
        description="Vary parameters over ranges with a SALib design, run every point with the same seed "
                    "(common random numbers) and report Morris mu*/sigma or Sobol S1/ST with 95% confidence. "
                    "Every finished point is stored in OUT/points, so rerunning the same command resumes.")
    p.add_argument("scenario")
    p.add_argument("--param", action="append", default=[], metavar="key.path=low..high",
                   help="a parameter and its range (without '=low..high': the source's range or +-50%%)")
    p.add_argument("--assumptions", action="store_true",
                   help="vary every numeric parameter whose source is an assumption (mix shares excluded)")
    p.add_argument("--spread", type=float, default=0.5, help="default range: base value +- this share (default 0.5)")
    p.add_argument("--metric", action="append", default=[], metavar="M", help="output metric (repeatable; default days_to_settle.mean)")
    p.add_argument("--method", choices=("morris", "sobol"), default="morris")
    p.add_argument("--samples", type=int, default=None,
                   help="Morris trajectories (default 10) or Sobol base samples N, ideally a power of 2 (default 64)")
    p.add_argument("--levels", type=int, default=4, help="Morris grid levels (even; default 4)")
    p.add_argument("--reps", type=int, default=None, help="replications per point (default: the scenario's)")
    p.add_argument("--seed", type=int, default=None, help="seed of the design and of every point (default: the scenario's)")
    p.add_argument("--horizon-days", type=float, default=None, help="simulated days per replication (default: the scenario's)")
    p.add_argument("--set", action="append", default=[], metavar="key.path=value", help="override a scenario key first")
    p.add_argument("--workers", type=int, default=1, help="worker processes, 0 = one per core (results do not depend on it)")
    p.add_argument("--executor", choices=["local", "dask"], default=None,
                   help="where points run: a local process pool (default) or Dask")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS", help="Dask scheduler address (implies --executor dask)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="results folder (table, JSON, plot, points); rerunning with the same DIR resumes")
    p.add_argument("--force", action="store_true", help="start again in an --out folder that holds other results")
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_sensitivity)


def _prepare_out(out: str, force: bool) -> Path:
    """The output folder: resumable if it is a sensitivity folder, else replaced only with --force."""
    from ..cli import _UsageError

    path = Path(out)
    if path.exists():
        is_ours = (path / "points").is_dir() or _kind(path) == "sensitivity"
        if force:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        elif not is_ours:
            raise _UsageError(f"{out} exists and is not a sensitivity folder; pass --force to replace it")
    (path / "points").mkdir(parents=True, exist_ok=True)
    return path


def _kind(path: Path) -> str | None:
    try:
        return json.loads((path / "manifest.json").read_text(encoding="utf-8")).get("kind")
    except (OSError, ValueError):
        return None


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """Run the study, print the ranking table and (with --out) write table, JSON, plot and manifest."""
    from rich.table import Table

    from ..cli import _console, _progress, _UsageError, fmt, load
    from ..experiments.sweep import PointsFailed
    from ..experiments.sensitivity import (DEFAULT_SAMPLES, assumption_factors, design, parse_param, point_keys,
                                           run_sensitivity)

    loaded = load(args.scenario, args.set)
    data = loaded.data
    factors, skipped = [], []
    if args.assumptions:
        factors, skipped = assumption_factors(data, args.spread)
    explicit = [parse_param(p, data) for p in args.param]
    by_path = {f.path: f for f in factors}
    by_path.update({f.path: f for f in explicit})  # an explicit --param overrides the assumption's range
    factors = list(by_path.values())
    if not factors:
        raise _UsageError("nothing to vary: give --param key.path=low..high or --assumptions")
    metrics = args.metric or ["days_to_settle.mean"]
    reps = args.reps or loaded.scenario.replications
    seed = loaded.scenario.seed if args.seed is None else args.seed
    samples = args.samples or DEFAULT_SAMPLES[args.method]
    out = _prepare_out(args.out, args.force) if args.out else None
    X = design(factors, args.method, samples, seed, args.levels)
    n_points = len(X)
    distinct = len(set(point_keys(data, factors, X)))
    bar, advance = _progress(distinct, f"{loaded.scenario.name}: {distinct} points x {reps} reps", enabled=not args.quiet)
    t0 = time.perf_counter()
    try:
        with bar:
            res = run_sensitivity(data, factors, metrics, method=args.method, samples=samples, reps=reps, seed=seed,
                                  horizon_days=args.horizon_days, workers=args.workers,
                                  out=out, progress=advance, levels=args.levels, skipped=skipped)
    except PointsFailed as exc:
        print(f"sim sensitivity: {exc}", file=sys.stderr)
        if out:
            print(f"sim sensitivity: finished points are kept in {out}/points; run the same command again to retry",
                  file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        if not out:
            raise
        print(f"sim sensitivity: interrupted; finished points are kept in {out}/points: run the same command again "
              "to resume", file=sys.stderr)
        return 130
    except ValueError as exc:
        raise _UsageError(str(exc)) from None
    elapsed = time.perf_counter() - t0
    if out is not None:
        from ..experiments.sensitivity import write_sensitivity

        command = "sim " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:] else None
        write_sensitivity(out, res, loaded, elapsed=elapsed, command=command)
    if args.json:
        print(json.dumps(res.to_json(), ensure_ascii=False))
        return 0
    con = _console()
    cols = ["mu_star", "mu_star_conf", "sigma", "mu"] if res.method == "morris" else ["S1", "S1_conf", "ST", "ST_conf"]
    for m in res.metrics:
        t = Table(title=f"{res.scenario}: {res.method} sensitivity of {m} ({n_points} points x {reps} replications, "
                        f"{res.horizon_days:g} days, seed {seed})", title_justify="left")
        for c in ["rank", "parameter", "range", *cols]:
            t.add_column(c, justify="left" if c in ("parameter", "range") else "right")
        rng = {f.path: f"{fmt(f.low)}..{fmt(f.high)}" for f in res.factors}
        for r in res.table[res.table["metric"] == m].to_dict("records"):
            t.add_row(str(r["rank"]), r["parameter"], rng[r["parameter"]], *(fmt(float(r[c])) for c in cols))
        con.print(t)
    if skipped:
        con.print(f"[dim]{len(skipped)} assumed parameter(s) not varied: " +
                  "; ".join(f"{p} ({why})" for p, why in skipped[:8]) + (" ..." if len(skipped) > 8 else "") + "[/dim]")
    note = "mu* = mean absolute elementary effect (change of the metric across the whole range); conf = 95% bootstrap half-width" \
        if res.method == "morris" else "S1 first order, ST total order; conf = 95% bootstrap half-width"
    con.print(f"[dim]{note}. {elapsed:.1f} s{'; written to ' + str(out) if out else ''}[/dim]")
    return 0
