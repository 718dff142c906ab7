"""`sim plot RESULTS_DIR [--out DIR]`: the PNG figures of a results folder.

Recognises folders written by `sim run --out` (manifest kind "run"), `sim compare --out`
(kind "compare", one sub-folder per scenario) and sweep folders (``sweep.csv`` or
``sweep.parquet`` in the agreed tidy format; a ``frontier.csv``/``.parquet`` next to it is
drawn too). Figures go to ``RESULTS_DIR/plots`` unless ``--out`` says otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

DPI = 150


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("plot", help="draw the figures (PNG) of a results folder from run, compare or sweep")
    p.add_argument("results", metavar="RESULTS_DIR", help="folder written by sim run/compare/sweep --out")
    p.add_argument("--out", default=None, metavar="DIR", help="where to write the PNGs (default: RESULTS_DIR/plots)")
    p.set_defaults(func=cmd_plot)


class _NotResults(Exception):
    pass


def _read_table(folder: Path, stem: str):
    """A table stored as <stem>.parquet or <stem>.csv (or .csv.gz); None if absent."""
    import pandas as pd

    for suffix, reader in ((".parquet", pd.read_parquet), (".csv", pd.read_csv), (".csv.gz", pd.read_csv)):
        f = folder / f"{stem}{suffix}"
        if f.exists():
            return reader(f)
    return None


def _first_target(root: Path, frontier) -> tuple[str | None, float | None]:
    """The first target of a `sim staff` folder (chosen.json: "metric>=value"), if its metric is in the table."""
    import re

    f = root / "chosen.json"
    if not f.exists():
        return None, None
    for text in json.loads(f.read_text(encoding="utf-8")).get("targets", []):
        m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(>=|<=)\s*([-+0-9.eE]+)\s*$", str(text))
        if m and f"{m.group(1)}.mean" in frontier.columns:
            return m.group(1), float(m.group(3))
    return None, None


def _scenario_of(folder: Path):
    """The scenario a run folder was made from (its manifest holds the resolved mapping), or None."""
    from ..scenario.loader import validate_data

    m = folder / "manifest.json"
    if not m.exists():
        return None
    data = json.loads(m.read_text(encoding="utf-8")).get("scenario")
    return validate_data(data, str(m)) if isinstance(data, dict) else None


def _run_folders(root: Path) -> list[tuple[str, Path]]:
    """(scenario name, folder) of every run in a run or compare results folder."""
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("kind") == "compare":
        return [(name, root / name) for name in manifest.get("scenarios", [])]
    name = (manifest.get("scenario") or {}).get("name") or root.name
    return [(name, root)]


def plot_folder(root: Path, out: Path) -> list[Path]:
    """Write every figure that the folder's tables allow; return the files written."""
    from .. import plots
    from ..hierarchy import build_hierarchy

    written: list[Path] = []

    def save(fig, name: str) -> None:
        out.mkdir(parents=True, exist_ok=True)
        path = out / name
        tmp = out / f".{name}.tmp.png"
        fig.savefig(tmp, dpi=DPI, bbox_inches="tight")
        tmp.replace(path)
        written.append(path)

    sweep = _read_table(root, "sweep")
    frontier = _read_table(root, "frontier")
    if sweep is not None:
        if any(str(m).startswith("utilisation.") for m in sweep["metric"]):
            save(plots.utilisation_vs_staff(sweep), "utilisation.png")
        service = [m for m in ("within_target_share", "within_ceiling_share", "days_to_settle.p90", "unresolved_share")
                   if m in set(sweep["metric"])]
        if service:
            save(plots.metric_vs_parameter(sweep, service, title="Service against the varied parameters"), "service.png")
    if frontier is not None:
        metric, target = _first_target(root, frontier)
        save(plots.staffing_frontier(frontier, metric=metric, target=target), "frontier.png")
    if (root / "manifest.json").exists() and json.loads((root / "manifest.json").read_text(encoding="utf-8")).get(
            "kind") in ("run", "compare"):
        runs = _run_folders(root)
        reps, backlog, cases, targets, warmup, mechanisms = {}, {}, {}, {}, {}, {}
        scenarios = {}
        for name, folder in runs:
            sc = _scenario_of(folder)
            scenarios[name] = sc
            r = _read_table(folder, "replications")
            if r is not None:
                reps[name] = r
            b = _read_table(folder, "backlog")
            if b is not None:
                backlog[name] = b
            c = _read_table(folder, "cases")
            cases[name] = c if c is not None else r
            if sc is not None:
                targets[name] = plots.target_lines(sc)
                warmup[name] = sc.warmup_days
                mechanisms.update(plots.mechanism_levels(sc))
        if reps:
            save(plots.settlement_funnel(reps, mechanisms=mechanisms), "funnel.png")
        if any(v is not None for v in cases.values()):
            save(plots.time_to_settlement({k: v for k, v in cases.items() if v is not None}, target_days=targets,
                                          warmup_days=warmup), "time_to_settlement.png")
        if backlog:
            save(plots.backlog_over_time(backlog, warmup_days=warmup), "backlog.png")
        for name, sc in scenarios.items():
            if sc is not None:
                fname = "hierarchy.png" if len(runs) == 1 else f"hierarchy_{name}.png"
                save(plots.hierarchy(build_hierarchy(sc), mechanisms=plots.mechanism_levels(sc),
                                     title=f"{sc.title or name}: governance hierarchy"), fname)
    if not written and sweep is None and frontier is None and not (root / "manifest.json").exists():
        raise _NotResults(f"{root} is not a results folder (no manifest.json from sim run/compare, no sweep table)")
    return written


def cmd_plot(args: argparse.Namespace) -> int:
    """Draw the figures of a results folder and list the files written."""
    root = Path(args.results)
    if not root.is_dir():
        print(f"sim: {root} is not a folder", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else root / "plots"
    try:
        files = plot_folder(root, out)
    except _NotResults as exc:
        print(f"sim: {exc}", file=sys.stderr)
        return 2
    if not files:
        print(f"sim: nothing to plot in {root}", file=sys.stderr)
        return 2
    for f in files:
        print(f)
    return 0
