"""`sim compare`: scenarios side by side, with paired differences to the first (common random numbers)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from . import args as a
from .scenarios import load_checked, say_unstable
from .tables import console, hidden_note, progress, shown_metrics, wide_table


def add(sub: Any) -> None:
    p = sub.add_parser("compare", help="compare scenarios with paired differences (common random numbers)")
    p.add_argument("scenarios", nargs="+")
    a.add_experiment(p)
    a.add_metric_filter(p)
    p.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    from rich.markup import escape

    from ..experiments.compare import check_distinct_names, compare, wide

    loaded = load_checked(args.scenarios, a.overrides(args), args.horizon_days, args.reps, args.allow_large)
    try:
        check_distinct_names([ld.scenario.name for ld in loaded])
    except ValueError as exc:
        raise a.UsageError(str(exc)) from None
    reps = args.reps or loaded[0].scenario.replications
    bar, advance = progress(reps * len(loaded), "replications", enabled=not args.quiet)
    with bar:
        res = compare(loaded, reps, args.seed, horizon_days=args.horizon_days, workers=args.workers, progress=advance,
                      out=args.out, force=args.force, **a.executor(args))
    args.out_written = bool(args.out)
    for r in res.results:
        say_unstable(r)
    if args.json:
        print(json.dumps(res.to_json(), ensure_ascii=False))
        return 0
    long = res.table()
    names = list(dict.fromkeys(long["metric"]))
    metrics = shown_metrics(names, args)
    con = console()
    con.print(wide_table(f"{' vs '.join(res.names)}: {reps} replications each, common random numbers "
                         f"(seed {res.results[0].seed})",
                         wide(long, metrics, labels=True)))
    notes = [f"mean [95% CI]; difference to {res.names[0]} paired by replication, * when its 95% interval excludes zero",
             hidden_note(len(names), len(metrics)), f"written to {args.out}" if args.out else ""]
    con.print(f"[dim]{'; '.join(n for n in notes if n)}[/dim]")
    if res.differences:
        con.print("[bold yellow]† Not like for like: the metrics marked † are defined differently in these "
                  "scenarios, so their differences are not only differences in performance:[/bold yellow]")
        for d in res.differences:
            con.print(f"[yellow]  † {escape(d.text())}[/yellow]")
    return 0

