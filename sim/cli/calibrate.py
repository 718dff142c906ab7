"""`sim calibrate`: a scenario against published figures; calibrates assumed values or checks the fit."""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import Any

from . import args as a
from .tables import console, progress, table

TABLE_START = "<!-- calibration table: sim calibrate --check --table FILE scenarios/*.yaml -->"
TABLE_END = "<!-- end of calibration table -->"


def add(sub: Any) -> None:
    p = sub.add_parser(
        "calibrate", help="fit assumed values to published figures (targets file), or --check the fit",
        description="Compare a scenario with the targets that apply to it (a targets file such as "
                    "scenarios/targets/published.yaml) and, with --vary, calibrate assumed values within bounds "
                    "(SciPy's bounded Powell method; every candidate runs the same seeds). Cited values are never "
                    "varied. Evaluated points are kept in OUT/points: rerunning resumes. --check exits 1 naming "
                    "each missed target, 0 when all are met.")
    p.add_argument("scenarios", nargs="+", metavar="scenario", help="scenario file (several with --check)")
    p.add_argument("--targets", type=a.path, default=None, metavar="FILE",
                   help="targets file (default: scenarios/targets/published.yaml)")
    p.add_argument("--vary", action="append", default=[], metavar="key.path=LO..HI",
                   help="an assumed value to calibrate and its bounds (repeatable)")
    p.add_argument("--skip", action="append", default=[], metavar="TARGET",
                   help="leave this applicable target out of the fit (repeatable); it is still reported")
    p.add_argument("--trials", type=a.count, default=12, help="at most this many new candidates (default 12)")
    p.add_argument("--check", action="store_true", help="only compare with the targets; exit 1 if any is missed")
    p.add_argument("--table", nargs="?", const="-", default=None, metavar="FILE",
                   help="with --check: a markdown table scenario x target on stdout, or written into FILE "
                        "between its calibration-table markers")
    a.add_reps(p)
    a.add_seed(p)
    a.add_horizon(p)
    a.add_overrides(p)
    a.add_out(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    if args.check or args.table:
        return _check(args)
    if len(args.scenarios) != 1:
        raise a.UsageError("calibrate one scenario at a time (several only with --check)")
    if not args.vary:
        raise a.UsageError("give --vary key.path=LO..HI (or --check)")
    return _calibrate(args)


def _check(args: argparse.Namespace) -> int:
    from ..experiments.calibrate import check, markdown_table

    checks = [check(f, args.targets, reps=args.reps, seed=args.seed, horizon_days=args.horizon_days,
                    overrides=a.overrides(args)) for f in args.scenarios]
    status = 0
    for c in checks:
        for r in c.missed:
            why = c.departures.get(r["target"])
            print(f"{c.scenario}: missed {r['target']}: {r['metric']} = {r['achieved']:.4g}, band "
                  f"[{r['band_low']:g}, {r['band_high']:g}]" + (f" (departs: {why})" if why else " (not explained)"),
                  file=sys.stderr)
            status = 1
    if args.table:
        text = markdown_table(checks)
        if args.table == "-":
            print(text)
        else:
            _write_between_markers(args.table, text)
    else:
        con = console()
        for c in checks:
            t = table(f"{c.scenario}: fit to published figures", ["target", "metric", "band", "achieved [95% CI]", "met"], 2)
            for r in c.rows:
                t.add_row(r["target"], r["metric"], f"{r['band_low']:g}..{r['band_high']:g}", _achieved(r),
                          "yes" if r["met"] else "NO")
            con.print(t)
    return status


def _calibrate(args: argparse.Namespace) -> int:
    from ..experiments.calibrate import calibrate, objective, parse_vary
    from ..experiments.inputs import resolve_base
    from ..results import prepare_out, write_calibration

    vary = parse_vary(args.vary)
    file = args.scenarios[0]
    out = prepare_out(args.out, args.force, "calibration") if args.out else None
    bar, advance = progress(args.trials, f"calibrating {file}", enabled=not args.quiet)
    with bar:
        result = calibrate(file, vary, targets=args.targets, trials=args.trials, reps=args.reps, seed=args.seed,
                           horizon_days=args.horizon_days, out=out, progress=advance, overrides=a.overrides(args),
                           skip=args.skip)
    con = console()
    t = table(f"{result.scenario}: fit before and after ({result.evaluations} new candidates, {result.reused} reused, "
              f"{result.seconds:.0f} s)", ["target", "band", "before", "after", "met"], 1)
    for b, r in zip(result.before, result.after):
        t.add_row(r["target"], f"{r['band_low']:g}..{r['band_high']:g}", _achieved(b), _achieved(r),
                  "yes" if r["met"] else "NO")
    con.print(t)
    con.print("values: " + ", ".join(f"{k} {result.start[k]:g} -> {result.best[k]:g}" for k in result.best))
    fitted = set(result.target_ids)  # without the --skip targets
    con.print(f"objective {objective([r for r in result.before if r['target'] in fitted]):.4g} -> "
              f"{objective([r for r in result.after if r['target'] in fitted]):.4g}")
    if out is not None:
        command = _command_line(args)
        base = resolve_base(file, a.overrides(args))
        write_calibration(out, result, base, result.overlay(file, out, command))
        args.out_written = True
        con.print(f"[dim]written to {out}[/dim]")
    return 0


def _command_line(args: argparse.Namespace) -> str:
    """The command that reproduces this calibration (recorded in the overlay's sources)."""
    parts = ["sim", "calibrate", args.scenarios[0]] + [f"--vary={v}" for v in args.vary] + [f"--skip={t}" for t in args.skip]
    parts += [f"--trials={args.trials}"]
    parts += [f"--{k.replace('_', '-')}={v}" for k, v in (("targets", args.targets), ("reps", args.reps), ("seed", args.seed),
                                                          ("horizon_days", args.horizon_days)) if v is not None]
    parts += [f"--set={s}" for s in a.overrides(args)]
    return " ".join(shlex.quote(str(p)) for p in parts)


def _achieved(r: dict[str, Any]) -> str:
    from ..format import fmt

    text = fmt(r["achieved"])
    if r["ci_low"] == r["ci_low"] and r["ci_low"] != r["ci_high"]:
        text += f" [{fmt(r['ci_low'])}, {fmt(r['ci_high'])}]"
    return text


def _write_between_markers(path: str, text: str) -> None:
    from pathlib import Path

    from ..results import atomic_write_text

    doc = Path(path).read_text(encoding="utf-8")
    head, sep, rest = doc.partition(TABLE_START)
    _, sep2, tail = rest.partition(TABLE_END)
    if not sep or not sep2:
        raise a.UsageError(f"{path} has no calibration-table markers ({TABLE_START} ... {TABLE_END})")
    atomic_write_text(Path(path), f"{head}{TABLE_START}\n{text}\n{TABLE_END}{tail}")
