"""The `sim` command: a thin layer that parses arguments, calls the public API and prints.

Every sub-command is a function ``cmd_<name>(args) -> int`` registered in ``COMMANDS``.
Scenario problems exit with status 2 and a message (file, key path, what was expected),
never a traceback. Heavy libraries are imported inside the commands, so ``sim --help`` is quick.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, Callable

EXIT_BAD_INPUT = 2


# --------------------------------------------------------------------------- helpers
def _console(stderr: bool = False):
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    # Piped output (CI logs, files) gets a wide table rather than Rich's 80-column default.
    width = None if stream.isatty() else 200
    return Console(stderr=stderr, highlight=False, width=width)


def _progress(total: int, label: str, enabled: bool = True):
    """A rich progress bar on stderr (so --json output stays clean); returns (bar, advance)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   TextColumn("eta"), TimeRemainingColumn(), console=_console(stderr=True), transient=True,
                   disable=not enabled)
    task = bar.add_task(label, total=total)
    return bar, (lambda n=1: bar.advance(task, n))


def load(path: str, overrides: list[str] | None = None, allow_large: bool = False):
    """Load a scenario for a command (errors propagate as ScenarioError)."""
    from .scenario import load_scenario_full

    return load_scenario_full(path, overrides or [], allow_large=allow_large)


def fmt(x: Any, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and x != x):
        return "–"
    if isinstance(x, float):
        if abs(x) >= 1000:
            return f"{x:,.0f}"
        return f"{x:.{digits}g}" if abs(x) < 1 else f"{x:.{digits + 1}g}"
    return str(x)


def metrics_table(title: str, summary, columns: list[str] | None = None):
    from rich.table import Table

    t = Table(title=title, title_justify="left")
    t.add_column("metric")
    t.add_column("mean", justify="right")
    t.add_column("95% CI", justify="right")
    for row in summary.itertuples():
        if row.metric.startswith(("escalated_", "unstable")) and columns is None:
            continue
        t.add_row(row.metric, fmt(row.mean), f"{fmt(row.ci_low)} – {fmt(row.ci_high)}")
    return t


# --------------------------------------------------------------------------- commands
def cmd_validate(args: argparse.Namespace) -> int:
    """Check scenario files; print every problem of every file."""
    from .hierarchy import build_hierarchy
    from .scenario import ScenarioError

    bad = 0
    for path in args.files:
        try:
            loaded = load(path, args.set, args.allow_large)
            build_hierarchy(loaded.scenario, path)
            print(f"{path}: ok ({loaded.scenario.name})")
            warn_unstable(loaded.scenario, path)
        except ScenarioError as exc:
            bad += 1
            for p in exc.problems:
                print(p, file=sys.stderr)
    return EXIT_BAD_INPUT if bad else 0


def cmd_describe(args: argparse.Namespace) -> int:
    """The hierarchy, staff, arrivals, mix and rules of a scenario, each parameter with its source."""
    from rich.table import Table

    from .hierarchy import build_hierarchy
    from .provenance import parameter_table

    loaded = load(args.file, args.set, args.allow_large)
    sc = loaded.scenario
    h = build_hierarchy(sc, args.file)
    con = _console()
    con.print(f"[bold]{sc.name}[/bold] — {sc.title}")
    if sc.description:
        con.print(sc.description.strip())
    rate = sc.arrivals.rate_per_household_year * sc.households
    con.print(f"{sc.households:,} households; {rate:,.0f} cases a year ({rate / 365:.1f} a day); times in {sc.time_unit}")
    t = Table(title="Hierarchy (bottom to top)", title_justify="left")
    for col in ("level", "units", "role", "staff/unit", "roster", "queue", "ceiling", "deadline (days)"):
        t.add_column(col)
    for i, (name, lv) in enumerate(sc.levels.items()):
        role = sc.roles[lv.role]
        roster = role.roster if isinstance(role.roster, str) else f"{len(role.roster.shifts)} shifts"
        t.add_row(name, f"{h.counts[i]:,}", lv.role, str(role.staff_per_unit), roster, lv.queue, lv.ceiling or "any",
                  fmt(lv.deadline_days))
    con.print(t)
    mix = Table(title="Case mix", title_justify="left")
    mix.add_column("severity")
    mix.add_column("share", justify="right")
    for k, v in sc.arrivals.severity_mix.items():
        mix.add_row(k, f"{v:.0%}")
    con.print(mix)
    from .engine.mechanisms import describe as describe_mechanisms

    mech_rows = describe_mechanisms(sc)
    if mech_rows:
        mt = Table(title="Mechanisms", title_justify="left")
        for col in ("kind", "name", "at", "what"):
            mt.add_column(col)
        for row in mech_rows:
            mt.add_row(*row)
        con.print(mt)
    p = Table(title="Parameters and their sources", title_justify="left")
    p.add_column("parameter")
    p.add_column("value")
    p.add_column("source")
    for row in parameter_table(loaded.data):
        style = "yellow" if row["assumption"] else ("red" if row["source"] == "(no source given)" else "")
        p.add_row(row["parameter"], str(row["value"]), row["source"], style=style)
    con.print(p)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Run replications of one scenario and print (or write) the summary."""
    from .experiments.replicate import run
    from .hierarchy import build_hierarchy

    loaded = load(args.scenario, args.set, args.allow_large)
    sc = loaded.scenario
    build_hierarchy(sc, args.scenario)
    check_horizon(sc, args.horizon_days, args.scenario, args.reps, args.allow_large)
    reps = args.reps or sc.replications
    if args.out:
        _check_out(args.out, args.force)
    warn_unstable(sc, args.scenario)
    bar, advance = _progress(reps, f"{sc.name}: replications", enabled=not args.quiet)
    t0 = time.perf_counter()
    spool = _case_spool(args.out)  # case rows stream to disk, not memory, then into the folder
    try:
        with bar:
            result = run(sc, reps, args.seed, horizon_days=args.horizon_days, workers=args.workers,
                         record_cases=spool or False, progress=advance)
        elapsed = time.perf_counter() - t0
        doc = result.to_json()
        if args.out:
            from .results import write_run

            write_run(args.out, result, loaded, force=args.force, elapsed=elapsed)
            args.out_written = True
    finally:
        if spool:
            import shutil

            shutil.rmtree(spool, ignore_errors=True)
    report_unstable(result)
    if args.json:
        print(json.dumps(doc, ensure_ascii=False))
    else:
        con = _console()
        con.print(metrics_table(f"{sc.name}: {len(result.records)} replications of {result.horizon_days:g} days "
                                f"(warm-up {sc.warmup_days:g}), seed {result.seed}", result.summary))
        con.print(f"[dim]{elapsed:.1f} s{'; written to ' + args.out if args.out else ''}[/dim]")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """Scenarios side by side, with paired differences to the first (common random numbers)."""
    from rich.table import Table

    from .experiments.compare import check_distinct_names, compare
    from .hierarchy import build_hierarchy
    from .scenario import ScenarioError

    loaded, problems = [], []
    for p in args.scenarios:  # every problem of every file at once
        try:
            ld = load(p, args.set, args.allow_large)
            build_hierarchy(ld.scenario, p)
            check_horizon(ld.scenario, args.horizon_days, p, args.reps, args.allow_large)
            loaded.append(ld)
        except ScenarioError as exc:
            problems += exc.problems
    if problems:
        raise ScenarioError(problems)
    for p, ld in zip(args.scenarios, loaded):
        warn_unstable(ld.scenario, p)
    scenarios = [ld.scenario for ld in loaded]
    try:
        check_distinct_names([s.name for s in scenarios])
    except ValueError as exc:
        raise _UsageError(str(exc)) from None
    reps = args.reps or scenarios[0].replications
    if args.out:
        _check_out(args.out, args.force)
    bar, advance = _progress(reps * len(scenarios), "replications", enabled=not args.quiet)
    spool = _case_spool(args.out)
    try:
        with bar:
            res = compare(scenarios, reps, args.seed, horizon_days=args.horizon_days, workers=args.workers,
                          record_cases=spool or False, progress=advance)
        if args.out:
            from .results import write_compare

            write_compare(args.out, res, loaded, force=args.force)
            args.out_written = True
    finally:
        if spool:
            import shutil

            shutil.rmtree(spool, ignore_errors=True)
    for r in res.results:
        report_unstable(r)
    if args.json:
        print(json.dumps(res.to_json(), ensure_ascii=False))
        return 0
    table = res.table()
    names = res.names
    t = Table(title=f"{' vs '.join(names)}: {reps} replications each, common random numbers (seed {res.results[0].seed})",
              title_justify="left")
    t.add_column("metric")
    for i, n in enumerate(names):
        t.add_column(f"{n}\nmean [95% CI]", justify="right")
        if i:
            t.add_column(f"{n} − {names[0]}\npaired diff [95% CI]", justify="right")
    wide = table.set_index(["metric", "scenario"])
    for metric in dict.fromkeys(table["metric"]):
        if metric.startswith(("escalated_", "unstable")):
            continue
        cells = []
        for i, n in enumerate(names):
            try:
                r = wide.loc[(metric, n)]
            except KeyError:
                cells += ["–"] + (["–"] if i else [])
                continue
            cells.append(f"{fmt(r['mean'])} [{fmt(r['ci_low'])}, {fmt(r['ci_high'])}]")
            if i:
                mark = " *" if r["significant"] else ""
                cells.append(f"{fmt(r['diff'])} [{fmt(r['diff_ci_low'])}, {fmt(r['diff_ci_high'])}]{mark}")
        t.add_row(metric, *cells)
    con = _console()
    con.print(t)
    con.print("[dim]* the paired 95% interval excludes zero. Shares are of closed cases (settled or unresolved); "
              "days are from arrival to settlement; wait is for a handler at each level.[/dim]")
    return 0


def warn_unstable(scenario, file: str) -> list[str]:
    """Print the analytic utilisation warnings (sim.stability) to stderr before a run."""
    from .stability import estimate, warnings

    lines = warnings(estimate(scenario))
    for line in lines:
        print(f"{file}: warning: {line}", file=sys.stderr)
    return lines


def report_unstable(result) -> str | None:
    """Say on stderr which replications stopped at max_open_cases, where and when."""
    stopped = [r for r in result.records if r.metrics.get("unstable")]
    if not stopped:
        return None
    levels = ", ".join(sorted({r.unstable_level for r in stopped if r.unstable_level})) or "?"
    days = [len(r.backlog) - 1 for r in stopped]
    when = f"day {min(days)}" if min(days) == max(days) else f"days {min(days)}-{max(days)}"
    msg = (f"unstable: arrival rate exceeds capacity at level {levels}: {len(stopped)} of {len(result.records)} "
           f"replications stopped at {when} when {result.scenario.max_open_cases:,} cases were open (max_open_cases); "
           f"their figures cover only the time before")
    print(f"sim: {result.scenario.name}: {msg}", file=sys.stderr)
    return msg


def _positive_int(text: str) -> int:
    value = _parse(text, int, "a whole number")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number greater than 0, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    value = _parse(text, int, "a whole number")
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 0, got {value}")
    return value


def _positive_float(text: str) -> float:
    value = _parse(text, float, "a number")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number greater than 0, got {text}")
    return value


def _parse(text: str, kind: type, words: str):
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {words}, got {text!r}") from None


def check_horizon(scenario, horizon_days: float | None, file: str, reps: int | None = None, allow_large: bool = False) -> None:
    """--horizon-days must leave time after the scenario's warm-up; --reps and --horizon-days
    must keep the run to a size that can finish (sim.scenario.limits) unless --allow-large."""
    from .scenario import Problem, ScenarioError
    from .scenario.limits import run_size_problems

    if horizon_days is not None and horizon_days <= scenario.warmup_days:
        raise ScenarioError([Problem(file, "--horizon-days", f"{horizon_days:g} days is not longer than the scenario's "
                                                             f"warmup_days ({scenario.warmup_days:g})")])
    if reps or horizon_days:
        too_large = run_size_problems(scenario, reps, horizon_days, allow_large)
        if too_large:
            raise ScenarioError([Problem(file, key, message) for key, message in too_large])


def _case_spool(out: str | None) -> str | None:
    """A temporary folder beside --out for the per-case rows of a run (None without --out)."""
    if not out:
        return None
    import tempfile
    from pathlib import Path

    parent = Path(out).resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    return tempfile.mkdtemp(prefix=f".{Path(out).name}.cases.", dir=parent)


def _check_out(out: str, force: bool) -> None:
    from pathlib import Path

    if Path(out).exists() and not force:
        raise _UsageError(f"{out} already exists; pass --force to replace it")


class _UsageError(Exception):
    pass


def _run_size_options(args: argparse.Namespace) -> str | None:
    """--reps and --horizon-days past the run-size limits, whatever the scenario (every command)."""
    from .scenario.limits import MAX_HORIZON_DAYS, MAX_REPLICATIONS

    if getattr(args, "allow_large", False):
        return None
    reps, horizon = getattr(args, "reps", None), getattr(args, "horizon_days", None)
    if isinstance(reps, int) and reps > MAX_REPLICATIONS:
        return f"--reps: {reps:,} replications is more than {MAX_REPLICATIONS:,}; pass --allow-large if you really mean it"
    if isinstance(horizon, float) and horizon > MAX_HORIZON_DAYS:
        return (f"--horizon-days: {horizon:g} days is more than {MAX_HORIZON_DAYS:,.0f} days (a hundred years); "
                f"pass --allow-large if you really mean it")
    return None


# --------------------------------------------------------------------------- parser
def _common_run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--reps", type=_positive_int, default=None, help="replications (default: the scenario's)")
    p.add_argument("--seed", type=_non_negative_int, default=None, help="random seed (default: the scenario's)")
    p.add_argument("--horizon-days", type=_positive_float, default=None, help="simulated days (default: the scenario's)")
    p.add_argument("--set", action="append", default=[], metavar="key.path=value", help="override a scenario key")
    p.add_argument("--workers", type=int, default=1,
                   help="worker processes, 0 = one per CPU core (results do not depend on it)")
    p.add_argument("--executor", choices=["local", "dask"], default=None,
                   help="where replications run: a local process pool (default) or Dask")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="Dask scheduler address (implies --executor dask; without it dask starts a LocalCluster)")
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    p.add_argument("--out", default=None, metavar="DIR", help="write results to this folder")
    p.add_argument("--force", action="store_true", help="replace an existing --out folder")
    p.add_argument("--max-open-cases", type=_positive_int, default=None, metavar="N",
                   help="stop a replication as unstable when N cases are open (default: the scenario's max_open_cases)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _allow_large_arg(p)


def _allow_large_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--allow-large", action="store_true",
                   help="lift the run-size limits (horizon, replications, expected cases) for a run that truly needs it")


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sim", description="Simulate dispute handling and escalation in a governance hierarchy.")
    parser.add_argument("--version", action="version", version="dispute-sim 0.1.0")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("run", help="run replications of a scenario")
    p.add_argument("scenario")
    _common_run_args(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("compare", help="compare scenarios with paired differences (common random numbers)")
    p.add_argument("scenarios", nargs="+")
    _common_run_args(p)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("validate", help="check scenario files")
    p.add_argument("files", nargs="+")
    p.add_argument("--set", action="append", default=[], metavar="key.path=value")
    _allow_large_arg(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("describe", help="show a scenario's hierarchy, staff and the source of every parameter")
    p.add_argument("file")
    p.add_argument("--set", action="append", default=[], metavar="key.path=value")
    _allow_large_arg(p)
    p.set_defaults(func=cmd_describe)

    for register in EXTRA_COMMANDS:
        register(sub)
    return parser


# Other modules add sub-commands here: each entry takes the subparsers object and adds its parser
# (with set_defaults(func=...)). Keeping them in their own modules keeps this file small.
EXTRA_COMMANDS: list[Callable[[Any], None]] = []


def _register_extras() -> None:
    import importlib

    for mod in ("sim.commands",):
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name != mod:
                raise


def main(argv: list[str] | None = None) -> int:
    _register_extras()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    from .scenario.loader import ScenarioError

    from .experiments.executors import set_default

    try:
        set_default(getattr(args, "executor", None), getattr(args, "scheduler", None))  # --executor/--scheduler
    except ValueError as exc:
        print(f"sim: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if (too_large := _run_size_options(args)) is not None:
        print(f"sim: {too_large}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if getattr(args, "max_open_cases", None) is not None:
        args.set = [*args.set, f"max_open_cases={args.max_open_cases}"]
    from .io import OutputExists

    out = getattr(args, "out", None)
    out_existed = bool(out) and __import__("os").path.exists(out)
    try:
        return args.func(args)
    except ScenarioError as exc:
        for p in exc.problems:
            print(p, file=sys.stderr)
        return EXIT_BAD_INPUT
    except (_UsageError, OutputExists) as exc:
        print(f"sim: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        if not out:
            print("sim: interrupted", file=sys.stderr)
        elif getattr(args, "out_written", False):
            print(f"sim: interrupted after {out} was written completely", file=sys.stderr)
        else:
            kept = "the existing folder was left as it was" if out_existed else "nothing was written there"
            print(f"sim: interrupted; results are written only when complete, so {out} was not written ({kept})",
                  file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as exc:  # a results folder that cannot be written (permissions, full disk, ...)
        what = f"cannot write {out}: " if out else ""
        print(f"sim: {what}{exc.strerror or exc}{f' ({exc.filename})' if exc.filename else ''}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
