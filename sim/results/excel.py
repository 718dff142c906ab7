"""One Excel workbook of a results folder, for planners who work in spreadsheets.

A sheet per table: ``summary`` (every scenario's metrics), ``paired differences`` (a
comparison), ``replications``, ``sweep`` / ``staffing`` / ``sensitivity`` (when the folder
has one) and ``parameters`` (every scenario value with its source). Numbers stay numbers
and every interval bound has its own column, so the sheets can be sorted and charted.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .atomic import atomic_write_bytes
from .read import ResultsFolder, read_folder, read_json

SUMMARY_COLUMNS = ["scenario", "metric", "label", "unit", "mean", "ci_low", "ci_high", "n"]
DIFF_COLUMNS = ["scenario", "minus", "metric", "label", "diff", "diff_ci_low", "diff_ci_high", "significant"]
PARAMETER_COLUMNS = ["scenario", "parameter", "value", "source", "assumption"]


def _cell(value: Any) -> Any:
    """A value Excel stores as it is: numbers as numbers, missing as empty, anything else as text."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, (list, dict, str)):
        value = value.item()  # numpy scalars
    if isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    return str(value)


def _summary_rows(folder: ResultsFolder) -> list[dict[str, Any]]:
    from .. import catalogue

    rows = []
    for run in folder.runs:
        f = run.folder / "summary.json"
        if not f.exists():
            continue
        for metric, m in read_json(f).get("metrics", {}).items():
            rows.append({"scenario": run.name, "metric": metric, "label": catalogue.short_label(metric),
                         "unit": catalogue.info(metric).unit if catalogue.known(metric) else "", **m})
    return rows


def _diff_rows(folder: ResultsFolder) -> list[dict[str, Any]]:
    from .. import catalogue

    long = folder.table("compare") if folder.kind == "compare" else None
    if long is None or "diff" not in long.columns:
        return []
    first = str(long["scenario"].iloc[0])
    return [{"scenario": r["scenario"], "minus": first, "metric": r["metric"], "label": catalogue.short_label(r["metric"]),
             "diff": r["diff"], "diff_ci_low": r["diff_ci_low"], "diff_ci_high": r["diff_ci_high"],
             "significant": bool(r["significant"])}
            for r in long.to_dict("records") if r["scenario"] != first]


def _replication_frame(folder: ResultsFolder) -> Any:
    import pandas as pd

    frames = [t.assign(scenario=run.name)[["scenario", *t.columns]] for run in folder.runs
              if (t := run.table("replications")) is not None]
    return pd.concat(frames, ignore_index=True) if frames else None


def _parameter_rows(folder: ResultsFolder) -> list[dict[str, Any]]:
    from ..provenance import parameter_table

    return [{"scenario": run.name, **{k: row[k] for k in PARAMETER_COLUMNS[1:]}}
            for run in folder.runs for row in parameter_table(run.data)]


def sheets(folder: str | Path | ResultsFolder) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """Sheet name -> (header, rows) of a results folder, in workbook order; empty tables are left out."""
    rf = folder if isinstance(folder, ResultsFolder) else read_folder(folder)
    out: dict[str, tuple[list[str], list[list[Any]]]] = {}

    def put(name: str, columns: list[str], records: Iterable[dict[str, Any]]) -> None:
        rows = [[_cell(r.get(c)) for c in columns] for r in records]
        if rows:
            out[name] = (columns, rows)

    def put_frame(name: str, frame: Any) -> None:
        if frame is not None and len(frame):
            put(name, [str(c) for c in frame.columns], frame.rename(columns=str).to_dict("records"))

    put("summary", SUMMARY_COLUMNS, _summary_rows(rf))
    put("paired differences", DIFF_COLUMNS, _diff_rows(rf))
    put_frame("replications", _replication_frame(rf))
    for stem, name in (("sweep", "sweep"), ("frontier", "staffing"), ("sensitivity", "sensitivity")):
        if rf.kind != "compare" and rf.has(stem):
            put_frame(name, rf.table(stem))
    put("parameters", PARAMETER_COLUMNS, _parameter_rows(rf))
    return out


def workbook_bytes(folder: str | Path | ResultsFolder) -> bytes:
    """The .xlsx file of a results folder, as bytes (for downloads)."""
    from io import BytesIO

    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    for name, (header, rows) in sheets(folder).items():
        ws = wb.create_sheet(name[:31])
        ws.append(header)
        for row in rows:
            ws.append(row)
        ws.freeze_panes = "A2"
        for i, col in enumerate(header, start=1):
            width = max([len(col), *(len(str(r[i - 1])) for r in rows[:200] if r[i - 1] is not None)])
            ws.column_dimensions[get_column_letter(i)].width = min(max(width + 2, 8), 60)
    if not wb.sheetnames:
        wb.create_sheet("summary").append(["this results folder has no tables"])
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_workbook(folder: str | Path | ResultsFolder, out: str | Path | None = None) -> Path:
    """Write the workbook of a results folder (default ``<folder>/results.xlsx``) atomically; returns its path."""
    rf = folder if isinstance(folder, ResultsFolder) else read_folder(folder)
    path = Path(out) if out is not None else rf.path / "results.xlsx"
    atomic_write_bytes(path, workbook_bytes(rf))
    return path
