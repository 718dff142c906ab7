"""What is wrong with a scenario, and how to say it: :class:`Problem` rows (file, line, key
path, what was expected), :class:`ScenarioError`, and the translation of pydantic's
validation errors into such rows.

pydantic reports union members and type names inside error locations and words its
messages for programmers; here locations become the key paths people wrote, a value that
fits no member of a union is explained once ("expected a number or a mapping"), unknown
keys get a "did you mean", and a required key reported missing because it was misspelt is
not reported twice.
"""

from __future__ import annotations

import difflib
import typing
from dataclasses import dataclass
from types import UnionType
from typing import Any, Mapping

from pydantic import ValidationError

from .limits import shorten
from .schema import DIST_NAMES, Scenario


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
        key = f" {_printable(self.path, 300)}:" if self.path else ""
        return f"{_printable(where)}:{key} {_printable(self.message)}"


def _printable(text: str, limit: int = 2000) -> str:
    """Text from an untrusted file, safe to print on one line: control characters (newlines,
    escape sequences) and lone surrogates are shown escaped, overlong text is cut."""
    if len(text) > limit:
        text = text[: limit - 20] + f"... ({len(text):,} characters)"
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() and not 0xD800 <= ord(c) <= 0xDFFF else repr(c)[1:-1] for c in text)


class ScenarioError(Exception):
    """A scenario could not be loaded; holds every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    def __reduce__(self):  # keep the problems when raised in a worker process
        return (type(self), (self.problems,))


def locate(path: str, where: Mapping[str, tuple[Any, int | None, int | None]], fallback: str) -> tuple[str, int | None, int | None]:
    """File, line and column that wrote a key path (or its nearest parent), else ``fallback``."""
    p = path
    while p:
        if p in where:
            f, ln, col = where[p]
            return str(f), ln, col
        p = p.rsplit(".", 1)[0] if "." in p else ""
    return fallback, None, None


# --------------------------------------------------------------------------- schema walking
def _unwrap(annotation: Any) -> list[Any]:
    """The alternatives of an annotation (Union members, Annotated stripped)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, UnionType):
        return [m for a in typing.get_args(annotation) for m in _unwrap(a)]
    return [annotation]


def _step(annotation: Any, node: Any, part: str) -> tuple[Any, Any] | None:
    """Descend one key from a schema annotation (and the data beside it), or None if impossible."""
    for alt in _unwrap(annotation):
        origin = typing.get_origin(alt)
        if origin is dict:
            sub = node.get(part) if isinstance(node, dict) else None
            return typing.get_args(alt)[1], sub
        if origin in (list, tuple) and part.isdigit():
            sub = node[int(part)] if isinstance(node, list) and int(part) < len(node) else None
            return typing.get_args(alt)[0], sub
    model = _pick_model(annotation, node)
    if model is not None and part in model.model_fields:
        sub = node.get(part) if isinstance(node, dict) else None
        return model.model_fields[part].annotation, sub
    return None


def _pick_model(annotation: Any, node: Any) -> Any:
    """The pydantic model an annotation means for this data (distributions by their 'dist')."""
    models = [a for a in _unwrap(annotation) if isinstance(a, type) and hasattr(a, "model_fields")]
    if len(models) > 1 and isinstance(node, dict) and "dist" in node:
        for m in models:
            f = m.model_fields.get("dist")
            if f is not None and node["dist"] in getattr(f.annotation, "__args__", ()):
                return m
    return models[0] if models else None


def allowed_keys(parent_path: str | list[str], data: dict[str, Any]) -> list[str] | None:
    """Keys the schema allows at a key path: field names, [] for a mapping of free names,
    None where no mapping is allowed (or the path leaves the schema)."""
    ann: Any = Scenario
    node: Any = data
    parts = parent_path if isinstance(parent_path, list) else parent_path.split(".")
    for part in [p for p in parts if p]:
        nxt = _step(ann, node, part)
        if nxt is None:
            return None
        ann, node = nxt
    model = _pick_model(ann, node)
    if model is not None:
        return list(model.model_fields)
    if any(typing.get_origin(a) is dict for a in _unwrap(ann)):
        return []
    return None


# --------------------------------------------------------------------------- pydantic errors -> Problems
_MISMATCH = {"dict_type", "model_type", "model_attributes_type", "float_type", "float_parsing", "int_type", "int_parsing",
             "int_from_float", "string_type", "literal_error", "list_type", "tuple_type", "bool_type", "bool_parsing",
             "union_tag_invalid", "union_tag_not_found", "is_instance_of", "none_required"}

_EXPECTED = {
    "int_type": "a whole number", "int_parsing": "a whole number", "int_from_float": "a whole number",
    "float_type": "a number", "float_parsing": "a number", "string_type": "text",
    "bool_type": "true or false", "bool_parsing": "true or false", "list_type": "a list", "tuple_type": "a list",
    "dict_type": "a mapping (key: value)", "model_type": "a mapping (key: value)",
    "model_attributes_type": "a mapping (key: value)", "none_required": "nothing (null)",
}


def _expected(err: Mapping[str, Any]) -> str | None:
    """'what was expected' for a type or bound error, in plain words."""
    t, ctx = err["type"], err.get("ctx") or {}
    if t in _EXPECTED:
        return _EXPECTED[t]
    if t == "literal_error":
        return str(ctx.get("expected", ""))
    bounds = {"greater_than": ("greater than", "gt"), "greater_than_equal": ("of at least", "ge"),
              "less_than": ("less than", "lt"), "less_than_equal": ("of at most", "le")}
    if t in bounds:
        words, key = bounds[t]
        return f"a number {words} {ctx.get(key, '?'):g}" if isinstance(ctx.get(key), (int, float)) else None
    if t in ("too_short", "too_long"):
        n = ctx.get("min_length" if t == "too_short" else "max_length")
        return f"{'at least' if t == 'too_short' else 'at most'} {n} item{'s' if n != 1 else ''}"
    if t == "string_too_short":
        return "some text (it may not be empty)"
    if t == "invalid_key":
        return "a text key (write it in quotes)"
    if t == "finite_number":
        return "a finite number"
    return None


def _got(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value)}" if not isinstance(value, tuple) else "a list"
    if value is None:
        return "nothing (null)"
    return shorten(value)


def _split_loc(loc: tuple[Any, ...], err_type: str, data: Any) -> tuple[list[str], int | None, str | None]:
    """Key path of an error without pydantic's union-member tags, the position of the first tag
    and the tag. A loc element is a tag when the data has no such key there."""
    parts: list[str] = []
    node: Any = data
    tag_at, tag = None, None
    for k, item in enumerate(loc):
        last = k == len(loc) - 1
        if isinstance(node, dict) and item in node:
            parts.append(str(item))
            node = node[item]
        elif isinstance(node, list) and isinstance(item, int) and 0 <= item < len(node):
            parts.append(str(item))
            node = node[item]
        elif last and err_type in ("missing", "extra_forbidden"):
            parts.append(str(item))
        else:
            if tag_at is None:
                tag_at, tag = len(parts), str(item)
    return parts, tag_at, tag


def _select_union_branches(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """For a value that matches no member of a union, keep only the member it was meant for
    (the one whose errors are not 'wrong type' at the value itself), or merge all into one
    'expected X or Y' error when every member rejects its type."""
    groups: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for e in errors:
        if e["_tag"] is not None:
            base = ".".join(e["_parts"][: e["_tag_at"]])
            groups.setdefault(base, {}).setdefault(e["_tag"], []).append(e)
    drop: set[int] = set()
    merged: list[dict[str, Any]] = []
    for base, branches in groups.items():
        if len(branches) < 2:
            continue
        def mismatch(errs: list[dict[str, Any]]) -> bool:
            return all(x["type"] in _MISMATCH and x["_path"] == base for x in errs)
        bad = [t for t, errs in branches.items() if mismatch(errs)]
        if len(bad) < len(branches):
            drop.update(id(x) for t in bad for x in branches[t])
        else:
            everything = [x for errs in branches.values() for x in errs]
            drop.update(id(x) for x in everything)
            wanted = list(dict.fromkeys(_expected(x) or x["msg"] for x in everything))
            first = everything[0]
            merged.append({**first, "type": "union_mismatch", "msg": f"expected {' or '.join(wanted)}", "_tag": None})
    return [e for e in errors if id(e) not in drop] + merged


def problems_from_validation(exc: ValidationError, where: Mapping[str, tuple[Any, int | None, int | None]], fallback: str,
                              data: dict[str, Any]) -> list[Problem]:
    """Every pydantic error as a located Problem, sorted by file and line."""
    errors = []
    for err in exc.errors(include_url=False):
        err = dict(err)
        parts, err["_tag_at"], err["_tag"] = _split_loc(tuple(err["loc"]), err["type"], data)
        err["_parts"], err["_path"] = parts, ".".join(parts)
        errors.append(err)
    errors = _select_union_branches(errors)
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    suggested: set[str] = set()  # key paths an unknown key's 'did you mean' points to
    for err in errors:
        path, etype = err["_path"], err["type"]
        msg = err["msg"].removeprefix("Value error, ")
        got = "input" in err and etype not in ("missing", "extra_forbidden", "value_error")
        if etype == "extra_forbidden":
            key = err["_parts"][-1]
            parent = ".".join(err["_parts"][:-1])
            allowed = allowed_keys(err["_parts"][:-1], data) or []
            hint = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            if hint:
                suggested.add(f"{parent}.{hint[0]}" if parent else hint[0])
            msg = f"unknown key '{key}'" + (f"; did you mean '{hint[0]}'?" if hint else (f"; expected one of: {', '.join(allowed)}" if allowed else ""))
        elif etype == "missing":
            msg = "required key is missing"
        elif etype == "union_tag_invalid":
            msg = f"unknown distribution '{(err.get('ctx') or {}).get('tag', '?')}'; expected dist: one of {', '.join(DIST_NAMES)}"
            got = False
        elif etype == "union_tag_not_found":
            msg = f"missing 'dist:'; expected one of {', '.join(DIST_NAMES)}"
            got = False
        elif etype not in ("value_error", "union_mismatch") and (expected := _expected(err)):
            msg = f"expected {expected}"
        for line in msg.split("\n"):
            sub_path, sub_msg = path, line
            # cross-field checks carry their own key path as 'a.b.c: message'
            head, sep, tail = line.partition(": ")
            if sep and " " not in head and head.split(".")[0] in Scenario.model_fields:
                sub_path, sub_msg = head, tail
            elif got:
                sub_msg += f" (got {_got(err['input'])})"
            if (sub_path, sub_msg) in seen:
                continue
            seen.add((sub_path, sub_msg))
            file, ln, col = locate(sub_path, where, fallback)
            problems.append(Problem(file, sub_path, sub_msg, ln, col))
    # a required key reported missing because it was misspelt: the 'did you mean' says it all
    problems = [p for p in problems if not (p.message == "required key is missing" and p.path in suggested)]
    files = list(dict.fromkeys(p.file for p in problems))
    return sorted(problems, key=lambda p: (files.index(p.file), p.line if p.line is not None else 1 << 30))
