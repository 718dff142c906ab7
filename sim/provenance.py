"""Where every parameter of a scenario comes from: the source or assumption covering each key."""

from __future__ import annotations

from typing import Any, Iterator, Mapping

ASSUMPTION = "assumption"
NOT_PARAMETERS = {"name", "title", "description", "sources", "extends"}


def leaf_parameters(data: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, value) of every leaf of a resolved scenario mapping, except texts and sources."""
    for key, value in data.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if not prefix and key in NOT_PARAMETERS:
            continue
        if key == "description":
            continue
        if isinstance(value, Mapping):
            yield from leaf_parameters(value, path)
        else:
            yield path, value


def source_of(path: str, sources: Mapping[str, Any]) -> tuple[str, Any]:
    """The source entry covering a key path: the longest matching prefix ("" covers everything)."""
    p = path
    while True:
        if p in sources:
            return p, sources[p]
        if not p:
            return "", None
        p = p.rsplit(".", 1)[0] if "." in p else ""


def is_assumption(entry: Any) -> bool:
    if entry is None:
        return False
    if isinstance(entry, str):
        return entry.strip().lower().startswith(ASSUMPTION)
    if isinstance(entry, Mapping):
        return entry.get("assumption") is not None
    return bool(getattr(entry, "assumption", None))


def source_text(entry: Any) -> str:
    """A one-line description of a source entry."""
    if entry is None:
        return "(no source given)"
    if isinstance(entry, str):
        return entry
    get = entry.get if isinstance(entry, Mapping) else (lambda k: getattr(entry, k, None))
    parts = []
    if get("source"):
        parts.append(str(get("source")))
    if get("assumption"):
        parts.append(f"assumption: {get('assumption')}")
    if get("range"):
        lo, hi = get("range")
        parts.append(f"range {lo}..{hi}")
    return "; ".join(parts)


def parameter_table(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Rows of (parameter, value, source, assumption) for a resolved scenario mapping."""
    sources = data.get("sources") or {}
    rows = []
    for path, value in leaf_parameters(data):
        key, entry = source_of(path, sources)
        rows.append({"parameter": path, "value": value, "source": source_text(entry), "assumption": is_assumption(entry),
                     "covered_by": key})
    return rows
