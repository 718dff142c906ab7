"""`sim analytic`: exact queueing theory for a Jackson scenario, beside a simulation of it.

Refuses (exit 2) a scenario that is not a Jackson network, saying why for each key.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from typing import Any

from ..format import fmt
from . import args as a
from .scenarios import load
from .tables import console, progress


def add(sub: Any) -> None:
    p = sub.add_parser("analytic", help="steady-state queueing theory of a Jackson scenario beside a simulation")
    p.add_argument("scenario")
    a.add_reps(p)
    a.add_seed(p)
    a.add_horizon(p)
    a.add_overrides(p)
    a.add_workers(p)
    p.add_argument("--no-sim", action="store_true", help="print the theory only")
    a.add_output(p)
    p.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    """Print the theory per level and for the system, then theory vs simulation per metric."""
    from ..analytic import analyse, compare_with_simulation

    sc = load(args.scenario, args.set, args.allow_large).scenario
    theory = analyse(sc, args.scenario)  # NotJacksonError is a ScenarioError: exit 2 with the reasons
    rows: list[dict[str, Any]] = []
    result = None
    elapsed = 0.0
    if not args.no_sim:
        from ..experiments.replicate import run

        reps = args.reps or sc.replications
        bar, advance = progress(reps, f"{sc.name}: replications", enabled=not (args.quiet or args.json))
        t0 = time.perf_counter()
        with bar:
            result = run(sc, reps, args.seed, horizon_days=args.horizon_days, workers=args.workers, progress=advance,
                         **a.executor(args))
        elapsed = time.perf_counter() - t0
        rows = compare_with_simulation(theory, result.summary)
    if args.json:
        doc = {"scenario": sc.name,
               "theory": {"arrival_rate_per_hour": theory.arrival_rate,
                          "mean_time_in_system_hours": theory.mean_time_in_system,
                          "mean_time_to_settle_hours": theory.mean_time_to_settle,
                          "mean_open_cases": theory.mean_in_system,
                          "unresolved_share": theory.unresolved_share,
                          "levels": [asdict(lv) for lv in theory.levels],
                          "metrics": theory.metrics()},
               "simulation": None if result is None else {"replications": len(result.records), "seed": result.seed,
                                                          "horizon_days": result.horizon_days,
                                                          "warmup_days": sc.warmup_days},
               "comparison": rows}
        print(json.dumps(_clean(doc), ensure_ascii=False))
        return 0
    from rich.table import Table

    con = console()
    con.print(f"[bold]{sc.name}[/bold]: a Jackson network; arrivals {theory.arrival_rate:.4g} an hour")
    t = Table(title="Steady state by level (M/M/c stations; per-unit figures weighted by arrivals)", title_justify="left")
    for col in ("level", "stations", "handlers each", "arrivals/h", "utilisation", "P(wait)", "wait h", "time at level h",
                "settled here"):
        t.add_column(col, justify="left" if col == "level" else "right")
    for lv in theory.levels:
        t.add_row(lv.level, str(lv.stations), str(lv.servers), fmt(lv.arrival_rate, 4), fmt(lv.utilisation, 4),
                  fmt(lv.p_wait, 4), fmt(lv.mean_wait, 4), fmt(lv.mean_time, 4), f"{lv.settled_share:.1%}")
    con.print(t)
    con.print(f"mean time from arrival to leaving: {theory.mean_time_in_system:.4g} hours "
              f"({theory.mean_time_in_system / 24:.4g} days); mean open cases {theory.mean_in_system:.4g}; "
              f"unresolved {theory.unresolved_share:.1%}")
    if result is None:
        return 0
    c = Table(title=f"Theory vs simulation: {len(result.records)} replications of {result.horizon_days:g} days "
                    f"(warm-up {sc.warmup_days:g}), seed {result.seed}", title_justify="left")
    for col in ("metric", "theory", "simulation", "95% CI", "± % of mean", "theory in CI"):
        c.add_column(col, justify="left" if col == "metric" else "right")
    for r in rows:
        mark = "–" if r["inside"] is None else ("yes" if r["inside"] else "[red]no[/red]")
        c.add_row(r["metric"], fmt(r["theory"], 4), fmt(r["mean"], 4), f"{fmt(r['ci_low'], 4)} – {fmt(r['ci_high'], 4)}",
                  f"{r['rel_half_width']:.1%}" if r["rel_half_width"] == r["rel_half_width"] else "–", mark)
    con.print(c)
    con.print(f"[dim]{elapsed:.1f} s. About 1 in 20 metrics falls outside its 95% interval by chance; a metric far "
              "outside a tight interval points to a bug or a warm-up that is too short.[/dim]")
    return 0


def _clean(x: Any) -> Any:
    """NaN -> None, recursively, so that the document is valid JSON."""
    if isinstance(x, float):
        return None if x != x else x
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_clean(v) for v in x]
    return x
