"""`sim report`: a STRESS-DES study report (Markdown or self-contained HTML) for a results folder."""

from __future__ import annotations

import argparse
from typing import Any

from . import args as a


def add(sub: Any) -> None:
    p = sub.add_parser(
        "report", help="write a study report (STRESS-DES) for a run, compare, sweep or sensitivity folder",
        description="Objectives, model, every parameter with its source, experiment, outputs and how their confidence "
                    "intervals are computed, results, figures and the manifest needed to rerun. HTML embeds its figures.")
    p.add_argument("results_dir")
    p.add_argument("--format", choices=("md", "html"), default="html", help="md (figures as PNG files beside it) or html")
    p.add_argument("--out", type=a.path, default=None, metavar="FILE",
                   help="where to write (default RESULTS_DIR/report.md|html)")
    p.add_argument("--objective", default=None, help="a sentence stating the study's objective, put first in the report")
    p.add_argument("--no-figures", action="store_true", help="tables and text only (quicker)")
    p.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    """Build the report and say where it was written."""
    from ..report import write_report

    try:
        path = write_report(args.results_dir, args.format, args.out, args.objective, figures=not args.no_figures)
    except FileNotFoundError as exc:
        raise a.UsageError(str(exc)) from None
    print(path)
    return 0
