"""How a results folder was made: the command line and the `--set` overrides, added to its manifest."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Sequence

from . import args as a


def scenario_files(args: argparse.Namespace) -> list[str]:
    """The scenario files a command was given (one for most commands, several for compare)."""
    files = getattr(args, "scenarios", None) or [getattr(args, "scenario", None) or getattr(args, "file", None)]
    return [str(f) for f in files if f]


def record(args: argparse.Namespace, argv: Sequence[str]) -> None:
    """Write the command line and the overrides (with the values they replaced) into the manifest of
    the folder a command wrote (``--out``), and into its runs' manifests for a comparison."""
    from ..provenance import invocation, override_records, record_invocation

    out = getattr(args, "out", None)
    if not out or not os.path.isfile(os.path.join(out, "manifest.json")) or not hasattr(args, "set"):
        return
    overrides = a.overrides(args)
    files = scenario_files(args)
    record_invocation(out, invocation(argv, override_records(files[0] if files else None, overrides)))
    if len(files) > 1:  # each run of a comparison: the values its own file had
        for f in files:
            from ..scenario import load_scenario_full

            try:
                name = load_scenario_full(f, overrides).scenario.name
            except Exception:
                continue
            sub = Path(out) / name
            if (sub / "manifest.json").is_file():
                record_invocation(sub, invocation(argv, override_records(f, overrides)))
