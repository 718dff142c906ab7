"""Results folders: summary.json, per-replication and per-case tables, backlog, manifest.

Every folder is built in a temporary place and renamed into position when complete.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .io import atomic_dir, atomic_write_json
from .provenance import package_versions
from .scenario.loader import LoadedScenario


def manifest(loaded: LoadedScenario, seed: int, reps: int, horizon_days: float, **extra: Any) -> dict[str, Any]:
    """What is needed to rerun a result: the scenario as resolved, its hash, seed and versions."""
    return {"scenario_file": loaded.path, "scenario_hash": loaded.hash, "scenario": loaded.data, "seed": seed,
            "replications": reps, "horizon_days": horizon_days, "versions": package_versions(), **extra}


def write_run(out: str | Path, result, loaded: LoadedScenario, *, force: bool = False, elapsed: float | None = None) -> Path:
    """Write one run's results folder atomically."""
    with atomic_dir(out, force=force) as tmp:
        atomic_write_json(tmp / "summary.json", result.to_json())
        result.replications.to_csv(tmp / "replications.csv", index=False)
        result.summary.to_csv(tmp / "summary.csv", index=False)
        result.backlog().to_csv(tmp / "backlog.csv", index=False)
        write_cases(tmp, result.records)
        atomic_write_json(tmp / "manifest.json", manifest(loaded, result.seed, len(result.records), result.horizon_days,
                                                          kind="run", elapsed_seconds=elapsed))
    return Path(out)


def write_compare(out: str | Path, res, loaded: list[LoadedScenario], *, force: bool = False) -> Path:
    """Write a comparison's results folder atomically: the long table and one sub-folder per scenario."""
    with atomic_dir(out, force=force) as tmp:
        atomic_write_json(tmp / "compare.json", res.to_json())
        res.table().to_csv(tmp / "compare.csv", index=False)
        for r, ld in zip(res.results, loaded):
            d = tmp / r.scenario.name
            d.mkdir()
            atomic_write_json(d / "summary.json", r.to_json())
            r.replications.to_csv(d / "replications.csv", index=False)
            r.backlog().to_csv(d / "backlog.csv", index=False)
            write_cases(d, r.records)
            atomic_write_json(d / "manifest.json", manifest(ld, r.seed, len(r.records), r.horizon_days, kind="run"))
        atomic_write_json(tmp / "manifest.json", {"kind": "compare", "scenarios": [r.scenario.name for r in res.results],
                                                  "versions": package_versions()})
    return Path(out)


def write_cases(folder: Path, records) -> bool:
    """Per-case tables (cases.parquet, cases.csv.gz) of records that hold rows or spooled part files.

    Part files are copied one at a time, so the table is never all in memory.
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .engine.model import CASE_COLUMNS

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
