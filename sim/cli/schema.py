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
    p.add_argument("--reference", action="store_true", help="print the Markdown reference of every key instead")
    p.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    print(reference_markdown() if args.reference else schema_text(partial=args.partial), end="")
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


# --------------------------------------------------------------------------- the reference page
EXAMPLE_FILES = ("fangxing.yaml", "runzhou.yaml", "synthetic_district.yaml", "zhaojialou.yaml")


def _type_text(prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        return f"[{prop['$ref'].rsplit('/', 1)[1]}](#{prop['$ref'].rsplit('/', 1)[1].lower()})"
    if "const" in prop:
        return f"`{prop['const']}`"
    if "anyOf" in prop or "oneOf" in prop:
        return " or ".join(_type_text(p) for p in prop.get("anyOf", prop.get("oneOf", [])) if p.get("type") != "null")
    t = prop.get("type", "any")
    if t == "array":
        return f"list of {_type_text(prop.get('items', {}))}"
    if t == "object" and isinstance(prop.get("additionalProperties"), dict):
        return f"mapping of names to {_type_text(prop['additionalProperties'])}"
    return str(t)


def _allowed(prop: dict[str, Any]) -> str:
    parts = []
    for p in [prop, *prop.get("anyOf", []), *prop.get("oneOf", [])]:
        if "enum" in p:
            parts.append(", ".join(f"`{v}`" for v in p["enum"]))
        lo = p.get("minimum", p.get("exclusiveMinimum"))
        hi = p.get("maximum", p.get("exclusiveMaximum"))
        if lo is not None or hi is not None:
            left = "" if lo is None else (f"> {lo:g}" if "exclusiveMinimum" in p else f"≥ {lo:g}")
            right = "" if hi is None else (f"< {hi:g}" if "exclusiveMaximum" in p else f"≤ {hi:g}")
            parts.append(" and ".join(x for x in (left, right) if x))
    return "; ".join(dict.fromkeys(parts))


def _examples(schema: dict[str, Any]) -> dict[tuple[str, str], Any]:
    """(definition, key) -> a value from the shipped scenarios, found by walking them with the schema."""
    from pathlib import Path

    from ..scenario import load_scenario_full

    defs = schema["$defs"]
    found: dict[tuple[str, str], Any] = {}

    def walk(node: dict[str, Any], value: Any, owner: str) -> None:
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[1]
            return walk(defs[name], value, name)
        for alt in node.get("anyOf", []) + node.get("oneOf", []):
            ref = alt.get("$ref", "")
            if isinstance(value, dict) and ref and "dist" in value and not ref.lower().endswith(str(value["dist"])):
                continue
            walk(alt, value, owner)
        if isinstance(value, dict) and "properties" in node:
            for key, sub in node["properties"].items():
                if key in value:
                    found.setdefault((owner, key), value[key])
                    walk(sub, value[key], owner)
        if isinstance(value, dict) and isinstance(node.get("additionalProperties"), dict):
            for v in value.values():
                walk(node["additionalProperties"], v, owner)
        if isinstance(value, list) and isinstance(node.get("items"), dict):
            for v in value:
                walk(node["items"], v, owner)

    root = Path(__file__).resolve().parents[2] / "scenarios"
    for name in EXAMPLE_FILES:
        if (root / name).exists():
            walk(schema, load_scenario_full(root / name).data, "Scenario")
    return found


def _example_text(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return f"`{text}`" if len(text) <= 60 else f"`{text[:57]}…`"


def reference_markdown() -> str:
    """docs/scenario-reference.md: every key of the format with meaning, unit, type, default, allowed values, example."""
    schema = json_schema()
    examples = _examples(schema)
    out = ["# Scenario file reference", "",
           ("Generated from the scenario schema by `sim schema --reference` (do not edit by hand; "
            "`tests/test_schema_and_excel.py` checks it is current). The guide with a scenario written "
            "step by step is [scenarios/README.md](../scenarios/README.md); editors complete and check keys "
            "with [scenario.schema.json](scenario.schema.json). Examples are taken from the shipped scenarios."), ""]
    sections = [("Scenario", schema), *sorted(schema["$defs"].items())]
    for name, node in sections:
        out += [f"## {name}", "", (node.get("description") or "").strip(), ""]
        required = set(node.get("required", []))
        out += ["| key | meaning | type | required / default | allowed | example |", "|---|---|---|---|---|---|"]
        for key, prop in node.get("properties", {}).items():
            default = "required" if key in required else (
                f"default `{json.dumps(prop['default'], ensure_ascii=False)}`" if "default" in prop else "optional")
            ex = examples.get((name, key))
            meaning = (prop.get("description") or prop.get("title") or "").replace("\n", " ").replace("|", "\\|")
            out.append(f"| `{key}` | {meaning} | {_type_text(prop)} | {default} | {_allowed(prop)} | "
                       f"{_example_text(ex) if ex is not None else ''} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"
