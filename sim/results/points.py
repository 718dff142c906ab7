"""The resumable point store of sweep and sensitivity folders: ``OUT/points/<hash>.parquet``.

Each finished point is one Parquet file, written atomically the moment the point's last
replication arrives (a killed sweep loses no finished point and leaves no half-written file),
in long form: columns ``point`` (the hash), ``replication``, ``metric`` and ``value``, one row
per replication and metric in the order the model reported them. Every file has the same
columns whatever metrics its point produced, so ``pd.read_parquet(OUT / "points")`` reads every
finished point of a sweep as one table while the sweep still runs (pivot ``metric`` for one
column per metric); long form is also what keeps the write cheap (about 1 ms a point, against
4-11 ms for one column per metric). The point's identity (overrides, hash, replications, seed,
horizon, base scenario hash) is the file's ``sim.point`` metadata, and its summary rows (metric,
mean, ci_low, ci_high, n; computed by the worker) are ``sim.summary``, so a resumed sweep does no
arithmetic. Folders written before this format kept each point as ``<hash>.json``; those are
still read, so they resume.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, Mapping

from .atomic import atomic_write_bytes

POINTS_DIR = "points"
SUFFIX = ".parquet"
META_KEY = b"sim.point"
SUMMARY_KEY = b"sim.summary"
COLUMNS = ("point", "replication", "metric", "value")


def point_meta(overrides: Mapping[str, Any], hash_: str, *, reps: int, seed: int, horizon_days: float | None,
               scenario_hash: str) -> dict[str, Any]:
    """The identity of a point as stored (JSON round trip, so a fresh and a read-back point are equal)."""
    text = json.dumps({"overrides": dict(overrides), "hash": hash_, "reps": reps, "seed": seed,
                       "horizon_days": horizon_days, "scenario_hash": scenario_hash}, default=float)
    return json.loads(text)


def write_point(folder: str | Path, meta: Mapping[str, Any], replications: Mapping[str, list[float]],
                summary: Mapping[str, list[Any]] | None = None) -> Path:
    """Write one finished point atomically to ``folder/<hash>.parquet``; returns the path."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = Path(folder)
    names = list(replications)
    n = len(replications[names[0]]) if names else 0
    values = [float(v) for r in range(n) for v in (replications[m][r] for m in names)]
    table = pa.table({"point": pa.array([meta["hash"]] * len(values), pa.string()),
                      "replication": pa.array([r for r in range(n) for _ in names], pa.int64()),
                      "metric": pa.array(names * n, pa.string()),
                      "value": pa.array(values, pa.float64())})
    metadata = {META_KEY: json.dumps(meta).encode("utf-8")}
    if summary is not None:
        metadata[SUMMARY_KEY] = json.dumps(dict(summary)).encode("utf-8")  # floats round-trip exactly (NaN too)
    table = table.replace_schema_metadata(metadata)
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    path = folder / f"{meta['hash']}{SUFFIX}"
    atomic_write_bytes(path, buf.getvalue(), root=folder)  # refuses a path outside folder
    return path


def read_point(folder: str | Path, hash_: str) -> dict[str, Any] | None:
    """A finished point (its identity plus ``replications``: metric -> values), or None when it is
    absent or damaged (it is then run again). Reads the legacy ``<hash>.json`` too."""
    folder = Path(folder)
    f = folder / f"{hash_}{SUFFIX}"
    if f.is_file():
        try:
            import pyarrow.parquet as pq

            table = pq.read_table(f)
            stored = table.schema.metadata or {}
            meta = json.loads(stored[META_KEY])
            reps: dict[str, list[float]] = {}
            for metric, value in zip(table.column("metric").to_pylist(), table.column("value").to_pylist()):
                reps.setdefault(metric, []).append(value)  # rows are by replication, then metric
            doc = {**meta, "replications": reps}
            if SUMMARY_KEY in stored:
                doc["summary"] = json.loads(stored[SUMMARY_KEY])
        except Exception:  # a damaged file of any kind: run the point again
            return None
    else:
        try:
            doc = json.loads((folder / f"{hash_}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
    ok = isinstance(doc, dict) and doc.get("hash") == hash_ and isinstance(doc.get("replications"), dict)
    return doc if ok else None


def finished_points(folder: str | Path) -> int:
    """How many finished point files ``folder`` holds (either format)."""
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    return sum(1 for f in folder.iterdir() if f.suffix in (SUFFIX, ".json") and not f.name.startswith("."))


def remove_stale(folder: str | Path) -> None:
    """Remove temporary files a process killed while writing left behind (never a finished point)."""
    folder = Path(folder)
    if folder.is_dir():
        for stale in folder.glob(".*.tmp"):
            stale.unlink(missing_ok=True)
