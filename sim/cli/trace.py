"""`sim trace`: one case's path through the hierarchy, as a readable timeline."""

from __future__ import annotations

import argparse
from typing import Any

from . import args as a


def add(sub: Any) -> None:
    p = sub.add_parser("trace", help="print one case's path (levels and mechanisms visited) from a results folder")
    p.add_argument("folder", type=a.path, help="a run results folder (for a compare folder: its scenario's sub-folder)")
    p.add_argument("case_id", type=a.non_negative, help="the case's id (column case_id of cases.csv.gz)")
    p.add_argument("--rep", type=a.non_negative, default=0, help="the replication (default 0)")
    p.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    from ..trace import timeline

    try:
        text = timeline(args.folder, args.case_id, args.rep)
    except FileNotFoundError as exc:
        raise a.UsageError(f"{args.folder}: no case table there ({exc.filename or exc}); run with --out first") from None
    except KeyError as exc:
        raise a.UsageError(str(exc.args[0])) from None
    print(text)
    return 0
