"""`sim run`: replications of one scenario, their summary and (with --out) a results folder."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from . import args as a
from .scenarios import load_checked, say_unstable
from .tables import console, hidden_note, progress, shown_metrics, summary_table


def add(sub: Any) -> None:
    p = sub.add_parser("run", help="run replications of a scenario")
    p.add_argument("scenario")
    a.add_experiment(p)
    a.add_metric_filter(p)
    p.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    from ..experiments.replicate import run

    (loaded,) = load_checked([args.scenario], a.overrides(args), args.horizon_days, args.reps, args.allow_large)
    sc = loaded.scenario
    reps = args.reps or sc.replications
    bar, advance = progress(reps, f"{sc.name}: replications", enabled=not args.quiet)
    t0 = time.perf_counter()
    with bar:
        result = run(loaded, reps, args.seed, horizon_days=args.horizon_days, workers=args.workers, progress=advance,
                     out=args.out, force=args.force, **a.executor(args))
    args.out_written = bool(args.out)
    elapsed = time.perf_counter() - t0
    say_unstable(result)
    if args.json:
        from ..provenance import override_records

        doc = {**result.to_json(), "overrides": override_records(args.scenario, a.overrides(args))}
        print(json.dumps(doc, ensure_ascii=False))
        return 0
    names = list(result.summary["metric"])
    metrics = shown_metrics(names, args)
    con = console()
    con.print(summary_table(f"{sc.name}: {len(result.records)} replications of {result.horizon_days:g} days "
                            f"(warm-up {sc.warmup_days:g}), seed {result.seed}", result.summary, metrics))
    notes = [f"{elapsed:.1f} s", hidden_note(len(names), len(metrics)), f"written to {args.out}" if args.out else ""]
    con.print(f"[dim]{'; '.join(n for n in notes if n)}[/dim]")
    return 0
