"""Per-case records streamed to disk, so that asking for them does not make memory grow
with the run length: rows are kept in memory only until a row group is full, then appended
to the replication's Parquet file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Sequence

CHUNK_ROWS = 2_000
_TYPES = {"case_id": "int64", "arrival_day": "float64", "building": "int64", "close_day": "float64",
          "days_to_close": "float64", "rep": "int64", "step": "int64", "arrive_day": "float64", "start_day": "float64",
          "end_day": "float64", "off_duty_wait_hours": "float64"}  # every other column is text


SPOOL_ROOT = re.compile(r"\..+\.cases\.\d+\..+")  # the folder sim.results.case_spool makes beside --out


def spool_folder(folder: str | Path) -> Path:
    """``folder`` resolved; when it lies under a spool made beside a results folder, it must stay
    inside that spool (a scenario name such as ``../escape`` is refused, never written)."""
    from ..results.atomic import inside

    path = Path(folder).absolute()
    roots = [Path(*path.parts[:i + 1]) for i, part in enumerate(path.parts) if SPOOL_ROOT.fullmatch(part)]
    return inside(roots[0], path) if roots else path


class CaseSpool:
    """Appends one replication's rows, a row group at a time, to ``<stem>-r<rep>.parquet``
    (``cases`` for the case table, ``visits`` for the per-case trace)."""

    def __init__(self, folder: str | Path, rep: int, columns: Sequence[str], stem: str = "cases"):
        self.stem = stem
        self.folder = spool_folder(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.rep = rep
        self.columns = list(columns)
        self.files: list[str] = []
        self._writer: Any = None

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        """Append rows as a row group (nothing for no rows)."""
        if not rows:
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self._writer is None:
            schema = pa.schema([(c, pa.type_for_alias(_TYPES.get(c, "string"))) for c in self.columns])
            path = self.folder / f"{self.stem}-r{self.rep:05d}.parquet"
            self._writer = pq.ParquetWriter(path, schema)
            self.files.append(str(path))
        cols = list(zip(*rows))
        self._writer.write_table(pa.table(dict(zip(self.columns, cols)), schema=self._writer.schema))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
