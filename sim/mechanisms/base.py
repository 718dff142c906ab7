"""What a mechanism declares, and what its runtime hands the model.

A mechanism (meetings, pools, partners, channels, volunteers, closed-loop rules) is one module
of :mod:`sim.mechanisms` exposing a :class:`Mechanism`: its scenario section (pydantic models),
its cross-checks against the rest of the scenario, its rows for ``sim describe`` and the
report, and a factory for its runtime. Its metrics are the catalogue entries whose ``group``
is the mechanism's name. The runtime gets a narrow :class:`~sim.mechanisms.context.Context`
(clock, random streams, resources, read-only level facts), never the model, and answers with
:class:`Hooks` that the model wires in itself.

Nothing here imports SimPy or numpy: the scenario schema imports every mechanism module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Generator, Iterator, Protocol, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from ..rosters import WeeklyProfile
    from ..scenario.schema import Scenario
    from .context import Context, MetricSink

DescriptionRow = tuple[str, str, str, str]  # (kind, name, where, what) for `sim describe` and the report


class Settler(Protocol):
    """A mechanism beside a level that takes some cases and may settle them (meeting, pool, partner).

    ``label`` (``meeting.<name>``) names it in metrics and case rows; ``before`` says whether
    it takes cases instead of the level's staff or after the level failed. The model gives it
    a settlement ``slot`` after the levels' slots.
    """

    label: str
    level: int
    before: bool
    slot: int

    def takes(self, sev: int, cat: int) -> bool: ...

    def visit(self, sev: int, counted: bool) -> Generator[Any, Any, bool]: ...

    def report(self, sink: "MetricSink", end: float) -> None: ...


class RespondWait(Protocol):
    """Wait, at a hand-over, up to a response time for a handler; False sends the case on up."""

    def __call__(self, li: int, req: Any, counted: bool) -> Generator[Any, Any, bool]: ...


@dataclass(frozen=True)
class Hooks:
    """What a runtime attaches to the model; the model wires each into place.

    ``settlers`` sit beside levels (tried before or after the level's staff); ``processes``
    run for the whole replication; ``respond`` gives levels a hand-over response time;
    ``report_back_hours`` delays every settlement's closing; ``entry`` picks the level each
    case of an arrival block enters at; ``extra_staff`` adds on-duty head-counts to a level's
    handlers. ``blocks`` transforms each arrival block before its cases start (prevention
    thins it, detection delays its cases); ``sources`` are further arrival sources (collective
    cases) with ``blocks(horizon)``; ``exit`` routes a case leaving the top unsettled (court
    link: court, petition, abandoned) and may hand it to one of ``exit_settlers``, returning
    the settler that settled it or None. ``staff_work`` are streams of other duties that occupy a
    level's handlers; ``sittings`` spread a level's handling over several sittings.
    ``outcome_rules`` change a level's handling time and chance to settle with the days waited and
    the queue (outcomes); ``reopen`` decides whether a level's settlement re-opens (reopening).
    """

    settlers: tuple[Settler, ...] = ()
    processes: tuple[Iterator[Any], ...] = ()
    respond: tuple[tuple[int, RespondWait], ...] = ()
    report_back_hours: float = 0.0
    entry: Callable[[Any], list[int]] | None = None
    extra_staff: tuple[tuple[int, tuple["WeeklyProfile", ...]], ...] = ()
    blocks: Callable[[Any], Any] | None = None
    sources: tuple[Any, ...] = ()
    exit: Callable[[int, int, bool], Generator[Any, Any, "Settler | None"]] | None = None
    exit_settlers: tuple[Settler, ...] = ()
    staff_work: tuple[Any, ...] = ()  # other duties: task streams (``level``, ``preempt``, ``busy``, ``process``)
    sittings: tuple[tuple[int, Any], ...] = ()  # (level index, its further sittings)
    outcome_rules: tuple[tuple[int, Any], ...] = ()
    reopen: Callable[[int, bool], Any] | None = None


class Runtime(Protocol):
    """One mechanism during one replication."""

    def hooks(self) -> Hooks: ...

    def report(self, sink: "MetricSink", end: float) -> None:
        """Put the mechanism's own metrics (beyond its settlers') into the sink, at the end."""


@dataclass(frozen=True)
class Mechanism:
    """Everything about one mechanism, as the registry lists it.

    ``name`` is its scenario section (or level field, for volunteers) and its catalogue group.
    """

    name: str
    models: tuple[type, ...]
    used: Callable[["Scenario"], bool]
    problems: Callable[["Scenario"], list[str]]
    describe: Callable[["Scenario"], list[DescriptionRow]]
    runtime: Callable[["Scenario", "Context"], Runtime]
    settler_kind: str = ""  # prefix of its settlers' labels (``meeting``), empty if it settles nothing
    sites_of: Callable[["Scenario"], dict[str, str]] | None = None  # when the section is not a dict of settlers

    def sites(self, scenario: "Scenario") -> dict[str, str]:
        """{settler label: the level it sits at}, for plots that draw settlers beside levels."""
        if self.sites_of is not None:
            return self.sites_of(scenario)
        if not self.settler_kind:
            return {}
        return {f"{self.settler_kind}.{k}": v.level for k, v in getattr(scenario, self.name).items()}


def takes_text(spec: Any) -> str:
    """'big / dispute' or 'all cases': the severities and categories a mechanism takes."""
    sev, cat = getattr(spec, "severities", None), getattr(spec, "categories", None)
    parts = [", ".join(sev) if sev else "", ", ".join(cat) if cat else ""]
    return " / ".join(p for p in parts if p) or "all cases"


def check_names(problems: list[str], path: str, given: Sequence[str] | None, names: Sequence[str], what: str) -> None:
    """Every name given is declared (a severity, a category)."""
    for i, key in enumerate(given or []):
        if key not in names:
            problems.append(f"{path}.{i}: '{key}' is not a declared {what} ({', '.join(names)})")


def check_per_severity(problems: list[str], path: str, table: dict[str, Any], sevs: Sequence[str]) -> None:
    """A per-severity table names 'default' or severities, and covers every severity."""
    for key in table:
        if key != "default" and key not in sevs:
            problems.append(f"{path}.{key}: expected 'default' or a severity ({', '.join(sevs)})")
    if "default" not in table and not set(sevs) <= set(table):
        missing = [s for s in sevs if s not in table]
        problems.append(f"{path}: no 'default' and no entry for {', '.join(missing)}")


def check_level(problems: list[str], path: str, level: str, scenario: "Scenario") -> None:
    """The level a mechanism names exists."""
    if level not in scenario.levels:
        problems.append(f"{path}: '{level}' is not a level ({', '.join(scenario.levels)})")


def per_severity(table: float | dict[str, float], sevs: Sequence[str]) -> list[float]:
    """A probability per severity index from a number or a per-severity table with 'default'."""
    if isinstance(table, dict):
        return [float(table.get(s, table.get("default", 0.0))) for s in sevs]
    return [float(table)] * len(sevs)


class CaseFilter:
    """Which cases a meeting, pool or partner takes: by severity and category, and a share of
    those drawn from the mechanism's own ``<label>.share`` stream (common random numbers)."""

    def __init__(self, ctx: "Context", label: str, spec: Any):
        self.sev_ok = _mask(spec.severities, ctx.severities)
        self.cat_ok = _mask(spec.categories, ctx.categories)
        self.share = spec.share
        self.share_u = ctx.uniforms(f"{label}.share") if spec.share < 1.0 else None

    def takes(self, sev: int, cat: int) -> bool:
        """Whether this case goes here (its severity and category match, and the share draw)."""
        if not (self.sev_ok[sev] and self.cat_ok[cat]):
            return False
        return self.share_u is None or self.share_u.next() < self.share


def _mask(given: Sequence[str] | None, names: Sequence[str]) -> list[bool]:
    return [True] * len(names) if given is None else [n in given for n in names]
