"""`sim metrics [SCENARIO]`: the metric catalogue, or the metrics one scenario produces."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .. import catalogue
from . import args as a
from .tables import console, table


def add(sub: Any) -> None:
    p = sub.add_parser("metrics", help="list the metrics: pattern, unit, bounds, headline, meaning",
                       description="Without a scenario, every metric pattern of the catalogue (<level> and the like "
                                   "stand for names from a scenario). With one, the concrete metrics it produces "
                                   "(from a one-day replication after its warm-up).")
    p.add_argument("scenario", nargs="?", default=None)
    a.add_overrides(p)
    p.add_argument("--headline", action="store_true", help="only the headline metrics (shown by default in tables)")
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    p.set_defaults(func=command)


def _bounds(lo: float | None, hi: float | None) -> str:
    if lo is None and hi is None:
        return ""
    return f"{'' if lo is None else f'{lo:g}'}..{'' if hi is None else f'{hi:g}'}"


def rows(names: list[str] | None) -> list[dict[str, Any]]:
    """One row per catalogue entry (names None) or per concrete metric name."""
    if names is None:
        return [{"metric": e.pattern, "short": e.short or e.pattern, "unit": e.unit, "lower": e.lower, "upper": e.upper,
                 "headline": e.headline, "meaning": e.meaning.replace("{name}", f"<{e.placeholder}>")}
                for e in catalogue.METRICS]
    out = []
    for n in names:
        i = catalogue.info(n) if catalogue.known(n) else None
        lo, hi = catalogue.bounds(n)
        out.append({"metric": n, "short": catalogue.short_label(n), "unit": i.unit if i else "", "lower": lo, "upper": hi,
                    "headline": catalogue.is_headline(n), "meaning": i.meaning if i else "(not in the catalogue)"})
    return out


def command(args: argparse.Namespace) -> int:
    names = None
    title = "Metric catalogue (* headline: shown in tables by default; <level> etc. stand for scenario names)"
    if args.scenario:
        from ..experiments.replicate import metric_names
        from .scenarios import load

        loaded = load(args.scenario, args.set, args.allow_large)
        names = metric_names(loaded.scenario)
        title = f"{loaded.scenario.name}: {len(names)} metrics (* headline: shown in tables by default)"
    found = [r for r in rows(names) if r["headline"] or not args.headline]
    if args.json:
        print(json.dumps(found, ensure_ascii=False))
        return 0
    t = table(title, ["metric", "unit", "bounds", "*", "meaning"], left=5)
    t.columns[1].max_width = 16
    for r in found:
        t.add_row(r["metric"], r["unit"], _bounds(r["lower"], r["upper"]), "*" if r["headline"] else "",
                  r["meaning"])
    console().print(t)
    return 0
