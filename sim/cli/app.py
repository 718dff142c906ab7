"""`sim app`: the planners' web app on this computer (127.0.0.1 only)."""

from __future__ import annotations

import argparse
from typing import Any

from . import args as a


def add(sub: Any) -> None:
    p = sub.add_parser("app", help="open the planners' web app (pick, change, run, compare, download)")
    p.add_argument("--port", type=a.count, default=5006, help="local port (default 5006)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser window")
    p.add_argument("--results", type=a.path, default=None,
                   help="folder for the app's results folders (default: a new temporary folder)")
    p.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..app.server import serve

    serve(args.port, not args.no_browser, Path(args.results) if args.results else None)
    return 0
