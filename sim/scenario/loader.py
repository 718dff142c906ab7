"""Load scenario files: YAML, ``extends:`` inheritance, ``--set`` overrides, clear errors.

Every problem is reported as ``FILE:LINE: key.path: what was expected``, all at once, in a
:class:`ScenarioError`; the CLI turns that into exit status 2 without a traceback.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml
from pydantic import ValidationError

from .schema import Scenario

EXTENDS = "extends"


@dataclass
class Problem:
    """One thing wrong with a scenario, located by file, key path and (if known) line."""

    file: str
    path: str
    message: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        key = f" {self.path}:" if self.path else ""
        return f"{where}:{key} {self.message}"


class ScenarioError(Exception):
    """A scenario could not be loaded; holds every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class _Doc:
    """A parsed YAML file with the line of every key path, for error messages."""

    path: Path
    data: dict[str, Any]
    lines: dict[str, tuple[int, int]] = field(default_factory=dict)


def _index_lines(node: yaml.Node, prefix: str, out: dict[str, tuple[int, int]]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = str(key_node.value)
            path = f"{prefix}.{key}" if prefix else key
            out[path] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            _index_lines(value_node, path, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            path = f"{prefix}.{i}" if prefix else str(i)
            out[path] = (item.start_mark.line + 1, item.start_mark.column + 1)
            _index_lines(item, path, out)


def _read(path: Path) -> _Doc:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError([Problem(str(path), "", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([Problem(str(path), "", f"cannot read the file: {exc}")]) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        msg = f"YAML syntax error: {exc.problem or exc.context}"
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise ScenarioError([Problem(str(path), "", msg, line, col)]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError([Problem(str(path), "", f"YAML error: {exc}")]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScenarioError([Problem(str(path), "", f"expected a mapping of keys at the top, got {type(data).__name__}")])
    lines: dict[str, tuple[int, int]] = {}
    if node is not None:
        _index_lines(node, "", lines)
    return _Doc(path, data, lines)


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge override into base: mappings merge key by key, anything else replaces."""
    out = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _resolve(path: Path, chain: tuple[Path, ...]) -> tuple[dict[str, Any], dict[str, tuple[Path, int, int]]]:
    """The file's data with its parents merged in, and where each key path was written."""
    path = path.resolve()
    if path in chain:
        loop = " -> ".join(p.name for p in (*chain, path))
        raise ScenarioError([Problem(str(chain[-1]), EXTENDS, f"extends loop: {loop}")])
    doc = _read(path)
    data = dict(doc.data)
    where = {k: (path, ln, col) for k, (ln, col) in doc.lines.items()}
    parent = data.pop(EXTENDS, None)
    if parent is None:
        return data, where
    if not isinstance(parent, str):
        ln, col = doc.lines.get(EXTENDS, (None, None))
        raise ScenarioError([Problem(str(path), EXTENDS, "expected the path of a parent scenario file", ln, col)])
    parent_path = (path.parent / parent)
    if not parent_path.exists():
        ln, col = doc.lines.get(EXTENDS, (None, None))
        raise ScenarioError([Problem(str(path), EXTENDS, f"parent scenario '{parent}' not found (looked for {parent_path})", ln, col)])
    base, base_where = _resolve(parent_path, (*chain, path))
    base_where.update(where)
    return deep_merge(base, data), base_where


def parse_value(text: str) -> Any:
    """A ``--set`` value: YAML scalar syntax, so 3 is an int, 0.5 a float, [1,2] a list."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def apply_overrides(data: dict[str, Any], overrides: Mapping[str, Any] | Iterable[str], file: str = "--set") -> dict[str, Any]:
    """Set dotted key paths (``levels.grid.deadline_days``) that must already exist."""
    if not isinstance(overrides, Mapping):
        pairs = {}
        for item in overrides:
            if "=" not in item:
                raise ScenarioError([Problem("--set", item, "expected key.path=value")])
            k, v = item.split("=", 1)
            pairs[k.strip()] = parse_value(v)
        overrides = pairs
    out = copy.deepcopy(data)
    problems = []
    for dotted, value in overrides.items():
        keys = dotted.split(".")
        node: Any = out
        for depth, key in enumerate(keys):
            last = depth == len(keys) - 1
            if isinstance(node, list) and key.isdigit() and int(key) < len(node):
                key_i: Any = int(key)
            elif isinstance(node, dict) and key in node:
                key_i = key
            elif isinstance(node, dict) and last and _settable_new_key(keys):
                key_i = key
            else:
                so_far = ".".join(keys[:depth]) or "(top)"
                choices = list(node) if isinstance(node, dict) else []
                hint = difflib.get_close_matches(key, [str(c) for c in choices], n=1)
                extra = f"; did you mean '{hint[0]}'?" if hint else (f"; keys there: {', '.join(map(str, choices))}" if choices else "")
                problems.append(Problem(file, dotted, f"no key '{key}' under {so_far}{extra}"))
                break
            if last:
                node[key_i] = value
            else:
                node = node[key_i]
    if problems:
        raise ScenarioError(problems)
    return out


def _settable_new_key(keys: list[str]) -> bool:
    """New keys may be added where the schema has open mappings or optional fields."""
    return len(keys) >= 2 and keys[0] in {"levels", "roles", "sources", "target_days", "arrivals", "meetings", "pools", "partners", "channels"} or len(keys) == 1


def _loc_to_path(loc: tuple[Any, ...]) -> str:
    parts = []
    for item in loc:
        s = str(item)
        # pydantic adds the union member tag (e.g. 'exponential', 'Roster', 'literal[...]') to locations
        if s.startswith(("literal[", "function-")) or s in {"Roster", "str", "float", "int", "dict[str,constrained-float]", "constrained-float"}:
            continue
        parts.append(s)
    return ".".join(parts)


def _problems_from_validation(exc: ValidationError, where: Mapping[str, tuple[Path, int, int]], fallback: str, data: dict[str, Any]) -> list[Problem]:
    from . import schema

    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for err in exc.errors(include_url=False):
        path = _loc_to_path(tuple(err["loc"]))
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            key = path.rsplit(".", 1)[-1]
            parent = path.rsplit(".", 1)[0] if "." in path else ""
            allowed = _allowed_keys(parent, data)
            hint = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            msg = f"unknown key '{key}'" + (f"; did you mean '{hint[0]}'?" if hint else (f"; expected one of: {', '.join(allowed)}" if allowed else ""))
        elif err["type"] == "missing":
            msg = "required key is missing"
        elif err["type"] == "union_tag_invalid":
            msg = f"unknown distribution; expected dist: one of {', '.join(schema.DIST_NAMES)}"
        elif err["type"] == "union_tag_not_found":
            msg = f"missing 'dist:'; expected one of {', '.join(schema.DIST_NAMES)}"
        lines = msg.split("\n")
        for line in lines:
            sub_path, sub_msg = path, line
            # cross-field checks carry their own key path as 'a.b.c: message'
            head, sep, tail = line.partition(": ")
            if sep and " " not in head and (head.split(".")[0] in _TOP_KEYS):
                sub_path, sub_msg = head, tail
            if (sub_path, sub_msg) in seen:
                continue
            seen.add((sub_path, sub_msg))
            file, ln, col = _locate(sub_path, where, fallback)
            if err["type"] not in ("missing", "extra_forbidden") and "input" in err and not sep and not isinstance(err["input"], (dict, list)):
                sub_msg += f" (got {err['input']!r})"
            problems.append(Problem(file, sub_path, sub_msg, ln, col))
    return problems


_TOP_KEYS = set()


def _allowed_keys(parent_path: str, data: dict[str, Any]) -> list[str]:
    """Field names allowed at a key path, for 'did you mean' hints."""
    from . import schema

    model: Any = schema.Scenario
    parts = [p for p in parent_path.split(".") if p]
    i = 0
    while i < len(parts):
        part = parts[i]
        fields = getattr(model, "model_fields", {})
        if part not in fields:
            return []
        model = _inner_model(fields[part].annotation, parts[i + 1] if i + 1 < len(parts) else None)
        if model is dict:  # a mapping of name -> model: skip the name
            i += 1
            model = _DICT_VALUE.get(part)
        if model is None:
            return []
        i += 1
    return list(getattr(model, "model_fields", {}))


_DICT_VALUE: dict[str, Any] = {}


def _inner_model(annotation: Any, nxt: str | None) -> Any:
    import typing

    origin = typing.get_origin(annotation)
    if origin is dict:
        return dict
    if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg, nxt)
        if found is not None:
            return found
    return None


def _locate(path: str, where: Mapping[str, tuple[Path, int, int]], fallback: str) -> tuple[str, int | None, int | None]:
    p = path
    while p:
        if p in where:
            f, ln, col = where[p]
            return str(f), ln, col
        p = p.rsplit(".", 1)[0] if "." in p else ""
    return fallback, None, None


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario with where it came from."""

    scenario: Scenario
    path: str
    data: dict[str, Any]  # the resolved mapping (after extends and --set)

    @property
    def hash(self) -> str:
        return scenario_hash(self.data)


def scenario_hash(data: Mapping[str, Any]) -> str:
    blob = json.dumps(data, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def validate_data(data: dict[str, Any], file: str = "<scenario>", where: Mapping[str, tuple[Path, int, int]] | None = None) -> Scenario:
    """Validate an already-resolved mapping, raising :class:`ScenarioError` with every problem."""
    _init_tables()
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_problems_from_validation(exc, where or {}, file, data)) from None


def load_scenario_full(path: str | Path, overrides: Mapping[str, Any] | Iterable[str] | None = None) -> LoadedScenario:
    """Load, inherit, override and validate a scenario file."""
    path = Path(path)
    data, where = _resolve(path, ())
    if overrides:
        data = apply_overrides(data, overrides)
    scenario = validate_data(data, str(path), where)
    return LoadedScenario(scenario, str(path), data)


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | Iterable[str] | None = None) -> Scenario:
    """Load a scenario file (with ``extends:`` and dotted overrides) into a validated Scenario."""
    return load_scenario_full(path, overrides).scenario


def _init_tables() -> None:
    if _TOP_KEYS:
        return
    from . import schema

    _TOP_KEYS.update(schema.Scenario.model_fields)
    for name, field_info in schema.Scenario.model_fields.items():
        import typing

        if typing.get_origin(field_info.annotation) is dict:
            args = typing.get_args(field_info.annotation)
            if len(args) == 2:
                _DICT_VALUE[name] = _inner_model(args[1], None)
