"""Load scenario files: YAML, ``extends:`` inheritance, ``--set`` overrides, clear errors.

Every problem is reported as ``FILE:LINE:COL: key.path: what was expected``, all at once, in a
:class:`ScenarioError` (see :mod:`sim.scenario.problems`); the CLI turns that into exit
status 2 without a traceback. Keys written twice are problems too (PyYAML keeps the last).
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

from . import limits, safe_yaml
from .problems import Problem, ScenarioError, locate, allowed_keys, problems_from_validation
from .schema import Scenario

EXTENDS = "extends"
SCENARIO_KEYS = frozenset(Scenario.model_fields) | {EXTENDS}


@dataclass
class _Doc:
    """A parsed YAML file with the line of every key path, for error messages."""

    path: Path
    data: dict[str, Any]
    lines: dict[str, tuple[int, int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)  # found while reading (duplicate keys)


def _index_lines(node: yaml.Node, prefix: str, out: dict[str, tuple[int, int]], dups: list[tuple[str, int, int, int]]) -> None:
    """Record the line and column of every key path; collect keys written twice in one mapping."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = str(key_node.value)
            path = f"{prefix}.{key}" if prefix else key
            here = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if path in out and key != "<<":
                dups.append((path, *here, out[path][0]))
            out[path] = here
            _index_lines(value_node, path, out, dups)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            path = f"{prefix}.{i}" if prefix else str(i)
            out[path] = (item.start_mark.line + 1, item.start_mark.column + 1)
            _index_lines(item, path, out, dups)


def _syntax_message(exc: yaml.MarkedYAMLError) -> str:
    """PyYAML's complaint, with where the enclosing construct started and a hint for tabs."""
    msg = f"YAML syntax error: {exc.problem or exc.context}"
    if exc.problem and exc.context and exc.context_mark is not None and exc.context_mark != exc.problem_mark:
        msg += f" ({exc.context} started at line {exc.context_mark.line + 1})"
    if exc.problem and "'\\t'" in exc.problem:
        msg += "; indent with spaces, not tabs"
    return msg


def _read(path: Path) -> _Doc:
    """Parse one file within the limits of :mod:`sim.scenario.limits`."""
    try:
        doc = safe_yaml.load(safe_yaml.read_text(path))
    except FileNotFoundError:
        raise ScenarioError([Problem(str(path), "", "file not found")]) from None
    except safe_yaml.YamlLimitError as exc:
        raise ScenarioError([Problem(str(path), "", exc.message, exc.line, exc.column)]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise ScenarioError([Problem(str(path), "", _syntax_message(exc), line, col)]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError([Problem(str(path), "", f"YAML error: {exc}")]) from None
    node, data = doc.node, doc.data
    if data is None:
        data = {}
    if not isinstance(data, dict):  # never quote the content: the file may be anything
        raise ScenarioError([Problem(str(path), "", f"expected a mapping of keys at the top, got {_kind(data)}; "
                                                    "is this a scenario file?")])
    if data and not any(isinstance(k, str) and k in SCENARIO_KEYS for k in data):
        raise ScenarioError([Problem(str(path), "", f"none of its {len(data):,} top-level keys is a scenario key; "
                                                    "is this a scenario file?")])
    lines: dict[str, tuple[int, int]] = {}
    dups: list[tuple[str, int, int, int]] = []
    if node is not None:
        _index_lines(node, "", lines, dups)
    problems = [Problem(str(path), key, f"key written twice (first at line {first}); remove one", ln, col)
                for key, ln, col, first in dups]
    return _Doc(path, data, lines, problems)


def _kind(value: Any) -> str:
    return {"str": "text", "list": "a list", "int": "a number", "float": "a number", "bool": "true/false"}.get(
        type(value).__name__, type(value).__name__)


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge override into base: mappings merge key by key, anything else replaces."""
    out = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _resolve(path: Path) -> tuple[dict[str, Any], dict[str, tuple[str, int, int]], list[Problem]]:
    """The file's data with its parents merged in, where each key path was written, and the
    problems found while reading (duplicate keys). Files are named as the user wrote them.
    The chain is followed in a loop (not recursion) and is at most MAX_EXTENDS files long."""
    chain: list[tuple[Path, dict[str, Any], dict[str, tuple[str, int, int]]]] = []
    seen: list[Path] = []
    problems: list[Problem] = []
    while True:
        doc = _read(path)
        problems = doc.problems + problems
        data = dict(doc.data)
        chain.append((path, data, {k: (str(path), ln, col) for k, (ln, col) in doc.lines.items()}))
        seen.append(_real(path))
        parent = data.pop(EXTENDS, None)
        if parent is None:
            break
        ln, col = doc.lines.get(EXTENDS, (None, None))
        parent_path, why = _parent_path(path, parent, seen)
        if why is None and len(chain) >= limits.MAX_EXTENDS:
            why = f"more than {limits.MAX_EXTENDS} files in the extends: chain"
        if why is not None:
            raise ScenarioError([*problems, Problem(str(path), EXTENDS, why, ln, col)])
        path = parent_path
    merged: dict[str, Any] = {}
    where: dict[str, tuple[str, int, int]] = {}
    for _, data, lines in reversed(chain):  # the root ancestor first, each child over it
        merged = deep_merge(merged, data)
        where.update(lines)
    return merged, where, problems


def _real(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError):  # a symlink loop: the read before would have failed
        return path.absolute()


def _parent_path(path: Path, parent: Any, seen: list[Path]) -> tuple[Path, str | None]:
    """The parent file named by ``extends:`` and why it cannot be used (None if it can)."""
    if not isinstance(parent, str) or not parent.strip():
        return path, f"expected the path of a parent scenario file (got {limits.shorten(parent)})"
    if "\0" in parent or len(parent) > 4096:
        return path, f"expected the path of a parent scenario file (got {limits.shorten(parent)})"
    parent_path = path.parent / parent
    try:
        real = parent_path.resolve(strict=True)
    except FileNotFoundError:
        return parent_path, f"parent scenario {limits.shorten(parent)} not found (looked for {parent_path})"
    except (OSError, RuntimeError, ValueError) as exc:  # symlink loop, permissions, name too long
        return parent_path, f"parent scenario {limits.shorten(parent)} cannot be opened: {safe_yaml.os_reason(exc)}"
    if real in seen:
        loop = " -> ".join(p.name for p in (*seen, real))
        return parent_path, f"extends loop: {loop}"
    if real.is_dir():
        return parent_path, f"parent scenario {limits.shorten(parent)} is a folder, not a scenario file ({parent_path})"
    if not real.is_file():
        return parent_path, f"parent scenario {limits.shorten(parent)} is not a regular file ({parent_path})"
    return parent_path, None


def parse_value(text: str) -> Any:
    """A ``--set`` value: YAML scalar syntax, so 3 is an int, 0.5 a float, [1,2] a list.
    Raises :class:`safe_yaml.YamlLimitError` for a value past the limits (deep, huge numbers)."""
    try:
        return safe_yaml.load(text).data
    except yaml.YAMLError:
        return text


def apply_overrides(data: dict[str, Any], overrides: Mapping[str, Any] | Iterable[str], file: str = "--set") -> dict[str, Any]:
    """Set dotted key paths (``levels.grid.deadline_days``). Every key on the way must exist;
    the last may be new only where the schema allows it (an optional field not written in
    the file, or a new name in a mapping of names such as ``levels``). Reports every bad path."""
    out, problems = _apply_overrides(data, overrides, file)
    if problems:
        raise ScenarioError(problems)
    return out


def _apply_overrides(data: dict[str, Any], overrides: Mapping[str, Any] | Iterable[str],
                     file: str = "--set") -> tuple[dict[str, Any], list[Problem]]:
    """The data with every valid override applied, and a problem for each one that is not."""
    problems: list[Problem] = []
    if not isinstance(overrides, Mapping):
        pairs = {}
        for item in overrides:
            if "=" not in item:
                problems.append(Problem(file, limits.shorten(item)[1:-1], "expected key.path=value"))
                continue
            k, v = item.split("=", 1)
            try:
                pairs[k.strip()] = parse_value(v)
            except safe_yaml.YamlLimitError as exc:
                problems.append(Problem(file, k.strip(), f"value not accepted: {exc.message}"))
        overrides = pairs
    out = copy.deepcopy(data)
    for dotted, value in overrides.items():
        keys = dotted.split(".")
        node: Any = out
        for depth, key in enumerate(keys):
            last = depth == len(keys) - 1
            so_far = ".".join(keys[:depth])
            if isinstance(node, list) and key.isascii() and key.isdigit() and len(key) < 10 and int(key) < len(node):
                key_i: Any = int(key)
            elif isinstance(node, dict) and key in node:
                key_i = key
            elif isinstance(node, dict) and last and _may_add(so_far, key, out):
                key_i = key
            else:
                problems.append(Problem(file, dotted, _no_such_key(key, so_far, node, out)))
                break
            if last:
                node[key_i] = value
            else:
                node = node[key_i]
    return out, problems


def _may_add(parent: str, key: str, data: dict[str, Any]) -> bool:
    """A key absent from the data may be set if the schema has a field of that name there,
    or if the parent is a mapping of free names (levels, roles, sources, ...)."""
    allowed = allowed_keys(parent, data)
    if allowed is None:
        return False
    return key in allowed if allowed else True


def _no_such_key(key: str, parent: str, node: Any, data: dict[str, Any]) -> str:
    where = parent or "the top"
    key = limits.shorten(key)[1:-1]
    if isinstance(node, list):
        return f"no item {key} under {where} (it has {len(node)} items, 0..{len(node) - 1})"
    if not isinstance(node, dict):
        return f"no key '{key}' under {where}: {where} is a single value, not a mapping"
    choices = sorted(set(map(str, node)) | set(allowed_keys(parent, data) or []))
    hint = difflib.get_close_matches(key, choices, n=1) if len(key) <= limits.MAX_TEXT_SHOWN else []
    extra = f"; did you mean '{hint[0]}'?" if hint else (f"; keys there: {', '.join(choices)}" if choices else "")
    return f"no key '{key}' under {where}{extra}"


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


def validate_data(data: dict[str, Any], file: str = "<scenario>", where: Mapping[str, tuple[Any, int | None, int | None]] | None = None,
                  extra: list[Problem] | None = None, allow_large: bool = False) -> Scenario:
    """Validate an already-resolved mapping, raising :class:`ScenarioError` with every problem
    (``extra``: problems found earlier, such as duplicate keys, reported with the rest).
    Names must be safe file names, text must be writable, and the run must be of a size that
    can finish unless ``allow_large``."""
    where = where or {}
    found = [_located(path, msg, where, file) for path, msg in limits.name_problems(data) + limits.text_problems(data)]
    scenario = None
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        found += problems_from_validation(exc, where, file, data)
        found += _problems_beyond_unknown_keys(exc, data, where, file, found)
    except (TypeError, ValueError, ArithmeticError) as exc:  # a check that tripped over odd input
        found.append(Problem(file, "", f"cannot check the scenario: {exc}"))
    if scenario is not None:
        found += [_located(path, msg, where, file) for path, msg in limits.run_size_problems(scenario, allow_large=allow_large)]
    problems = list(extra or []) + _in_file_order(_unique(found))
    if problems:
        raise ScenarioError(problems)
    return scenario


def _located(path: str, message: str, where: Mapping[str, tuple[Any, int | None, int | None]], file: str) -> Problem:
    """A problem at a key path, with the file and line that wrote it."""
    at, line, column = locate(path, where, file)
    return Problem(at, path, message, line, column)


def _unique(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[str, str]] = set()
    out = []
    for p in problems:
        if (p.path, p.message) not in seen:
            seen.add((p.path, p.message))
            out.append(p)
    return out


def _in_file_order(problems: list[Problem]) -> list[Problem]:
    files = list(dict.fromkeys(p.file for p in problems))
    return sorted(problems, key=lambda p: (files.index(p.file), p.line if p.line is not None else 1 << 30))


def _problems_beyond_unknown_keys(exc: ValidationError, data: dict[str, Any], where: Mapping[str, tuple[Any, int | None, int | None]],
                                  file: str, found: list[Problem]) -> list[Problem]:
    """pydantic runs the cross-field checks only when every field is valid, so an unknown key
    would hide them: validate again without the unknown keys and report what else is wrong."""
    unknown = [e["loc"] for e in exc.errors(include_url=False) if e["type"] == "extra_forbidden"]
    if not unknown or len(unknown) != len(exc.errors()):
        return []
    trimmed = copy.deepcopy(data)
    for loc in unknown:
        node: Any = trimmed
        for key in loc[:-1]:
            node = node.get(key) if isinstance(node, dict) else (node[key] if isinstance(node, list) and isinstance(key, int)
                                                                  and key < len(node) else None)
        if isinstance(node, dict):
            node.pop(loc[-1], None)
    try:
        Scenario.model_validate(trimmed)
    except ValidationError as again:
        return [p for p in problems_from_validation(again, where, file, trimmed) if p.message != "required key is missing"]
    except (TypeError, ValueError, ArithmeticError):
        return []
    return []


def load_scenario_full(path: str | Path, overrides: Mapping[str, Any] | Iterable[str] | None = None,
                       allow_large: bool = False) -> LoadedScenario:
    """Load, inherit, override and validate a scenario file; every problem of the file and of
    every override is reported at once. ``allow_large`` lifts the run-size limits."""
    path = Path(path)
    data, where, problems = _resolve(path)
    if overrides:
        data, bad = _apply_overrides(data, overrides)
        problems += bad
        items = overrides.items() if isinstance(overrides, Mapping) else (o.split("=", 1) for o in overrides if "=" in o)
        for dotted, raw in items:
            dotted = dotted.strip()
            for shadowed in [k for k in where if k.startswith(dotted + ".")]:  # the file's lines no longer apply
                del where[shadowed]
            where[dotted] = (f"{path} (--set {dotted}={limits.shorten(raw)[1:-1]})", None, None)
    scenario = validate_data(data, str(path), where, problems, allow_large=allow_large)
    return LoadedScenario(scenario, str(path), data)


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | Iterable[str] | None = None,
                  allow_large: bool = False) -> Scenario:
    """Load a scenario file (with ``extends:`` and dotted overrides) into a validated Scenario."""
    return load_scenario_full(path, overrides, allow_large).scenario
