"""`sim schema`: the JSON Schema of the scenario format, for editors and validators.

Built from the pydantic models (``sim.Scenario``), with their descriptions, and a unit note on
every key measured in days or in the scenario's ``time_unit``. ``--partial`` gives the schema of a
file that inherits with ``extends:`` (every key optional, since the parent supplies the rest).
The committed copies are ``docs/scenario.schema.json`` and ``docs/scenario-part.schema.json``.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

SCHEMA_URL = "https://json-schema.org/draft/2020-12/schema"
DAYS_NOTE = "Unit: days."
TIME_NOTE = "Unit: the scenario's time_unit (hours or minutes)."
TIME_KEYS = ("handling", "triage")


def add(sub: Any) -> None:
    p = sub.add_parser("schema", help="print the JSON Schema of scenario files (editor completion and checks)")
    p.add_argument("--partial", action="store_true",
                   help="the schema of a file that uses extends: (every key optional)")
    p.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    print(schema_text(partial=args.partial), end="")
    return 0


def schema_text(partial: bool = False) -> str:
    """The schema as the committed file holds it (sorted keys, two-space indent, final newline)."""
    return json.dumps(json_schema(partial), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def json_schema(partial: bool = False) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a scenario file; ``partial``: of a file with ``extends:``."""
    from ..scenario import Scenario

    schema = Scenario.model_json_schema(mode="validation")
    _annotate(schema)
    for node in schema.get("$defs", {}).values():
        _annotate(node)
    schema["properties"]["extends"] = {
        "type": "string", "title": "Extends",
        "description": "A scenario file (path relative to this one) whose keys this file inherits; "
                       "mappings are merged key by key, and this file's values win."}
    schema["$schema"] = SCHEMA_URL
    schema["title"] = "dispute-sim scenario (a file inheriting with extends:)" if partial else "dispute-sim scenario"
    if partial:
        _drop_required(schema)
    return schema


def _annotate(node: dict[str, Any]) -> None:
    """Add the unit to the description of every property measured in days or in the time unit."""
    for key, prop in node.get("properties", {}).items():
        note = DAYS_NOTE if key.endswith("_days") else TIME_NOTE if key in TIME_KEYS else None
        if note and note not in prop.get("description", ""):
            prop["description"] = f"{prop.get('description', '').rstrip()} {note}".strip()


def _drop_required(node: Any) -> None:
    if isinstance(node, dict):
        node.pop("required", None)
        node.pop("minProperties", None)
        for v in node.values():
            _drop_required(v)
    elif isinstance(node, list):
        for v in node:
            _drop_required(v)
