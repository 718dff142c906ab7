"""Limits on what a scenario file may ask for, so that untrusted input cannot crash, hang or
exhaust the machine: the size and shape of the YAML, names that become file names, text that
cannot be written, and the size of a run.

Every limit is a named constant here (one home), with the reason beside it. The run-size
limits can be lifted on purpose (``allow_large``, the ``--allow-large`` flag); the others
cannot, since past them the engine cannot run at all.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Iterator

if TYPE_CHECKING:  # pragma: no cover
    from .schema import Scenario

# --------------------------------------------------------------------------- YAML documents
MAX_FILE_BYTES = 5_000_000  # the largest shipped scenario is under 10 KB
MAX_DEPTH = 100  # nesting of mappings and lists; a scenario needs about 8
MAX_ALIASES = 1_000  # uses of *alias in one file
MAX_ALIAS_VALUES = 100_000  # values that aliases add once expanded (stops "billion laughs")
MAX_NODES = 250_000  # values in a file, aliases expanded (bounds the time to read a file to seconds)
MAX_NUMBER_CHARS = 100  # digits of a number written in a file (Python refuses ints of 4,300)
MAX_EXTENDS = 32  # files in one extends: chain

# --------------------------------------------------------------------------- values the engine can run
MAX_HOUSEHOLDS = 1_000_000_000
MAX_STAFF = 100_000  # staff per unit, per shift, per pool member role
MAX_DURATION = 1e9  # means, sds and values of durations, in the scenario's time unit
MIN_DURATION_MEAN = 1e-9  # a mean or sd below it underflows the engine's clock (or overflows sd/mean)
MAX_CV = 100.0  # sd / mean of gamma and lognormal (beyond it the quantiles are not finite)
MAX_DAYS = 1e7  # deadlines, targets, follow-ups and other day counts
MAX_RATE = 1e6  # cases per household and year
MAX_FACTOR = 1e6  # weekday and hour factors
MAX_MONEY = 1e12  # yuan a year
MAX_SEED = 2**63 - 1  # numpy seeds are 64-bit
MAX_OPEN_CASES = 100_000_000

# --------------------------------------------------------------------------- run size (lifted by allow_large)
MAX_HORIZON_DAYS = 36_500.0  # a hundred years
MAX_REPLICATIONS = 10_000
MAX_CASES_PER_REPLICATION = 10_000_000  # the largest shipped scenario has about 80,000
MAX_CASES_PER_RUN = 100_000_000  # replications x cases per replication

# --------------------------------------------------------------------------- names and text
NAME_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
NAME_RULE = "1-64 letters, digits, '_', '.' or '-', not starting with '.' or '-'"
NAMED_MAPPINGS = ("levels", "roles", "meetings", "pools", "partners", "channels")  # their keys may become file names
MAX_TEXT_SHOWN = 60  # characters of an offending value quoted in a message


def name_problem(name: Any) -> str | None:
    """Why a name cannot be used as a file name (None if it can)."""
    if not isinstance(name, str):
        return None  # the schema reports the type
    if NAME_PATTERN.fullmatch(name) is None:
        return f"name {shorten(name)} is not allowed: use {NAME_RULE}"
    return None


def shorten(value: Any, limit: int = MAX_TEXT_SHOWN) -> str:
    """repr of a value cut to ``limit`` characters, for quoting untrusted input in a message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 5] + "...'" + f" ({len(str(value)):,} characters)"


def _walk(data: Any, prefix: str = "") -> Iterator[tuple[str, Any, bool]]:
    """(key path, value, is_key) of every key and value, without recursion (depth is untrusted)."""
    stack: list[tuple[str, Any]] = [(prefix, data)]
    seen: set[int] = set()
    while stack:
        path, node = stack.pop()
        if isinstance(node, (dict, list)):
            if id(node) in seen:  # shared (aliased) nodes are checked once
                continue
            seen.add(id(node))
        if isinstance(node, dict):
            for k, v in node.items():
                sub = f"{path}.{k}" if path else str(k)
                yield sub, k, True
                stack.append((sub, v))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                stack.append((f"{path}.{i}" if path else str(i), v))
        else:
            yield path, node, False


def text_problems(data: Any) -> list[tuple[str, str]]:
    """(key path, message) for every key or text value that cannot be written as UTF-8
    (lone surrogates such as ``"\\ud800"``): results could never be saved."""
    out = []
    for path, value, is_key in _walk(data):
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                what = "key" if is_key else "text"
                out.append((path, f"{what} cannot be written as UTF-8 (character {value[exc.start]!r} at position "
                                  f"{exc.start}); remove it"))
    return out


def name_problems(data: Any) -> list[tuple[str, str]]:
    """(key path, message) for the scenario name and the names of levels, roles and mechanisms
    that are not safe file names (they name folders and files of results)."""
    if not isinstance(data, dict):
        return []
    out = []
    if (why := name_problem(data.get("name"))) is not None:
        out.append(("name", why))
    for group in NAMED_MAPPINGS:
        items = data.get(group)
        if isinstance(items, dict):
            for key in items:
                if (why := name_problem(key)) is not None:
                    out.append((f"{group}.{key}", why))
    return out


def run_size_problems(scenario: "Scenario", replications: int | None = None, horizon_days: float | None = None,
                      allow_large: bool = False) -> list[tuple[str, str]]:
    """(key path, message) for a run too large to finish or to fit in memory: horizon,
    replications and expected cases. ``replications`` and ``horizon_days`` override the
    scenario's (command-line options, named ``--reps`` and ``--horizon-days``)."""
    if allow_large:
        return []
    hint = "; pass --allow-large if you really mean it"
    reps = replications or scenario.replications
    horizon = horizon_days or scenario.horizon_days
    key_h = "--horizon-days" if horizon_days else "horizon_days"
    key_r = "--reps" if replications else "replications"
    out = []
    if horizon > MAX_HORIZON_DAYS:
        out.append((key_h, f"{horizon:g} days is more than {MAX_HORIZON_DAYS:,.0f} days (a hundred years){hint}"))
    if reps > MAX_REPLICATIONS:
        out.append((key_r, f"{reps:,} replications is more than {MAX_REPLICATIONS:,}{hint}"))
    per_rep = scenario.arrivals.rate_per_household_year * scenario.households * horizon / 365.0
    if per_rep > MAX_CASES_PER_REPLICATION:
        out.append(("arrivals.rate_per_household_year",
                    f"about {per_rep:,.0f} cases per replication (rate x households x {horizon:g} days / 365); "
                    f"at most {MAX_CASES_PER_REPLICATION:,}{hint}"))
    elif per_rep * reps > MAX_CASES_PER_RUN and reps <= MAX_REPLICATIONS:
        out.append((key_r, f"about {per_rep * reps:,.0f} cases in {reps:,} replications; at most {MAX_CASES_PER_RUN:,}{hint}"))
    return out
