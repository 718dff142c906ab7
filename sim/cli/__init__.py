"""The `sim` command: parses arguments, calls the public API and prints.

Each command is a module of this package with ``add(subparsers)`` (its parser, with
``func=command``) and ``command(args) -> int``; :data:`COMMANDS` lists them in help order.
Arguments shared by several commands are declared once in :mod:`sim.cli.args`. Bad input
exits with status 2 and a message (file, key path, what was expected), never a traceback.
Heavy libraries are imported inside the commands, so ``sim --help`` is quick.
"""

from __future__ import annotations

import argparse
import os
import sys

from . import (
    analytic,
    app,
    calibrate,
    compare,
    describe,
    export,
    invocation,
    metrics,
    plot,
    report,
    reps,
    run,
    schema,
    sensitivity,
    staff,
    sweep,
    trace,
    validate,
    warmup,
)
from . import args as a
from .args import EXIT_BAD_INPUT, UsageError

COMMANDS = (run, compare, validate, describe, metrics, sweep, staff, sensitivity, reps, warmup, analytic, calibrate, plot,
            report, trace, export, schema, app)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sim", description="Simulate dispute handling and escalation in a "
                                                             "governance hierarchy.")
    parser.add_argument("--version", action="version", version="dispute-sim 0.1.0")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for cmd in COMMANDS:
        cmd.add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    refused = a.executor_problem(args) or a.run_size_problem(args)
    if refused is not None:
        print(f"sim: {refused}", file=sys.stderr)
        return EXIT_BAD_INPUT
    out = getattr(args, "out", None)
    out_existed = bool(out) and os.path.exists(out)
    try:
        if not out or args.command not in WRITERS:
            status = args.func(args)
        else:
            from ..results import output_lock

            with output_lock(out):  # one writer per folder; leftovers of killed runs beside it go
                status = args.func(args)
        invocation.record(args, sys.argv[1:] if argv is None else argv)
        return status
    except KeyboardInterrupt:
        print(_interrupted(args, out, out_existed), file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:
        return _failure(exc, out)


RESUMABLE = ("sweep", "staff", "sensitivity")
WRITERS = ("run", "compare", *RESUMABLE)  # the commands whose --out is a results folder


def _interrupted(args: argparse.Namespace, out: str | None, out_existed: bool) -> str:
    """What Ctrl-C left behind: nothing, the complete folder, or (resumable commands) the finished points."""
    if not out:
        return "sim: interrupted"
    if getattr(args, "out_written", False):
        return f"sim: interrupted after {out} was written completely"
    if args.command in RESUMABLE and not (out_existed and args.force):
        points = os.path.join(out, "points")
        from ..results.points import finished_points

        done = finished_points(points)
        return (f"sim: interrupted; the {done} finished point(s) are kept in {points}: run the same command "
                f"again to resume (the tables are written when every point is done)")
    kept = "the existing folder was left as it was" if out_existed else "nothing was written there"
    return f"sim: interrupted; results are written only when complete, so {out} was not written ({kept})"


def _failure(exc: Exception, out: str | None) -> int:
    """The exit status and message for an error a user can fix; anything else is a bug and propagates."""
    from ..results import NotResults, OutputExists

    if _is_scenario_error(exc):
        for p in exc.problems:  # type: ignore[attr-defined]
            print(p, file=sys.stderr)
        return EXIT_BAD_INPUT
    if isinstance(exc, (UsageError, OutputExists, NotResults, ValueError)):  # ValueError: the API refusing an argument
        print(f"sim: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if isinstance(exc, OSError):  # a results folder that cannot be written (permissions, full disk, ...)
        what = f"cannot write {out}: " if out else ""
        print(f"sim: {what}{exc.strerror or exc}{f' ({exc.filename})' if exc.filename else ''}", file=sys.stderr)
        return 1
    raise exc


def _is_scenario_error(exc: BaseException) -> bool:
    """A ScenarioError can only come from sim.scenario, so the (slow to import) module is consulted
    only when it is already loaded: ``sim metrics`` and ``sim --help`` never load it."""
    scenario = sys.modules.get("sim.scenario")
    return scenario is not None and isinstance(exc, scenario.ScenarioError)


__all__ = ["COMMANDS", "build_parser", "main"]
