"""`sim validate`: check scenario files and print every problem of every file."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from . import args as a


def add(sub: Any) -> None:
    p = sub.add_parser("validate", help="check scenario files")
    p.add_argument("files", nargs="+")
    a.add_overrides(p)
    p.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    from ..experiments.inputs import validate
    from ..scenario import ScenarioError

    bad = 0
    for path in args.files:
        try:
            loaded, warnings = validate(path, args.set, args.allow_large)
            print(f"{path}: ok ({loaded.scenario.name})")
            for line in warnings:
                print(f"{path}: warning: {line}", file=sys.stderr)
        except ScenarioError as exc:
            bad += 1
            for p in exc.problems:
                print(p, file=sys.stderr)
    return a.EXIT_BAD_INPUT if bad else 0
