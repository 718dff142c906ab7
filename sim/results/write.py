"""Writers of every kind of results folder: run, compare, sweep, staff, sensitivity and calibration.

Each folder holds a ``manifest.json`` stating its ``kind`` and ``format_version`` and what is
needed to rerun it (the scenario as resolved, its hash, seed, replications, versions). A run
or compare folder is built in a temporary place and renamed into position when complete;
sweep, staff and sensitivity folders are resumable (``points/``, see :mod:`.points`) and each file in them is
written atomically.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from pathlib import Path
from typing import Any, Mapping

from .atomic import (
    OutputExists,
    UnsafePath,
    atomic_dir,
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    inside,
    replace_with,
    temp_beside,
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
    """The folder a resumable command (sweep, staff, sensitivity) works in.

    A folder of the same kind is resumed in place. Anything else there (another kind, a file)
    is refused without ``force``; with ``force`` nothing is touched yet: the command works in a
    new folder beside ``out`` and :func:`publish` swaps it in once the results are complete, so
    a refused argument or a failed run leaves the existing folder as it was.
    """
    path = Path(out)
    if not (path.exists() or path.is_symlink()):
        return path
    ours = path.is_dir() and not path.is_symlink() and ((path / "points").is_dir() or folder_kind(path) == kind)
    if force:
        return temp_beside(path, "new")
    if not ours:
        raise OutputExists(f"{out} exists and is not a {kind} folder; pass --force to replace it")
    return path


def publish(work: str | Path, out: str | Path) -> Path:
    """Put the folder :func:`prepare_out` gave in place of ``out`` (nothing to do when it is ``out``)."""
    work, out = Path(work), Path(out)
    if work.absolute() != out.absolute():
        replace_with(work, out, force=True)
    return out


def check_new(out: str | Path, force: bool) -> None:
    """A run or compare folder is written whole: refuse an existing path without ``force``."""
    if (Path(out).exists() or Path(out).is_symlink()) and not force:
        raise OutputExists(f"{out} already exists; pass --force to replace it")


def case_spool(out: str | Path) -> Path:
    """A temporary folder beside ``out`` that a run streams its per-case rows into."""
    return temp_beside(out, "cases")


def file_records(folder: Path, rows: Mapping[str, int] | None = None) -> dict[str, dict[str, Any]]:
    """Size and sha256 (and row count where known) of every file directly in ``folder`` but the
    manifest: recorded in the manifest so a reader can tell a damaged or truncated table."""
    rows = rows or {}
    out: dict[str, dict[str, Any]] = {}
    for f in sorted(folder.iterdir()):
        if f.is_file() and f.name != "manifest.json" and not f.name.startswith("."):
            out[f.name] = {"bytes": f.stat().st_size, "sha256": sha256(f), **({"rows": rows[f.name]} if f.name in rows else {})}
    return out


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# --------------------------------------------------------------------------- run and compare
def _write_run_tables(folder: Path, result: Any, *, summary_csv: bool) -> dict[str, int]:
    """The tables of one run into ``folder``; returns the row count of each."""
    atomic_write_json(inside(folder, "summary.json"), result.to_json(), root=folder)
    rows = {"replications.csv": len(result.replications)}
    result.replications.to_csv(inside(folder, "replications.csv"), index=False)
    if summary_csv:
        result.summary.to_csv(inside(folder, "summary.csv"), index=False)
        rows["summary.csv"] = len(result.summary)
    backlog = result.backlog()
    backlog.to_csv(inside(folder, "backlog.csv"), index=False)
    rows["backlog.csv"] = len(backlog)
    cases = write_cases(folder, result.records)
    if cases:
        rows.update({"cases.parquet": cases, "cases.csv.gz": cases})
    visits = write_visits(folder, result.records)
    if visits:
        rows["visits.parquet"] = visits
    return rows


def write_run(out: str | Path, result: Any, loaded: Any, *, force: bool = False, elapsed: float | None = None) -> Path:
    """Write one run's results folder atomically."""
    with atomic_dir(out, force=force) as tmp:
        rows = _write_run_tables(tmp, result, summary_csv=True)
        atomic_write_json(tmp / "manifest.json", manifest("run", loaded, seed=result.seed, reps=len(result.records),
                                                          horizon_days=result.horizon_days, elapsed_seconds=elapsed,
                                                          files=file_records(tmp, rows)), root=tmp)
    return Path(out)


def write_compare(out: str | Path, res: Any, loaded: list[Any], *, force: bool = False) -> Path:
    """Write a comparison's results folder atomically: the long table and one run sub-folder per scenario."""
    with atomic_dir(out, force=force) as tmp:
        atomic_write_json(tmp / "compare.json", res.to_json(), root=tmp)
        table = res.table()
        table.to_csv(inside(tmp, "compare.csv"), index=False)
        for r, ld in zip(res.results, loaded):
            d = _sub_folder(tmp, r.scenario.name, out)
            rows = _write_run_tables(d, r, summary_csv=False)
            atomic_write_json(d / "manifest.json", manifest("run", ld, seed=r.seed, reps=len(r.records),
                                                            horizon_days=r.horizon_days, files=file_records(d, rows)),
                              root=d)
        atomic_write_json(tmp / "manifest.json", manifest("compare", scenarios=[r.scenario.name for r in res.results],
                                                          comparability=res.comparability(),
                                                          files=file_records(tmp, {"compare.csv": len(table)})),
                          root=tmp)
    return Path(out)


def _sub_folder(folder: Path, name: str, out: str | Path) -> Path:
    """A new sub-folder ``name`` directly inside ``folder``; a name that would lead anywhere else is refused."""
    d = inside(folder, name) if name else folder.resolve()
    if d.parent != folder.resolve():
        raise UnsafePath(f"refusing to write a scenario named {name!r}: it is not a folder name inside {out}")
    d.mkdir()
    return d


def _row_batches(records: Any, rows_attr: str, files_key: str, columns: Any, with_rep: bool) -> Any:
    """DataFrames of the rows each record holds in memory, then of its spooled part files one row
    group at a time (the spool writes them of CHUNK_ROWS rows), so memory stays bounded whatever the
    run length; reading row groups without threads keeps less memory than ``iter_batches``."""
    import pandas as pd
    import pyarrow.parquet as pq

    for r in records:
        held = getattr(r, rows_attr)
        if held:
            frame = pd.DataFrame(held, columns=columns)
            yield frame.assign(rep=r.rep) if with_rep else frame
        for f in r.extra.get(files_key, ()):
            part = pq.ParquetFile(f)
            for i in range(part.num_row_groups):
                frame = part.read_row_group(i, use_threads=False).to_pandas()
                yield frame.assign(rep=r.rep) if with_rep else frame


def _stream_table(folder: Path, frames: Any, parquet: str, csv_gz: str | None = None) -> int:
    """Write DataFrames one after another to ``parquet`` (and ``csv_gz``) inside ``folder``, never all
    in memory; returns the number of rows (0: nothing written)."""
    import gzip

    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    csv = None
    rows = 0
    try:
        for frame in frames:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(inside(folder, parquet), table.schema)
                if csv_gz is not None:
                    csv = gzip.open(inside(folder, csv_gz), "wt", encoding="utf-8", newline="")
            writer.write_table(table.cast(writer.schema))
            if csv is not None:
                frame.to_csv(csv, index=False, header=rows == 0)
            rows += len(frame)
    finally:
        if writer is not None:
            writer.close()
        if csv is not None:
            csv.close()
    return rows


def write_cases(folder: Path, records: Any) -> int:
    """Per-case tables (cases.parquet, cases.csv.gz) of records that hold rows or spooled part
    files, streamed (see :func:`_row_batches`); returns the number of rows (0: no table written)."""
    from ..engine.model import CASE_COLUMNS

    return _stream_table(folder, _row_batches(records, "cases", "case_files", CASE_COLUMNS, with_rep=True),
                         "cases.parquet", "cases.csv.gz")


def write_visits(folder: Path, records: Any) -> int:
    """The visits table (visits.parquet: one row per level or mechanism a case visited, read by
    :func:`sim.trace.timeline`), streamed like the case table; returns the number of rows."""
    from ..engine.model import VISIT_COLUMNS

    return _stream_table(folder, _row_batches(records, "visits", "visit_files", VISIT_COLUMNS, with_rep=False),
                         "visits.parquet")


# --------------------------------------------------------------------------- sweep, staff, sensitivity
def write_table(out: Path, table: Any, stem: str) -> None:
    """A table as CSV and Parquet, each written atomically."""
    atomic_write_bytes(out / f"{stem}.csv", table.to_csv(index=False).encode("utf-8"), root=out)
    try:
        blob = table.to_parquet(index=False)
    except Exception:  # mixed-type key columns: store them as text in Parquet
        fixed = table.copy()
        for c in fixed.columns:
            if fixed[c].dtype == object:
                fixed[c] = fixed[c].astype(str)
        blob = fixed.to_parquet(index=False)
    atomic_write_bytes(out / f"{stem}.parquet", blob, root=out)


def write_sweep(out: str | Path, table: Any, base: Any, grid: Mapping[str, Any], docs: list[Mapping[str, Any]], *,
                reps: int, seed: int, horizon_days: float | None, elapsed: float | None = None) -> Path:
    """sweep.csv, sweep.parquet and the manifest of a finished sweep."""
    out = Path(out)
    inside(out, "failures.json").unlink(missing_ok=True)
    write_table(out, table, "sweep")
    atomic_write_json(out / "manifest.json", manifest(
        "sweep", base, seed=seed, reps=reps, horizon_days=horizon_days, grid={k: list(v) for k, v in grid.items()},
        points=[{"overrides": d["overrides"], "hash": d["hash"]} for d in docs], elapsed_seconds=elapsed,
        files=file_records(out, {"sweep.csv": len(table), "sweep.parquet": len(table)})), root=out)
    return out


def write_failures(out: str | Path, failures: list[dict[str, Any]]) -> None:
    """failures.json: the points a sweep or search could not run, and why."""
    atomic_write_json(Path(out) / "failures.json", failures, root=out)


def write_staff(out: str | Path, table: Any, chosen: dict[str, Any] | None, base: Any, *, targets: list[str],
                reps: int, seed: int, horizon_days: float | None, search: str) -> Path:
    """frontier.csv, frontier.parquet, chosen.json and the manifest of a staffing search."""
    out = Path(out)
    write_table(out, table, "frontier")
    atomic_write_json(out / "chosen.json", {"targets": targets, "chosen": chosen, "reps": reps, "seed": seed,
                                            "search": search}, root=out)
    atomic_write_json(out / "manifest.json", manifest(
        "staff", base, seed=seed, reps=reps, horizon_days=horizon_days, targets=targets, search=search,
        files=file_records(out, {"frontier.csv": len(table), "frontier.parquet": len(table)})), root=out)
    return out


def write_sensitivity(out: str | Path, result: Any, loaded: Any, *, elapsed: float | None = None,
                      command: str | None = None) -> Path:
    """sensitivity.json, sensitivity.csv, points.csv, sensitivity.png and the manifest (each atomically)."""
    from ..experiments.sensitivity import plot

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / "sensitivity.json", result.to_json(), root=out)
    atomic_write_text(out / "sensitivity.csv", result.table.to_csv(index=False), root=out)
    points = result.points()
    atomic_write_text(out / "points.csv", points.to_csv(index=False), root=out)
    plot(result, inside(out, "sensitivity.png"))
    atomic_write_json(out / "manifest.json", manifest(
        "sensitivity", loaded, seed=result.seed, reps=result.reps, horizon_days=result.horizon_days,
        method=result.method, samples=result.samples, elapsed_seconds=elapsed, command=command,
        files=file_records(out, {"sensitivity.csv": len(result.table), "points.csv": len(points)})), root=out)
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
