"""Read a YAML file that may be hostile: bounded size, nesting, aliases and numbers.

PyYAML composes nodes recursively (libyaml's Cython composer overflows the C stack on deep
nesting; the pure-Python one raises RecursionError), and expands aliases without bound (a
1 KB "billion laughs" document becomes gigabytes). So the file is first read with a byte
limit, then its *event stream* (which both parsers produce without recursion) is scanned for
nesting depth, recursive or excessive aliases, expanded size and overlong numbers; only a
document within the limits of :mod:`sim.scenario.limits` is composed and constructed.
"""

from __future__ import annotations

import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from . import limits

FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when PyYAML was built with it
_NUMBER = re.compile(r"[-+]?(0[xob])?[0-9_.,:]+([eE][-+]?[0-9]+)?")
_COLLECTION_START = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_COLLECTION_END = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


class YamlLimitError(Exception):
    """A document broke a limit; ``line`` and ``column`` (1-based) say where, if known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


@dataclass
class YamlDocument:
    """The composed root node (with marks, for line numbers) and the constructed data."""

    node: yaml.Node | None
    data: Any


def read_text(path: Path) -> str:
    """The text of a regular file of at most MAX_FILE_BYTES (never a directory, device or pipe).
    Raises YamlLimitError with a plain reason; FileNotFoundError when there is no such file."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise
    except (OSError, ValueError, RuntimeError) as exc:  # a NUL in the name, a symlink loop, no permission
        raise YamlLimitError(f"cannot read the file: {os_reason(exc)}") from None
    if stat.S_ISDIR(st.st_mode):
        raise YamlLimitError("is a folder, not a scenario file")
    if not stat.S_ISREG(st.st_mode):
        raise YamlLimitError("is not a regular file (a device, pipe or socket), not a scenario file")
    if st.st_size > limits.MAX_FILE_BYTES:
        raise YamlLimitError(f"the file has {st.st_size:,} bytes; at most {limits.MAX_FILE_BYTES:,}")
    try:
        with open(path, "rb") as fh:
            raw = fh.read(limits.MAX_FILE_BYTES + 1)  # the file may grow between stat and read
    except OSError as exc:
        raise YamlLimitError(f"cannot read the file: {os_reason(exc)}") from None
    if len(raw) > limits.MAX_FILE_BYTES:
        raise YamlLimitError(f"the file has more than {limits.MAX_FILE_BYTES:,} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise YamlLimitError(f"not UTF-8 text (byte 0x{raw[exc.start]:02x} cannot be decoded); "
                             f"save the file as UTF-8", line) from None


def os_reason(exc: BaseException) -> str:
    """Why a file could not be opened, in words (not the exception class)."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc)
    return "symbolic link loop" if "loop" in text.lower() else text


def scan(text: str, loader: type = FAST_LOADER) -> None:
    """Raise YamlLimitError if the document nests too deep, uses aliases recursively or too
    often, expands to too many values or writes an overlong number; YAMLError on bad syntax.
    Events come one at a time, so a hostile document is refused as soon as a limit is passed."""
    open_anchors: list[str | None] = []
    sizes: dict[str, int] = {}  # anchor -> values it expands to
    counts: list[int] = []  # values inside each open collection
    total = aliases = through_aliases = 0
    for event in yaml.parse(text, Loader=loader):
        size = 0
        if isinstance(event, _COLLECTION_START):
            if len(counts) >= limits.MAX_DEPTH:
                raise YamlLimitError(f"nested more than {limits.MAX_DEPTH} levels deep", *_where(event))
            open_anchors.append(event.anchor)
            counts.append(1)
            total += 1
        elif isinstance(event, _COLLECTION_END):
            anchor = open_anchors.pop()
            size = counts.pop()
            if anchor is not None:
                sizes[anchor] = size
        elif isinstance(event, yaml.ScalarEvent):
            _check_scalar(event)
            size = 1
            total += 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if event.anchor in open_anchors:
                raise YamlLimitError(f"alias *{event.anchor} refers to a value that contains it (a recursive alias)", *_where(event))
            if aliases > limits.MAX_ALIASES:
                raise YamlLimitError(f"more than {limits.MAX_ALIASES:,} aliases (*name)", *_where(event))
            size = sizes.get(event.anchor, 1)  # an unknown anchor is reported by the composer
            total += size
            through_aliases += size
            if through_aliases > limits.MAX_ALIAS_VALUES:
                raise YamlLimitError(f"aliases expand to more than {limits.MAX_ALIAS_VALUES:,} values", *_where(event))
        if total > limits.MAX_NODES:
            raise YamlLimitError(f"more than {limits.MAX_NODES:,} values (aliases expanded)", *_where(event))
        if size and counts and not isinstance(event, _COLLECTION_START):
            counts[-1] += size


def _where(event: yaml.Event) -> tuple[int | None, int | None]:
    mark = getattr(event, "start_mark", None)
    return (mark.line + 1, mark.column + 1) if mark is not None else (None, None)


def _check_scalar(event: yaml.ScalarEvent) -> None:
    value = event.value
    if event.implicit[0] and len(value) > limits.MAX_NUMBER_CHARS and _NUMBER.fullmatch(value):
        raise YamlLimitError(f"a number of {len(value):,} characters; at most {limits.MAX_NUMBER_CHARS}", *_where(event))


def load(text: str) -> YamlDocument:
    """Scan, then compose and construct one document (libyaml when available: fast start-up).
    Raises YamlLimitError, or yaml.YAMLError worded by the pure-Python parser."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates, from undecodable bytes on a command line
        raise YamlLimitError(f"character {text[exc.start]!r} at position {exc.start} is not valid text") from None
    try:
        scan(text, FAST_LOADER)
    except yaml.YAMLError:
        if FAST_LOADER is yaml.SafeLoader:
            raise
        scan(text, yaml.SafeLoader)  # the pure-Python parser words syntax errors better
        raise
    try:
        loader = FAST_LOADER(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError:
        if FAST_LOADER is yaml.SafeLoader:
            raise
        loader = yaml.SafeLoader(text)  # same error, worded by the pure-Python composer
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except (ValueError, OverflowError, TypeError) as exc:  # a constructor choking on a value (a date like 2024-13-45)
        raise YamlLimitError(f"a value cannot be read: {exc}") from None
    return YamlDocument(node, data)
