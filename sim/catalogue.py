"""The metric catalogue: every metric the tool reports, declared once.

A metric is named by a pattern: fixed words and one placeholder in angle brackets that stands
for a name from the scenario (``settled_share.<level>``, ``wait_hours.pool.<pool>``). Each
entry states what the metric means, its unit, the bounds a value (and so a confidence
interval) must respect, whether it is a headline metric shown by default, and a short label
for narrow tables. The engine's summary, the CLI's tables and ``--metrics`` filters, plot
labels, the report and the README's metric table all read it; a test fails when a scenario
produces a metric that is not here.

This module imports nothing heavy: ``sim metrics`` and ``sim --help`` read it at start-up.
"""

from __future__ import annotations

import fnmatch
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

# Units, spelled once.
CASES = "cases"
SHARE = "share"
DAYS = "days"
HOURS = "hours"
PER_DAY = "cases a day"
PER_1000_HH_YEAR = "cases per 1,000 households a year"
FLAG = "0 or 1"
RATIO = "busy hours per on-duty hour"
HOURS_PER_PERSON_WEEK = "hours per person a week"
PER_1000_RES_YEAR = "cases per 1,000 residents a year"

_PLACEHOLDER = re.compile(r"<([a-z_]+)>")


@dataclass(frozen=True)
class Metric:
    """One declared metric (or family of metrics, when the pattern has a placeholder)."""

    pattern: str
    meaning: str  # may use {name}: the placeholder's value (a level, role, meeting ...)
    unit: str
    lower: float | None = None
    upper: float | None = None
    headline: bool = False
    short: str = ""  # a short label for narrow tables; may use {name}; default: the name itself
    group: str = "engine"  # "engine", or the mechanism that produces it, named as its scenario section

    @property
    def regex(self) -> re.Pattern[str]:
        return _compiled(self.pattern)

    @property
    def placeholder(self) -> str | None:
        m = _PLACEHOLDER.search(self.pattern)
        return m.group(1) if m else None


@lru_cache(maxsize=None)
def _compiled(pattern: str) -> re.Pattern[str]:
    parts = _PLACEHOLDER.split(pattern)
    rx = "".join(re.escape(p) if i % 2 == 0 else r"(?P<name>[^.]+)" for i, p in enumerate(parts))
    return re.compile(f"^{rx}$")


def _share(pattern: str, meaning: str, **kw: object) -> Metric:
    return Metric(pattern, meaning, SHARE, 0.0, 1.0, **kw)  # type: ignore[arg-type]


def _count(pattern: str, meaning: str, **kw: object) -> Metric:
    return Metric(pattern, meaning, CASES, 0.0, None, **kw)  # type: ignore[arg-type]


def _time(pattern: str, meaning: str, unit: str, **kw: object) -> Metric:
    return Metric(pattern, meaning, unit, 0.0, None, **kw)  # type: ignore[arg-type]


# Order matters only where two patterns could match one name: the more specific comes first.
METRICS: tuple[Metric, ...] = (
    # ---- volume
    _count("cases_arrived", "cases arriving after the warm-up", headline=True, short="arrived"),
    _count("cases_settled", "of the cases arriving after the warm-up, those settled by the end of the run",
           short="settled"),
    _count("cases_unresolved", "of the cases arriving after the warm-up, those that left the top level unsettled "
           "(hotline, lawsuit, petition)", short="unresolved"),
    Metric("settled_per_day", "cases settled per day after the warm-up", PER_DAY, 0.0, None, short="settled/day"),
    Metric("cases_per_1000_households_year", "cases arriving per 1,000 households a year after the warm-up, "
           "comparable between communities of different size", PER_1000_HH_YEAR, 0.0, None, headline=True,
           short="cases/1k hh/yr"),
    Metric("unresolved_per_1000_households_year", "cases left unresolved per 1,000 households a year after the "
           "warm-up", PER_1000_HH_YEAR, 0.0, None, short="unresolved/1k hh/yr"),
    # ---- where cases settle (these shares and unresolved_share sum to 1 over closed cases)
    _share("settled_share.meeting.<meeting>", "share of closed cases settled by the meeting {name}", headline=True,
           short="settled@{name}", group="meetings"),
    _share("settled_share.pool.<pool>", "share of closed cases settled by the pooled centre {name}", headline=True,
           short="settled@{name}", group="pools"),
    _share("settled_share.partner.<partner>", "share of closed cases settled by the outside partner {name}",
           headline=True, short="settled@{name}", group="partners"),
    _share("settled_share.<level>", "share of closed cases (settled or unresolved) settled at the level {name}",
           headline=True, short="settled@{name}"),
    _share("within_ceiling_share", "share of closed cases settled at or below the lowest level the rule allows "
           "for their severity (\"does not leave the building / grid / community\")", headline=True,
           short="within ceiling"),
    _share("unresolved_share", "share of closed cases that left the top level unsettled", headline=True,
           short="unresolved"),
    # ---- time
    _time("days_to_settle.mean", "mean days from arrival to settlement of the cases settled by the end of the run "
          "(closed cases only: open cases are not in it)", DAYS, headline=True, short="days mean"),
    _time("days_to_settle.p50", "median days from arrival to settlement, cases still open at the end censored at "
          "their age (actuarial life table on the log-binned histogram, 0.5% resolution; unresolved cases left "
          "out); NaN when fewer than half can be shown settled by the end", DAYS, headline=True, short="days p50"),
    _time("days_to_settle.p90", "90th percentile of days from arrival to settlement, cases still open at the end "
          "censored at their age (actuarial life table on the log-binned histogram; unresolved cases left out); "
          "NaN when fewer than 90% can be shown settled by the end", DAYS, headline=True, short="days p90"),
    _time("days_to_settle_closed.p50", "median days from arrival to settlement of settled cases only (open cases "
          "ignored: too low when cases pile up)", DAYS, short="days p50 (closed)"),
    _time("days_to_settle_closed.p90", "90th percentile of days from arrival to settlement of settled cases only "
          "(open cases ignored: too low when cases pile up)", DAYS, short="days p90 (closed)"),
    _share("within_target_share.<severity>", "of the cases of severity {name} whose target date passed by the end "
           "of the run, the share settled within the target (settled late, unresolved or still open = missed)",
           short="within target {name}"),
    _share("within_target_share_closed", "share of closed cases settled within the target days of their severity "
           "(open cases ignored: too high when cases pile up)", short="within target (closed)"),
    _share("within_target_share", "of the cases whose target date passed by the end of the run, the share settled "
           "within the target days of their severity (settled late, unresolved or still open = missed)",
           headline=True, short="within target"),
    _count("open_past_target", "cases still open at the end of the run whose target date has passed",
           headline=True, short="open past target"),
    # ---- queues and staff
    _time("wait_hours.pool.<pool>", "mean hours a case waits for a member of the pooled centre {name} "
          "(closed hours included)", HOURS, short="wait h@{name}", group="pools"),
    _time("wait_hours.partner.<partner>", "mean hours a case waits for the outside partner {name} "
          "(closed hours included)", HOURS, short="wait h@{name}", group="partners"),
    _time("wait_hours.<level>", "mean hours a case waits for a handler at the level {name} (closed office hours "
          "included)", HOURS, headline=True, short="wait h@{name}"),
    Metric("utilisation.pool.<pool>", "busy on-duty staff-hours over on-duty staff-hours of the pooled centre {name} "
           "after the warm-up (work past the end of a shift not counted)", RATIO, 0.0, 1.0, short="util {name}", group="pools"),
    Metric("utilisation.partner.<partner>", "busy on-duty staff-hours over on-duty staff-hours of the outside partner "
           "{name} after the warm-up (work past the end of a shift not counted)", RATIO, 0.0, 1.0, short="util {name}", group="partners"),
    Metric("utilisation.<role>", "busy on-duty staff-hours over on-duty staff-hours of the role {name} after the "
           "warm-up, disputes and any other duties (work past the end of a shift is overtime, not counted)",
           RATIO, 0.0, 1.0, headline=True, short="util {name}"),
    Metric("overtime_hours.<role>", "hours a week per staff member of the role {name} (volunteers joining its "
           "levels included) spent finishing cases after their shift ended, after the warm-up",
           HOURS_PER_PERSON_WEEK, 0.0, None, short="overtime {name}"),
    _count("escalated_failed.<level>", "cases handled but not settled at the level {name}, passed up",
           short="up failed@{name}"),
    _count("escalated_ceiling.<level>", "cases above the ceiling of the level {name}, triaged and referred up",
           short="up ceiling@{name}"),
    _count("escalated_deadline.<level>", "cases whose deadline at the level {name} passed while waiting or in "
           "service, passed up", short="up deadline@{name}"),
    _count("open_cases_end", "cases still open at the end of the run (all, counted or not)", headline=True,
           short="open at end"),
    Metric("unstable", "1 if the replication stopped because max_open_cases cases were open (arrivals above "
           "capacity), else 0", FLAG, 0.0, 1.0, short="unstable"),
    Metric("backlog_growing", "1 if the open cases grew through the run: over the days after the warm-up, the last "
           "third averages more than 1.25 times the first third and at least 10 cases more (arrivals above what "
           "staff settle; the other results then depend on the run length), else 0", FLAG, 0.0, 1.0,
           short="backlog growing"),
    # ---- comparison with published figures (scenarios/targets/published.yaml)
    _share("grassroots_share", "share of closed cases settled at or below the scenario's grassroots_top level "
           "(meetings, pools and partners beside those levels included); NaN when the scenario declares none",
           short="grassroots"),
    Metric("cases_per_1000_residents_year", "cases arriving per 1,000 residents a year after the warm-up (residents "
           "= households x persons_per_household; NaN without it)", PER_1000_RES_YEAR, 0.0, None,
           short="cases/1k res/yr"),
    Metric("mediated_per_1000_residents_year", "cases that reached a mediator at community level or above (the "
           "community tier, its meetings, pools and partners, or any tier above; the village in a rural model), closed "
           "or still open, per 1,000 residents a year: people's mediation as counted nationally, whatever the "
           "scenario's grassroots_top; NaN without persons_per_household or without a community or village level",
           PER_1000_RES_YEAR, 0.0, None, short="mediated/1k res/yr"),
    Metric("reached_per_1000_residents_year.<level>", "cases that reached the level {name} or above per 1,000 "
           "residents a year: closed cases that settled there or above or left the top unsettled, and open cases "
           "passed up to it or that entered there or above through a channel; NaN without persons_per_household",
           PER_1000_RES_YEAR, 0.0, None, short="reached {name}/1k res/yr"),
    # ---- meetings
    _count("referred.meeting.<meeting>", "cases referred to the meeting {name} after the warm-up",
           short="referred@{name}", group="meetings"),
    Metric("sittings.meeting.<meeting>", "sittings of the meeting {name} after the warm-up", "sittings", 0.0, None,
           short="sittings@{name}", group="meetings"),
    _count("cases_per_sitting.meeting.<meeting>", "mean cases taken up per sitting of the meeting {name}",
           short="cases/sitting@{name}", group="meetings"),
    _count("most_per_sitting.meeting.<meeting>", "most cases taken up at one sitting of the meeting {name}",
           short="most/sitting@{name}", group="meetings"),
    _time("wait_days.meeting.<meeting>", "mean days a referred case waits for a sitting of the meeting {name} that "
          "decides it", DAYS, short="wait d@{name}", group="meetings"),
    _count("waiting_end.meeting.<meeting>", "cases waiting for the meeting {name} at the end of the run",
           short="waiting@{name}", group="meetings"),
    # ---- pools and partners
    _count("cases.pool.<pool>", "cases handled by the pooled centre {name} after the warm-up",
           short="cases@{name}", group="pools"),
    _count("cases.partner.<partner>", "cases handled by the outside partner {name} after the warm-up",
           short="cases@{name}", group="partners"),
    # ---- channels
    _share("arrived_share.channel.<channel>", "share of cases arriving after the warm-up that entered through the "
           "channel {name} (above the bottom level)", short="via {name}", group="channels"),
    # ---- closed loop
    _share("handover_on_time_share.<level>", "share of cases handed to the level {name} taken up within its "
           "response time", short="on time@{name}", group="closed_loop"),
    _count("handover_late.<level>", "cases handed to the level {name} not taken up within its response time",
           short="late@{name}", group="closed_loop"),
    _count("escalated_late.<level>", "cases sent on up from the level {name} because its response time passed",
           short="up late@{name}", group="closed_loop"),
    # ---- prevention
    _count("cases_prevented.<measure>", "disputes after the warm-up that the prevention measure {name} kept from "
           "arising", short="prevented@{name}", group="prevention"),
    _share("prevented_share.<measure>", "share of the disputes of its categories after the warm-up that the "
           "prevention measure {name} kept from arising", short="prevented %@{name}", group="prevention"),
    # ---- detection
    _time("days_undetected.mean", "mean days from a dispute's onset until a detection channel finds it (cases "
          "found after the warm-up)", DAYS, headline=True, short="undetected d", group="detection"),
    _time("days_undetected.p90", "90th percentile of days from a dispute's onset until it is found", DAYS,
          short="undetected d p90", group="detection"),
    _share("found_before_growth_share", "share of the disputes found after the warm-up that were found before "
           "they grew in severity", headline=True, short="found early", group="detection"),
    _share("detected_share.<channel>", "share of the disputes found after the warm-up that the detection channel "
           "{name} found first", short="found by {name}", group="detection"),
    # ---- collective cases
    _count("collective_cases.<collective>", "collective cases of the kind {name} arriving after the warm-up (also "
           "counted in cases_arrived)", short="collective@{name}", group="collective"),
    Metric("households_involved.<collective>", "mean households involved in one collective case of the kind {name}",
           "households", 1.0, None, short="households@{name}", group="collective"),
    # ---- court link and judge's studio
    _share("unresolved_share.court", "share of closed cases that left the top unsettled for court (a lawsuit); "
           "with .petition and .abandoned it sums to unresolved_share", headline=True, short="to court",
           group="court_link"),
    _share("unresolved_share.petition", "share of closed cases that left the top unsettled for a petition or the "
           "hotline", short="to petition", group="court_link"),
    _share("unresolved_share.abandoned", "share of closed cases that left the top unsettled and were given up",
           short="abandoned", group="court_link"),
    _count("cases_to_court", "cases arriving after the warm-up that went to court", short="to court",
           group="court_link"),
    _share("settled_share.studio.<studio>", "share of closed cases settled by the judge's studio {name} "
           "(pre-litigation mediation or judicial confirmation)", headline=True, short="settled@{name}",
           group="court_link"),
    _count("cases.studio.<studio>", "court-bound cases handled by the judge's studio {name} after the warm-up",
           short="cases@{name}", group="court_link"),
    _time("wait_hours.studio.<studio>", "mean hours a court-bound case waits for the judge's studio {name} (closed "
          "hours included)", HOURS, short="wait h@{name}", group="court_link"),
    Metric("utilisation.studio.<studio>", "busy staff-hours over on-duty staff-hours of the judge's studio {name} "
           "after the warm-up", RATIO, 0.0, None, short="util {name}", group="court_link"),
    # ---- other duties (the roles' time split; produced with the engine's utilisation)
    _share("time_share.disputes.<role>", "share of the on-duty hours of the role {name} spent on disputes after "
           "the warm-up (with other duties and idle it sums to 1)", short="disputes {name}", group="other_duties"),
    _share("time_share.other_duties.<role>", "share of the on-duty hours of the role {name} spent on other duties "
           "(inspections, registration, data collection, campaigns) after the warm-up", short="other duties {name}",
           group="other_duties"),
    _share("time_share.idle.<role>", "share of the on-duty hours of the role {name} with neither a dispute nor another "
           "duty in hand after the warm-up", short="idle {name}", group="other_duties"),
    # ---- re-opening
    _share("reopened_share", "share of the level settlements of cases arriving after the warm-up whose agreement "
           "failed: the case re-opened and climbed on (its final outcome is the one after re-opening)",
           headline=True, short="re-opened", group="reopening"),
    _count("cases_reopened", "settlements of cases arriving after the warm-up that re-opened", short="re-opened n",
           group="reopening"),
    _time("days_to_reopen.mean", "mean days from a settlement to its re-opening", DAYS, short="d to re-open",
          group="reopening"),
)


# The service a resident gets, in the order figures and narrow tables show them first.
SERVICE: tuple[str, ...] = ("within_target_share", "within_ceiling_share", "days_to_settle.p90", "unresolved_share")


@dataclass(frozen=True)
class MetricInfo:
    """A concrete metric name with its catalogue entry and the placeholder's value."""

    name: str
    entry: Metric
    subject: str | None  # the level, role, meeting ... it is about (None for global metrics)

    @property
    def meaning(self) -> str:
        return self.entry.meaning.format(name=self.subject) if self.subject else self.entry.meaning

    @property
    def short(self) -> str:
        if not self.entry.short:
            return self.name
        return self.entry.short.format(name=self.subject) if self.subject else self.entry.short

    @property
    def unit(self) -> str:
        return self.entry.unit

    @property
    def bounds(self) -> tuple[float | None, float | None]:
        return self.entry.lower, self.entry.upper

    @property
    def headline(self) -> bool:
        return self.entry.headline


class UnknownMetric(KeyError):
    """A metric name the catalogue does not describe."""


@lru_cache(maxsize=4096)
def info(name: str) -> MetricInfo:
    """The catalogue entry of a concrete metric name; raises UnknownMetric if none describes it."""
    for entry in METRICS:
        m = entry.regex.match(name)
        if m:
            return MetricInfo(name, entry, m.groupdict().get("name"))
    raise UnknownMetric(name)


def known(name: str) -> bool:
    try:
        info(name)
    except UnknownMetric:
        return False
    return True


def meaning(name: str) -> str:
    """What a metric means, in words ('' for a name the catalogue does not know)."""
    return info(name).meaning if known(name) else ""


def short_label(name: str) -> str:
    return info(name).short if known(name) else name


def bounds(name: str) -> tuple[float | None, float | None]:
    """(lower, upper) physical bounds of a metric; (None, None) when unknown."""
    return info(name).bounds if known(name) else (None, None)


def clip(name: str, value: float) -> float:
    """A value (e.g. a confidence limit) moved inside the metric's bounds."""
    lo, hi = bounds(name)
    if value != value:  # NaN stays NaN
        return value
    if lo is not None and value < lo:
        value = lo
    if hi is not None and value > hi:
        value = hi
    return value


def is_headline(name: str) -> bool:
    return known(name) and info(name).headline


def select(names: Iterable[str], patterns: Iterable[str] | None = None, *, everything: bool = False) -> list[str]:
    """The names to show: those matching any shell-style pattern (``settled_share.*``), or with no
    patterns the headline metrics (every metric with ``everything``), in the given order."""
    names = list(names)
    pats = [p for p in (patterns or []) if p]
    if pats:
        return [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in pats)]
    if everything:
        return names
    return [n for n in names if is_headline(n)]


def unknown(names: Iterable[str]) -> list[str]:
    """Names the catalogue does not describe (a test keeps this empty for every scenario)."""
    return [n for n in names if not known(n)]


def within_bounds(name: str, value: float) -> bool:
    lo, hi = bounds(name)
    if value != value or math.isinf(value):
        return True
    return (lo is None or value >= lo) and (hi is None or value <= hi)


def unit(name: str) -> str:
    """The unit of a metric ('' for a name the catalogue does not know)."""
    return info(name).unit if known(name) else ""


def bounds_text(name: str) -> str:
    """The bounds in words: '0 to 1', '≥ 0', or '–' when there are none (or the name is unknown)."""
    return _bounds_text(*bounds(name))


def is_fraction(name: str) -> bool:
    """Whether a metric is a dimensionless fraction (a share, or busy over on-duty time): drawn as a percentage."""
    return unit(name) in (SHARE, RATIO)


def axis_label(name: str) -> str:
    """A figure axis label: the metric's name in words and, on a second line when long, its unit."""
    label = name.replace("_", " ").replace(".", " ")
    if not known(name):
        return label
    sep = "\n" if len(label) + len(unit(name)) > 36 else " "
    return f"{label}{sep}({unit(name)})"


# --------------------------------------------------------------------------- mechanisms
def mechanism_groups() -> tuple[str, ...]:
    """The mechanisms the catalogue has metrics for, in catalogue order (``meetings``, ``pools``, ...): each
    is also the name of the scenario section that declares it."""
    return tuple(dict.fromkeys(m.group for m in METRICS if m.group != "engine"))


def mechanism_kinds(stem: str = "") -> dict[str, str]:
    """{kind word in metric names: scenario section} of every mechanism whose metrics name its items,
    read from patterns ``<stem>.<kind>.<<kind>>``: {"meeting": "meetings", "pool": "pools", ...}.
    With ``stem`` only the mechanisms that have that metric (``settled_share``: those that settle cases)."""
    out: dict[str, str] = {}
    for m in METRICS:
        ph = m.placeholder
        if m.group != "engine" and ph and m.pattern.endswith(f".{ph}.<{ph}>") and (not stem or m.pattern.startswith(f"{stem}.")):
            out.setdefault(ph, m.group)
    return out


def mechanism_item(name: str) -> str | None:
    """'pool.centre' for 'settled_share.pool.centre' (the mechanism item a metric is about); None for a
    metric about a level, a role or the whole run."""
    if not known(name):
        return None
    mi = info(name)
    kind = mi.entry.placeholder
    return f"{kind}.{mi.subject}" if kind in mechanism_kinds() and mi.subject else None


# --------------------------------------------------------------------------- the README's table
MARKDOWN_START = "<!-- metrics:start -->"
MARKDOWN_END = "<!-- metrics:end -->"


def _bounds_text(lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f"{lo:g} to {hi:g}"
    if lo is not None:
        return f"≥ {lo:g}"
    return f"≤ {hi:g}" if hi is not None else "–"


def markdown_table() -> str:
    """Every catalogue entry as a Markdown table (metric, meaning, unit, bounds, headline): the README's
    metric table is exactly this text, between MARKDOWN_START and MARKDOWN_END."""
    lines = ["| metric | meaning | unit | bounds | headline |", "|---|---|---|---|---|"]
    for m in METRICS:
        ph = m.placeholder
        meaning_ = m.meaning.format(name=f"`<{ph}>`") if ph else m.meaning
        cells = [f"`{m.pattern}`", meaning_, m.unit, _bounds_text(m.lower, m.upper), "yes" if m.headline else ""]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def with_markdown_table(text: str) -> str:
    """A document (the README) with the text between its two metric-table markers replaced by the table."""
    start, end = text.index(MARKDOWN_START), text.index(MARKDOWN_END)
    return text[: start + len(MARKDOWN_START)] + "\n" + markdown_table() + text[end:]


def main(argv: list[str] | None = None) -> int:
    """``python -m sim.catalogue [README.md]``: rewrite the README's metric table from the catalogue
    (no argument: print the table)."""
    import sys
    from pathlib import Path

    args = sys.argv[1:] if argv is None else argv
    if not args:
        print(markdown_table(), end="")
        return 0
    path = Path(args[0])
    path.write_text(with_markdown_table(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


__all__ = ["Metric", "MetricInfo", "METRICS", "SERVICE", "UnknownMetric", "info", "known", "meaning", "short_label", "bounds",
           "clip", "is_headline", "select", "unknown", "within_bounds", "unit", "bounds_text", "is_fraction", "axis_label",
           "mechanism_groups", "mechanism_kinds", "mechanism_item", "markdown_table", "with_markdown_table",
           "MARKDOWN_START", "MARKDOWN_END"]


if __name__ == "__main__":
    raise SystemExit(main())
