"""`sim sensitivity`: which parameters drive which outputs (Morris or Sobol with SALib)."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from ..format import fmt
from . import args as a
from .scenarios import load
from .tables import console, progress, table


def add(sub: Any) -> None:
    p = sub.add_parser(
        "sensitivity", help="global sensitivity analysis of scenario parameters (SALib Morris or Sobol)",
        description="Vary parameters over ranges with a SALib design, run every point with the same seed "
                    "(common random numbers) and report Morris mu*/sigma or Sobol S1/ST with 95% confidence. "
                    "Every finished point is stored in OUT/points, so rerunning the same command resumes.")
    p.add_argument("scenario")
    p.add_argument("--param", action="append", default=[], metavar="key.path=low..high",
                   help="a parameter and its range (without '=low..high': the source's range or +-50%%)")
    p.add_argument("--assumptions", action="store_true",
                   help="vary every numeric parameter whose source is an assumption (mix shares excluded)")
    p.add_argument("--spread", type=a.positive, default=0.5,
                   help="default range: base value +- this share (default 0.5)")
    p.add_argument("--metric", action="append", default=[], metavar="M",
                   help="output metric (repeatable; default days_to_settle.mean)")
    p.add_argument("--method", choices=("morris", "sobol"), default="morris")
    p.add_argument("--samples", type=a.count, default=None,
                   help="Morris trajectories (default 10) or Sobol base samples N, ideally a power of 2 (default 64)")
    p.add_argument("--levels", type=a.count, default=4, help="Morris grid levels (even; default 4)")
    a.add_reps(p, what="replications per point")
    a.add_seed(p)
    a.add_horizon(p)
    a.add_overrides(p)
    a.add_workers(p)
    a.add_out(p, help="results folder (table, JSON, plot, points); rerunning with the same DIR resumes",
              force_help="start again in an --out folder that holds other results")
    a.add_output(p)
    p.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    """Run the study, print the ranking table and (with --out) write table, JSON, plot and manifest."""
    from ..experiments.sensitivity import (
        DEFAULT_SAMPLES,
        choose_factors,
        design,
        point_keys,
        run_sensitivity,
    )
    from ..experiments.sweep import PointsFailed
    from ..results import prepare_out, publish, write_sensitivity

    loaded = load(args.scenario, args.set, args.allow_large)
    factors, skipped = choose_factors(loaded.data, args.param, args.assumptions, args.spread)
    if not factors:
        raise a.UsageError("nothing to vary: give --param key.path=low..high or --assumptions")
    metrics = args.metric or ["days_to_settle.mean"]
    reps = args.reps or loaded.scenario.replications
    seed = loaded.scenario.seed if args.seed is None else args.seed
    samples = args.samples or DEFAULT_SAMPLES[args.method]
    out = prepare_out(args.out, args.force, "sensitivity") if args.out else None
    if out is not None:
        (out / "points").mkdir(parents=True, exist_ok=True)
    X = design(factors, args.method, samples, seed, args.levels)
    distinct = len(set(point_keys(loaded.data, factors, X)))
    bar, advance = progress(distinct, f"{loaded.scenario.name}: {distinct} points x {reps} reps", enabled=not args.quiet)
    t0 = time.perf_counter()
    try:
        with bar:
            res = run_sensitivity(loaded.data, factors, metrics, method=args.method, samples=samples, reps=reps,
                                  seed=seed, horizon_days=args.horizon_days, workers=args.workers, out=out,
                                  progress=advance, levels=args.levels, skipped=skipped, **a.executor(args))
    except PointsFailed as exc:
        print(f"sim sensitivity: {exc}", file=sys.stderr)
        if out is not None and out == Path(args.out):  # not with --force over another folder: that work is discarded
            print(f"sim sensitivity: finished points are kept in {out}/points; run the same command again to retry",
                  file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        if out is None or out != Path(args.out):
            raise
        print(f"sim sensitivity: interrupted; finished points are kept in {out}/points: run the same command again "
              "to resume", file=sys.stderr)
        return 130
    elapsed = time.perf_counter() - t0
    if out is not None:
        command_line = "sim " + " ".join(shlex.quote(x) for x in sys.argv[1:]) if sys.argv[1:] else None
        write_sensitivity(out, res, loaded, elapsed=elapsed, command=command_line)
        out = publish(out, args.out)  # with --force: only now replaces what was there
    if args.json:
        print(json.dumps(res.to_json(), ensure_ascii=False))
        return 0
    con = console()
    cols = ["mu_star", "mu_star_conf", "sigma", "mu"] if res.method == "morris" else ["S1", "S1_conf", "ST", "ST_conf"]
    rng = {f.path: f"{fmt(f.low)}..{fmt(f.high)}" for f in res.factors}
    for m in res.metrics:
        t = table(f"{res.scenario}: {res.method} sensitivity of {m} ({len(X)} points x {reps} replications, "
                  f"{res.horizon_days:g} days, seed {seed})", ["rank", "parameter", "range", *cols], left=3)
        for r in res.table[res.table["metric"] == m].to_dict("records"):
            t.add_row(str(r["rank"]), r["parameter"], rng[r["parameter"]], *(fmt(float(r[c])) for c in cols))
        con.print(t)
    if skipped:
        con.print(f"[dim]{len(skipped)} assumed parameter(s) not varied: " +
                  "; ".join(f"{p} ({why})" for p, why in skipped[:8]) + (" ..." if len(skipped) > 8 else "") + "[/dim]")
    note = ("mu* = mean absolute elementary effect (change of the metric across the whole range); conf = 95% bootstrap "
            "half-width") if res.method == "morris" else "S1 first order, ST total order; conf = 95% bootstrap half-width"
    con.print(f"[dim]{note}. {elapsed:.1f} s{'; written to ' + str(out) if out else ''}[/dim]")
    return 0
