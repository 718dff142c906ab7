"""`sim plot RESULTS_DIR [--out DIR]`: the PNG figures of a results folder."""

from __future__ import annotations

import argparse
from typing import Any

from . import args as a


def add(sub: Any) -> None:
    p = sub.add_parser("plot", help="draw the figures (PNG) of a results folder from run, compare, sweep or staff")
    p.add_argument("results", metavar="RESULTS_DIR", help="folder written by sim run/compare/sweep/staff --out")
    p.add_argument("--out", type=a.path, default=None, metavar="DIR",
                   help="where to write the PNGs (default: RESULTS_DIR/plots)")
    p.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    """Draw the figures of a results folder and list the files written."""
    from ..results.figures import plot_folder

    files = plot_folder(args.results, args.out)  # NotResults: exit 2 with its message
    if not files:
        raise a.UsageError(f"nothing to plot in {args.results}")
    for f in files:
        print(f)
    return 0
