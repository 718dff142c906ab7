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

from .problems import Problem, ScenarioError, allowed_keys, problems_from_validation
from .schema import Scenario

EXTENDS = "extends"
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when PyYAML was built with it


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
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError([Problem(str(path), "", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([Problem(str(path), "", f"cannot read the file: {exc}")]) from None
    try:
        try:  # libyaml parses ~15x faster (start-up of `sim validate`); same nodes, lines and data
            node = yaml.compose(text, Loader=_FAST_LOADER)
            data = yaml.load(text, Loader=_FAST_LOADER)
        except yaml.YAMLError:  # report errors with the pure-Python parser's messages
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise ScenarioError([Problem(str(path), "", _syntax_message(exc), line, col)]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError([Problem(str(path), "", f"YAML error: {exc}")]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScenarioError([Problem(str(path), "", f"expected a mapping of keys at the top, got {type(data).__name__}")])
    lines: dict[str, tuple[int, int]] = {}
    dups: list[tuple[str, int, int, int]] = []
    if node is not None:
        _index_lines(node, "", lines, dups)
    problems = [Problem(str(path), key, f"key written twice (first at line {first}); remove one", ln, col)
                for key, ln, col, first in dups]
    return _Doc(path, data, lines, problems)


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge override into base: mappings merge key by key, anything else replaces."""
    out = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _resolve(path: Path, chain: tuple[Path, ...] = ()) -> tuple[dict[str, Any], dict[str, tuple[str, int, int]], list[Problem]]:
    """The file's data with its parents merged in, where each key path was written, and the
    problems found while reading (duplicate keys). Files are named as the user wrote them."""
    real = path.resolve()
    doc = _read(path)
    data = dict(doc.data)
    where = {k: (str(path), ln, col) for k, (ln, col) in doc.lines.items()}
    parent = data.pop(EXTENDS, None)
    if parent is None:
        return data, where, doc.problems
    ln, col = doc.lines.get(EXTENDS, (None, None))
    if not isinstance(parent, str) or not parent.strip():
        raise ScenarioError([*doc.problems, Problem(str(path), EXTENDS, f"expected the path of a parent scenario file (got {parent!r})", ln, col)])
    parent_path = path.parent / parent
    if parent_path.resolve() in (*chain, real):
        loop = " -> ".join(p.name for p in (*chain, real, parent_path.resolve()))
        raise ScenarioError([*doc.problems, Problem(str(path), EXTENDS, f"extends loop: {loop}", ln, col)])
    if not parent_path.is_file():
        raise ScenarioError([*doc.problems, Problem(str(path), EXTENDS, f"parent scenario '{parent}' not found (looked for {parent_path})", ln, col)])
    base, base_where, problems = _resolve(parent_path, (*chain, real))
    base_where.update(where)
    return deep_merge(base, data), base_where, problems + doc.problems


def parse_value(text: str) -> Any:
    """A ``--set`` value: YAML scalar syntax, so 3 is an int, 0.5 a float, [1,2] a list."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def apply_overrides(data: dict[str, Any], overrides: Mapping[str, Any] | Iterable[str], file: str = "--set") -> dict[str, Any]:
    """Set dotted key paths (``levels.grid.deadline_days``). Every key on the way must exist;
    the last may be new only where the schema allows it (an optional field not written in
    the file, or a new name in a mapping of names such as ``levels``). Reports every bad path."""
    problems: list[Problem] = []
    if not isinstance(overrides, Mapping):
        pairs = {}
        for item in overrides:
            if "=" not in item:
                problems.append(Problem(file, item, "expected key.path=value"))
                continue
            k, v = item.split("=", 1)
            pairs[k.strip()] = parse_value(v)
        overrides = pairs
    out = copy.deepcopy(data)
    for dotted, value in overrides.items():
        keys = dotted.split(".")
        node: Any = out
        for depth, key in enumerate(keys):
            last = depth == len(keys) - 1
            so_far = ".".join(keys[:depth])
            if isinstance(node, list) and key.isdigit() and int(key) < len(node):
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
    if problems:
        raise ScenarioError(problems)
    return out


def _may_add(parent: str, key: str, data: dict[str, Any]) -> bool:
    """A key absent from the data may be set if the schema has a field of that name there,
    or if the parent is a mapping of free names (levels, roles, sources, ...)."""
    allowed = allowed_keys(parent, data)
    if allowed is None:
        return False
    return key in allowed if allowed else True


def _no_such_key(key: str, parent: str, node: Any, data: dict[str, Any]) -> str:
    where = parent or "the top"
    if isinstance(node, list):
        return f"no item {key} under {where} (it has {len(node)} items, 0..{len(node) - 1})"
    if not isinstance(node, dict):
        return f"no key '{key}' under {where}: {where} is a single value, not a mapping"
    choices = sorted(set(map(str, node)) | set(allowed_keys(parent, data) or []))
    hint = difflib.get_close_matches(key, choices, n=1)
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
                  extra: list[Problem] | None = None) -> Scenario:
    """Validate an already-resolved mapping, raising :class:`ScenarioError` with every problem
    (``extra``: problems found earlier, such as duplicate keys, reported with the rest)."""
    problems = list(extra or [])
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems += problems_from_validation(exc, where or {}, file, data)
        raise ScenarioError(problems) from None
    except (TypeError, ValueError, ArithmeticError) as exc:  # a check that tripped over odd input
        problems.append(Problem(file, "", f"cannot check the scenario: {exc}"))
        raise ScenarioError(problems) from None
    if problems:
        raise ScenarioError(problems)
    return scenario


def load_scenario_full(path: str | Path, overrides: Mapping[str, Any] | Iterable[str] | None = None) -> LoadedScenario:
    """Load, inherit, override and validate a scenario file."""
    path = Path(path)
    data, where, problems = _resolve(path)
    if overrides:
        data = apply_overrides(data, overrides)
        items = overrides.items() if isinstance(overrides, Mapping) else (o.split("=", 1) for o in overrides)
        for dotted, raw in items:
            where[dotted.strip()] = (f"{path} (--set {dotted.strip()}={raw})", None, None)
    scenario = validate_data(data, str(path), where, problems)
    return LoadedScenario(scenario, str(path), data)


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | Iterable[str] | None = None) -> Scenario:
    """Load a scenario file (with ``extends:`` and dotted overrides) into a validated Scenario."""
    return load_scenario_full(path, overrides).scenario
