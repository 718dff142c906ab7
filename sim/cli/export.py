"""`sim export DIR --xlsx [FILE]`: a results folder as one Excel workbook."""

from __future__ import annotations

import argparse
from typing import Any

from . import args as a


def add(sub: Any) -> None:
    p = sub.add_parser("export", help="write a results folder's tables as one Excel workbook")
    p.add_argument("folder", type=a.path, help="a results folder of sim run/compare/sweep/staff/sensitivity")
    p.add_argument("--xlsx", nargs="?", const="", default=None, metavar="FILE",
                   help="write the workbook (default FILE: FOLDER/results.xlsx)")
    p.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    from ..results.excel import write_workbook
    from .args import UsageError

    if args.xlsx is None:
        raise UsageError("say what to export: --xlsx [FILE]")
    path = write_workbook(args.folder, args.xlsx or None)
    print(f"wrote {path}")
    return 0
