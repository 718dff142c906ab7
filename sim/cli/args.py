"""Arguments shared by several commands, declared once and validated the same way everywhere.

A value that breaks a rule (a negative seed, zero replications, an empty --out) is refused by
argparse with exit status 2 and a message naming the option, before any work starts.
"""

from __future__ import annotations

import argparse
import math
from typing import Any, Callable

EXIT_BAD_INPUT = 2


class UsageError(Exception):
    """A command cannot go on with the arguments it was given (exit 2, message, no traceback)."""


def _number(kind: type, words: str, ok: Callable[[Any], bool], rule: str) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {words}, got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"expected {rule}, got {text}")
        return value

    return parse


seed = _number(int, "a whole number", lambda v: v >= 0, "a whole number of at least 0")
count = _number(int, "a whole number", lambda v: v >= 1, "a number greater than 0")
non_negative = _number(int, "a whole number", lambda v: v >= 0, "a whole number of at least 0")
positive = _number(float, "a number", lambda v: 0 < v < math.inf, "a number greater than 0")


def path(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a path, got an empty string")
    return text


def add_overrides(p: argparse.ArgumentParser) -> None:
    """--set, and --allow-large: every command that loads a scenario takes both."""
    p.add_argument("--set", action="append", default=[], metavar="key.path=value", help="override a scenario key")
    p.add_argument("--allow-large", action="store_true",
                   help="lift the run-size limits (horizon, replications, expected cases) for a run that truly needs it")


def add_reps(p: argparse.ArgumentParser, default: int | None = None, what: str = "replications") -> None:
    shown = "the scenario's" if default is None else str(default)
    p.add_argument("--reps", type=count, default=default, help=f"{what} (default: {shown})")


def add_seed(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=seed, default=None, help="random seed, at least 0 (default: the scenario's)")


def add_horizon(p: argparse.ArgumentParser) -> None:
    p.add_argument("--horizon-days", type=positive, default=None, help="simulated days (default: the scenario's)")


def add_workers(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=non_negative, default=1,
                   help="worker processes, 0 = one per CPU core (results do not depend on it)")
    p.add_argument("--executor", choices=["local", "dask"], default=None,
                   help="where replications run: a local process pool (default) or Dask")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="Dask scheduler address (implies --executor dask; without it dask starts a LocalCluster)")


def add_retries(p: argparse.ArgumentParser) -> None:
    p.add_argument("--retries", type=non_negative, default=2, help="retries of a task whose worker process died (default 2)")


def add_out(p: argparse.ArgumentParser, help: str = "write results to this folder",
            force_help: str = "replace an existing --out folder") -> None:
    p.add_argument("--out", type=path, default=None, metavar="DIR", help=help)
    p.add_argument("--force", action="store_true", help=force_help)


def add_output(p: argparse.ArgumentParser, progress: bool = True) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    if progress:
        p.add_argument("--quiet", action="store_true", help="no progress bar")


def add_metric_filter(p: argparse.ArgumentParser) -> None:
    p.add_argument("--metrics", action="append", default=[], metavar="PATTERN",
                   help="show metrics matching a shell-style pattern, e.g. 'settled_share.*' (repeatable; "
                        "default: the headline metrics)")
    p.add_argument("--all", action="store_true", help="show every metric")


def add_experiment(p: argparse.ArgumentParser) -> None:
    """The options of every command that runs replications of a scenario and can write a folder."""
    add_reps(p)
    add_seed(p)
    add_horizon(p)
    add_overrides(p)
    add_workers(p)
    add_output(p)
    add_out(p)
    p.add_argument("--max-open-cases", type=count, default=None, metavar="N",
                   help="stop a replication as unstable when N cases are open (default: the scenario's max_open_cases)")


def executor_problem(args: argparse.Namespace) -> str | None:
    """A --scheduler address that cannot be right, or --executor local with --scheduler (checked before any work:
    Dask raises tracebacks on malformed addresses and waits 30 s on bad ports)."""
    scheduler = getattr(args, "scheduler", None)
    if scheduler is None:
        return None
    from ..experiments.executors import SchedulerAddressError, check_scheduler_address

    try:
        check_scheduler_address(scheduler)
    except SchedulerAddressError as exc:
        return str(exc)
    if getattr(args, "executor", None) == "local":
        return ("--executor local runs on this machine and cannot use --scheduler; "
                "use --executor dask (or leave --executor out)")
    return None


def run_size_problem(args: argparse.Namespace) -> str | None:
    """--reps or --horizon-days past the run-size limits, whatever the scenario (checked before any work)."""
    reps, horizon = getattr(args, "reps", None), getattr(args, "horizon_days", None)
    if getattr(args, "allow_large", False) or (reps is None and horizon is None):
        return None
    from ..scenario.limits import MAX_HORIZON_DAYS, MAX_REPLICATIONS

    if isinstance(reps, int) and reps > MAX_REPLICATIONS:
        return f"--reps: {reps:,} replications is more than {MAX_REPLICATIONS:,}; pass --allow-large if you really mean it"
    if isinstance(horizon, float) and horizon > MAX_HORIZON_DAYS:
        return (f"--horizon-days: {horizon:g} days is more than {MAX_HORIZON_DAYS:,.0f} days (a hundred years); "
                f"pass --allow-large if you really mean it")
    return None


def overrides(args: argparse.Namespace) -> list[str]:
    """--set, with --max-open-cases as one more override."""
    extra = [f"max_open_cases={args.max_open_cases}"] if getattr(args, "max_open_cases", None) is not None else []
    return [*args.set, *extra]


def executor(args: argparse.Namespace) -> dict[str, Any]:
    """executor= and scheduler= for an experiment, from --executor and --scheduler."""
    return {"executor": args.executor, "scheduler": args.scheduler}
