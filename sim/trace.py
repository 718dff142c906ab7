"""One case's path through the hierarchy, from a results folder's tables.

A run that records cases writes two tables: the case table (one row per case: arrival,
close, where and how it ended) and the visits table (one row per level or mechanism a case
visited: hand-over, start and end of handling, the wait for a closed office to open, and
what happened there). :func:`timeline` renders one case as readable lines.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any



def _read(folder: Path, stem: str, case_id: int, rep: int) -> Any:
    """Rows of one case from ``<stem>.parquet`` or the run's spooled ``<stem>-r<rep>.parquet`` parts."""
    import pandas as pd

    whole = folder / f"{stem}.parquet"
    if whole.exists():
        df = pd.read_parquet(whole, filters=[("case_id", "==", case_id)])
    else:
        parts = sorted(folder.glob(f"{stem}-r{rep:05d}.parquet"))
        if not parts:
            raise FileNotFoundError(f"{folder}: no {stem}.parquet (record the run's cases to trace them)")
        df = pd.concat([pd.read_parquet(p, filters=[("case_id", "==", case_id)]) for p in parts], ignore_index=True)
        df = df.assign(rep=rep) if "rep" not in df.columns else df
    return df[df["rep"] == rep] if "rep" in df.columns else df


def _when(day: float) -> str:
    """Day and clock time, e.g. 'day 105 08:15'."""
    if day is None or (isinstance(day, float) and math.isnan(day)):
        return "-"
    d = math.floor(day)
    minutes = int(round((day - d) * 24 * 60))
    if minutes == 24 * 60:
        d, minutes = d + 1, 0
    return f"day {d} {minutes // 60:02d}:{minutes % 60:02d}"


def timeline(folder: str | Path, case_id: int, rep: int = 0) -> str:
    """One case's path as readable lines: arrival, each level or mechanism visited, the end."""
    folder = Path(folder)
    cases = _read(folder, "cases", case_id, rep)
    visits = _read(folder, "visits", case_id, rep).sort_values("step")
    if cases.empty:
        raise KeyError(f"case {case_id} of replication {rep} is not in {folder}")
    c = cases.iloc[0]
    lines = [f"case {case_id} (replication {rep}): {c['severity']} {c['category']} dispute, building {c['building']}",
             f"  {_when(c['arrival_day'])}  arrives"]
    for v in visits.itertuples():
        wait_h = (v.start_day - v.arrive_day) * 24.0 if not math.isnan(v.start_day) else float("nan")
        parts = [f"handed to {v.where}"]
        if not math.isnan(wait_h):
            off = v.off_duty_wait_hours
            parts.append(f"handling starts {_when(v.start_day)} after {wait_h:.1f} h"
                         + (f" ({off:.1f} h waiting for opening)" if not math.isnan(off) and off > 0 else ""))
        parts.append(f"{v.outcome} {_when(v.end_day)}")
        lines.append(f"  {_when(v.arrive_day)}  " + "; ".join(parts))
    if c["outcome"] == "open":
        lines.append("  still open at the end of the run")
    else:
        lines.append(f"  {_when(c['close_day'])}  closed: {c['outcome']} at {c['level']} "
                     f"after {c['days_to_close']:.1f} days")
    return "\n".join(lines)
