"""Numbers as text for tables: three significant figures, thousands with separators, '–' for missing."""

from __future__ import annotations

import json
from typing import Any


def fmt(x: Any, digits: int = 3) -> str:
    """A value for a table cell: ``digits`` significant figures below 1, one more from 1 to 1000."""
    if x is None:
        return "–"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if hasattr(x, "item") and not isinstance(x, (list, dict)):  # numpy scalars
        x = x.item()
    if isinstance(x, float):
        if x != x:
            return "–"
        if x == 0:
            return "0"
        if abs(x) >= 1000:
            return f"{x:,.0f}"
        return f"{x:.{digits}g}" if abs(x) < 1 else f"{x:.{digits + 1}g}"
    if isinstance(x, (list, dict)):
        return json.dumps(x, ensure_ascii=False)
    return str(x)
