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
        try:
            cases = result.cases()
        except ValueError:
            cases = None
        if cases is not None:
            cases.to_parquet(tmp / "cases.parquet", index=False)
            cases.to_csv(tmp / "cases.csv.gz", index=False, compression="gzip")
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
            atomic_write_json(d / "manifest.json", manifest(ld, r.seed, len(r.records), r.horizon_days, kind="run"))
        atomic_write_json(tmp / "manifest.json", {"kind": "compare", "scenarios": [r.scenario.name for r in res.results],
                                                  "versions": package_versions()})
    return Path(out)
