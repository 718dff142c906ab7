"""Writers of every kind of results folder: run, compare, sweep, staff, sensitivity and calibration.

Each folder holds a ``manifest.json`` stating its ``kind`` and ``format_version`` and what is
needed to rerun it (the scenario as resolved, its hash, seed, replications, versions). A run
or compare folder is built in a temporary place and renamed into position when complete;
sweep, staff and sensitivity folders are resumable (``points/``) and each file in them is
written atomically.
"""

from __future__ import annotations

import json
import platform
import shutil
import sys
from pathlib import Path
from typing import Any, Mapping

from .atomic import (
    OutputExists,
    atomic_dir,
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
)

FORMAT_VERSION = 1
KINDS = ("run", "compare", "sweep", "staff", "sensitivity", "calibration")


def package_versions() -> dict[str, str]:
    """Python, platform and the versions of the packages a result depends on."""
    from importlib import metadata

    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for pkg in ("dispute-sim", "simpy", "numpy", "scipy", "pandas", "networkx", "pydantic", "PyYAML"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def manifest(kind: str, loaded: Any = None, *, seed: int | None = None, reps: int | None = None,
             horizon_days: float | None = None, **extra: Any) -> dict[str, Any]:
    """The manifest of a folder: its kind and format, and (with ``loaded``, a LoadedScenario or
    sweep Base) the scenario as resolved, its hash, seed, replications and versions."""
    doc: dict[str, Any] = {"kind": kind, "format_version": FORMAT_VERSION}
    if loaded is not None:
        doc.update({"scenario_file": getattr(loaded, "path", None) or getattr(loaded, "file", None),
                    "scenario_hash": loaded.hash, "scenario": loaded.data})
    if seed is not None or reps is not None:
        doc.update({"seed": seed, "replications": reps, "horizon_days": horizon_days})
    doc["versions"] = package_versions()
    doc.update(extra)
    return doc


def folder_kind(path: str | Path) -> str | None:
    """The ``kind`` in a folder's manifest (None when there is no readable manifest)."""
    try:
        return json.loads((Path(path) / "manifest.json").read_text(encoding="utf-8")).get("kind")
    except (OSError, ValueError, AttributeError):
        return None


def prepare_out(out: str | Path, force: bool, kind: str) -> Path:
    """A resumable folder (sweep, staff, sensitivity): a rerun into a folder of the same kind
    resumes; a folder of another kind (or a file) is replaced only with ``force``."""
    path = Path(out)
    if path.exists():
        ours = path.is_dir() and ((path / "points").is_dir() or folder_kind(path) == kind)
        if force:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        elif not ours:
            raise OutputExists(f"{out} exists and is not a {kind} folder; pass --force to replace it")
    return path


def check_new(out: str | Path, force: bool) -> None:
    """A run or compare folder is written whole: refuse an existing path without ``force``."""
    if Path(out).exists() and not force:
        raise OutputExists(f"{out} already exists; pass --force to replace it")


def case_spool(out: str | Path) -> Path:
    """A temporary folder beside ``out`` that a run streams its per-case rows into."""
    import tempfile

    parent = Path(out).resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{Path(out).name}.cases.", dir=parent))


# --------------------------------------------------------------------------- run and compare
def _write_run_tables(folder: Path, result: Any, *, summary_csv: bool) -> None:
    atomic_write_json(folder / "summary.json", result.to_json())
    result.replications.to_csv(folder / "replications.csv", index=False)
    if summary_csv:
        result.summary.to_csv(folder / "summary.csv", index=False)
    result.backlog().to_csv(folder / "backlog.csv", index=False)
    write_cases(folder, result.records)


def write_run(out: str | Path, result: Any, loaded: Any, *, force: bool = False, elapsed: float | None = None) -> Path:
    """Write one run's results folder atomically."""
    with atomic_dir(out, force=force) as tmp:
        _write_run_tables(tmp, result, summary_csv=True)
        atomic_write_json(tmp / "manifest.json", manifest("run", loaded, seed=result.seed, reps=len(result.records),
                                                          horizon_days=result.horizon_days, elapsed_seconds=elapsed))
    return Path(out)


def write_compare(out: str | Path, res: Any, loaded: list[Any], *, force: bool = False) -> Path:
    """Write a comparison's results folder atomically: the long table and one run sub-folder per scenario."""
    with atomic_dir(out, force=force) as tmp:
        atomic_write_json(tmp / "compare.json", res.to_json())
        res.table().to_csv(tmp / "compare.csv", index=False)
        for r, ld in zip(res.results, loaded):
            d = tmp / r.scenario.name
            d.mkdir()
            _write_run_tables(d, r, summary_csv=False)
            atomic_write_json(d / "manifest.json", manifest("run", ld, seed=r.seed, reps=len(r.records),
                                                            horizon_days=r.horizon_days))
        atomic_write_json(tmp / "manifest.json", manifest("compare", scenarios=[r.scenario.name for r in res.results],
                                                          comparability=res.comparability()))
    return Path(out)


def write_cases(folder: Path, records: Any) -> bool:
    """Per-case tables (cases.parquet, cases.csv.gz) of records that hold rows or spooled part files.

    Part files are copied one at a time, so the table is never all in memory.
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ..engine.model import CASE_COLUMNS

    def parts():
        for r in records:
            if r.cases is not None:
                yield pd.DataFrame(r.cases, columns=CASE_COLUMNS).assign(rep=r.rep)
            for f in r.extra.get("case_files", ()):
                yield pd.read_parquet(f).assign(rep=r.rep)

    writer = None
    first = True
    try:
        for frame in parts():
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(folder / "cases.parquet", table.schema)
            writer.write_table(table.cast(writer.schema))
            frame.to_csv(folder / "cases.csv.gz", index=False, header=first, mode="w" if first else "a", compression="gzip")
            first = False
    finally:
        if writer is not None:
            writer.close()
    return writer is not None


# --------------------------------------------------------------------------- sweep, staff, sensitivity
def write_table(out: Path, table: Any, stem: str) -> None:
    """A table as CSV and Parquet, each written atomically."""
    atomic_write_bytes(out / f"{stem}.csv", table.to_csv(index=False).encode("utf-8"))
    try:
        blob = table.to_parquet(index=False)
    except Exception:  # mixed-type key columns: store them as text in Parquet
        fixed = table.copy()
        for c in fixed.columns:
            if fixed[c].dtype == object:
                fixed[c] = fixed[c].astype(str)
        blob = fixed.to_parquet(index=False)
    atomic_write_bytes(out / f"{stem}.parquet", blob)


def write_sweep(out: str | Path, table: Any, base: Any, grid: Mapping[str, Any], docs: list[Mapping[str, Any]], *,
                reps: int, seed: int, horizon_days: float | None, elapsed: float | None = None) -> Path:
    """sweep.csv, sweep.parquet and the manifest of a finished sweep."""
    out = Path(out)
    (out / "failures.json").unlink(missing_ok=True)
    write_table(out, table, "sweep")
    atomic_write_json(out / "manifest.json", manifest(
        "sweep", base, seed=seed, reps=reps, horizon_days=horizon_days, grid={k: list(v) for k, v in grid.items()},
        points=[{"overrides": d["overrides"], "hash": d["hash"]} for d in docs], elapsed_seconds=elapsed))
    return out


def write_failures(out: str | Path, failures: list[dict[str, Any]]) -> None:
    """failures.json: the points a sweep or search could not run, and why."""
    atomic_write_json(Path(out) / "failures.json", failures)


def write_staff(out: str | Path, table: Any, chosen: dict[str, Any] | None, base: Any, *, targets: list[str],
                reps: int, seed: int, horizon_days: float | None, search: str) -> Path:
    """frontier.csv, frontier.parquet, chosen.json and the manifest of a staffing search."""
    out = Path(out)
    write_table(out, table, "frontier")
    atomic_write_json(out / "chosen.json", {"targets": targets, "chosen": chosen, "reps": reps, "seed": seed,
                                            "search": search})
    atomic_write_json(out / "manifest.json", manifest("staff", base, seed=seed, reps=reps, horizon_days=horizon_days,
                                                      targets=targets, search=search))
    return out


def write_sensitivity(out: str | Path, result: Any, loaded: Any, *, elapsed: float | None = None,
                      command: str | None = None) -> Path:
    """sensitivity.json, sensitivity.csv, points.csv, sensitivity.png and the manifest (each atomically)."""
    from ..experiments.sensitivity import plot

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / "sensitivity.json", result.to_json())
    atomic_write_text(out / "sensitivity.csv", result.table.to_csv(index=False))
    atomic_write_text(out / "points.csv", result.points().to_csv(index=False))
    plot(result, out / "sensitivity.png")
    atomic_write_json(out / "manifest.json", manifest("sensitivity", loaded, seed=result.seed, reps=result.reps,
                                                      horizon_days=result.horizon_days, method=result.method,
                                                      samples=result.samples, elapsed_seconds=elapsed, command=command))
    return out


def write_calibration(out: str | Path, result: Any, base: Any, overlay: str, **extra: Any) -> Path:
    """A calibration folder (resumable: its ``points/`` hold every evaluated candidate): the fit
    before and after (fit.csv: target, band, achieved with interval, met), the overlay YAML a
    scenario can ``extends:`` and the manifest (kind ``calibration``)."""
    import pandas as pd

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    table = pd.concat([pd.DataFrame(result.before).assign(fit="before"), pd.DataFrame(result.after).assign(fit="after")],
                      ignore_index=True)
    atomic_write_text(folder / "fit.csv", table.to_csv(index=False))
    atomic_write_text(folder / "overlay.yaml", overlay)
    atomic_write_json(folder / "manifest.json", manifest(
        "calibration", base, vary={k: list(v) for k, v in result.vary.items()}, start=result.start, best=result.best,
        targets=result.target_ids, evaluations=result.evaluations, reused=result.reused,
        elapsed_seconds=result.seconds, **extra))
    return folder
