"""Where every parameter of a scenario comes from: the source or assumption covering each key,
and the values overridden on the command line (``--set``), with what they replaced."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

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


def parameter_table(data: Mapping[str, Any], overrides: Sequence[Mapping[str, Any]] | None = None
                    ) -> list[dict[str, Any]]:
    """Rows of (parameter, value, source, assumption) for a resolved scenario mapping.

    ``overrides`` (from :func:`override_records`): a parameter set on the command line gets
    the source "overridden on the command line: new value (was X, source ...)" and
    ``overridden`` True, because the file's source describes the value it replaced.
    """
    sources = data.get("sources") or {}
    rows = []
    for path, value in leaf_parameters(data):
        key, entry = source_of(path, sources)
        row = {"parameter": path, "value": value, "source": source_text(entry), "assumption": is_assumption(entry),
               "covered_by": key, "overridden": False}
        record = _override_of(path, overrides or ())
        if record is not None:
            row.update(source=overridden_text(value, _below(record.get("was"), path, record["key"]), row["source"]),
                       assumption=False, overridden=True)
        rows.append(row)
    return rows


# --------------------------------------------------------------------------- command-line overrides
def override_records(file: str | Path | None, overrides: Mapping[str, Any] | Iterable[str] | None
                     ) -> list[dict[str, Any]]:
    """Each ``--set key=value`` as ``{"key", "set" (the text given), "value", "was", "source"}``:
    the new value, the file's value it replaced (None: not in the file) and the file's source
    of that value. ``file``: the scenario file (None or unreadable: ``was`` and ``source`` unknown)."""
    from .scenario.loader import parse_value

    pairs = _pairs(overrides)
    if not pairs:
        return []
    original: Mapping[str, Any] = {}
    if file and Path(file).is_file():
        try:
            from .scenario import load_scenario_full

            original = load_scenario_full(file).data
        except Exception:  # the file alone may not be valid (an override can repair it): keep the values unknown
            original = {}
    sources = original.get("sources") or {}
    records = []
    for key, raw in pairs:
        value = parse_value(raw) if isinstance(raw, str) else raw
        was = _value_at(original, key)
        records.append({"key": key, "set": f"{key}={raw}", "value": value, "was": was,
                        "source": source_text(source_of(key, sources)[1]) if original else "(unknown)"})
    return records


def overridden_text(value: Any, was: Any, source: str) -> str:
    """'overridden on the command line: 0.16 (was 0.08, source ...)'."""
    old = "not set in the file" if was is _MISSING else f"was {_short(was)}"
    return f"overridden on the command line: {_short(value)} ({old}, source {source})"


def overrides_lines(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """One line per override, for describe and reports."""
    return [f"{r['key']}: {overridden_text(r['value'], r.get('was'), r.get('source', '(unknown)'))}" for r in records]


def invocation(argv: Sequence[str] | None, records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """What a manifest records of how its folder was made: the command line and the overrides."""
    import shlex

    command = "sim " + " ".join(shlex.quote(str(x)) for x in argv) if argv else None
    return {"command": command, "overrides": [dict(r) for r in records]}


def record_invocation(folder: str | Path, info: Mapping[str, Any]) -> None:
    """Add the command line and overrides to a results folder's manifest."""
    from .results.atomic import atomic_write_json

    path = Path(folder) / "manifest.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(doc, dict):
        doc.update(info)
        atomic_write_json(path, doc)


_MISSING = None  # a value not in the file


def _pairs(overrides: Mapping[str, Any] | Iterable[str] | None) -> list[tuple[str, Any]]:
    if not overrides:
        return []
    if isinstance(overrides, Mapping):
        return [(str(k).strip(), v) for k, v in overrides.items()]
    return [(k.strip(), v) for k, _, v in (str(o).partition("=") for o in overrides) if k.strip()]


def _value_at(data: Any, dotted: str) -> Any:
    node = data
    for key in dotted.split("."):
        if isinstance(node, Mapping) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return _MISSING
    return node


def _below(was: Any, path: str, key: str) -> Any:
    """The old value of a leaf ``path`` inside an overridden ``key``."""
    return was if path == key else _value_at(was, path[len(key) + 1:])


def _override_of(path: str, records: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The last override setting ``path`` or a mapping that holds it."""
    hit = None
    for r in records:
        if path == r["key"] or path.startswith(r["key"] + "."):
            hit = r
    return hit


def _short(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (Mapping, list)) else str(value)
