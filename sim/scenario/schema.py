"""The scenario schema: what a scenario YAML may say, validated by pydantic.

A scenario is data only. Levels are listed bottom to top (building first); every level
names the role that handles cases there. Durations of handling and triage are in the
scenario's ``time_unit``; deadlines, targets, horizons and warm-up are in days.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, Union

from pydantic import (
    Field,
    PositiveFloat,
    PositiveInt,
    NonNegativeFloat,
    field_validator,
    model_validator,
)


from . import limits
from .checks import MAX_UNITS
from .fields import (  # noqa: F401  (re-exported: the schema's building blocks)
    DIST_NAMES,
    MIX_TOLERANCE,
    OFFICE_SHIFTS,
    WEEKDAYS,
    Days,
    Distribution,
    Empirical,
    Exponential,
    Fixed,
    Gamma,
    LogNormal,
    Money,
    NonNegativeDays,
    Probability,
    Roster,
    RosterSpec,
    Shift,
    Staff,
    Strict,
    Triangular,
)


class Role(Strict):
    """People who handle cases: how many per unit of the level that uses them, and when."""

    staff_per_unit: Staff
    roster: RosterSpec = "always"
    availability: Probability = 1.0  # share of staff actually on duty (volunteers, part-timers)
    hours_per_week: Annotated[float, Field(gt=0, le=168)] | None = None  # hours each member gives a week
    cost_per_year: Money | None = None  # yuan per staff member, for staffing searches
    description: str = ""

    def rostered_hours(self) -> float:
        """Hours a week the roster covers (168 for 'always', 40 for 'office')."""
        if self.roster == "always":
            return 168.0
        roster = OFFICE_SHIFTS if self.roster == "office" else self.roster
        return sum((s.end - s.start) * len(s.days) for s in roster.shifts)

    def on_duty_share(self) -> float:
        """Share of the staff on duty during rostered hours: availability, scaled down by
        hours_per_week / rostered hours when members give only some hours a week (part-timers)."""
        share = self.availability
        if self.hours_per_week is not None:
            share *= min(1.0, self.hours_per_week / max(self.rostered_hours(), 1e-9))
        return share


# --------------------------------------------------------------------------- levels
class NamedUnit(Strict):
    """One unit of an explicit hierarchy, with the name of its parent at the level above
    (none only for the single top unit, or under an unnamed single top unit)."""

    name: str = Field(min_length=1)
    parent: str | None = None


class Level(Strict):
    """One layer of the hierarchy: its units, who handles cases there and the rules."""

    units: Annotated[int, Field(gt=0, le=MAX_UNITS)] | None = None  # total units at this level, spread evenly over parents
    per_parent: Annotated[int, Field(gt=0, le=MAX_UNITS)] | None = None  # or: this many under every unit of the level above
    parents: list[Annotated[int, Field(ge=0, le=MAX_UNITS)]] | None = None  # or: explicit parent index of every unit
    units_named: list[NamedUnit] | None = Field(default=None, min_length=1)  # or: named units with parents by name
    role: str
    queue: Literal["per_unit", "shared"] = "per_unit"
    handling: dict[str, Distribution]  # key "default" and/or a severity name
    settle: Union[Probability, dict[str, Probability]]
    ceiling: str | None = None  # highest severity handled here; above it: triage, then refer up
    triage: Distribution | None = None
    deadline_days: Days | None = None
    # days a case stays at the level after handling without occupying staff (parties to convene,
    # site visits, waiting for a reply); counts toward deadlines and time to settle
    follow_up_days: dict[str, Distribution] | None = None
    volunteers: list[str] = Field(default_factory=list)  # roles whose on-duty staff join this level's handlers
    description: str = ""

    @model_validator(mode="after")
    def _one_size(self) -> "Level":
        given = [k for k in ("units", "per_parent", "parents", "units_named") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(f"give only one of units, per_parent, parents, units_named (got {', '.join(given)})")
        if not given:
            raise ValueError("give the number of units: units, per_parent, parents or units_named")
        return self


# --------------------------------------------------------------------------- arrivals
class Arrivals(Strict):
    rate_per_household_year: Annotated[float, Field(gt=0, le=limits.MAX_RATE)]
    severity_mix: dict[str, Probability]
    category_mix: dict[str, Probability]
    weekday_factors: list[Annotated[float, Field(ge=0, le=limits.MAX_FACTOR)]] | None = Field(default=None, min_length=7, max_length=7)
    hour_factors: list[Annotated[float, Field(ge=0, le=limits.MAX_FACTOR)]] | None = Field(default=None, min_length=24, max_length=24)

    @field_validator("severity_mix", "category_mix")
    @classmethod
    def _sums_to_one(cls, v: dict[str, float]) -> dict[str, float]:
        total = math.fsum(v.values())
        if abs(total - 1.0) > MIX_TOLERANCE:
            raise ValueError(f"mix must sum to 1 (within {MIX_TOLERANCE:g}), sums to {total:.12g}")
        return v

    @field_validator("weekday_factors", "hour_factors")
    @classmethod
    def _some_positive(cls, v: list[float] | None) -> list[float] | None:
        if v is not None and not any(x > 0 for x in v):
            raise ValueError("at least one factor must be positive")
        return v


class SourceNote(Strict):
    """Where a parameter comes from; an assumption may give the range a sensitivity study uses."""

    source: str | None = None
    assumption: str | None = None
    range: tuple[float, float] | None = None

    @model_validator(mode="after")
    def _something(self) -> "SourceNote":
        if self.source is None and self.assumption is None:
            raise ValueError("give source: or assumption:")
        if self.range is not None and self.range[0] > self.range[1]:
            raise ValueError("range must be [low, high] with low <= high")
        return self


# --------------------------------------------------------------------------- mechanisms
class Schedule(Strict):
    """When a meeting sits: weekly on a weekday, or monthly / quarterly on a day of the period.

    The clock has no calendar: a month is 365/12 days and a quarter three months, counted from
    the start of the run (Monday 00:00); ``day`` 1 is the period's first day.
    """

    every: Literal["week", "month", "quarter"] = "week"
    weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"  # weekly meetings
    day: Annotated[int, Field(ge=1, le=28)] = 1  # monthly and quarterly meetings
    hour: Annotated[float, Field(ge=0, lt=24)] = 10.0


class Meeting(Strict):
    """A periodic meeting that settles a batch: cases a level does not settle wait for its next sitting.

    A case of the given severities and categories that its level fails to settle (or may not
    settle, above the level's ceiling) is referred with probability ``share``. Each sitting
    takes up to ``capacity`` waiting cases, first referred first, and settles each with its
    ``settle`` probability at the end of the sitting; the rest go up to the next level.
    Cases beyond the capacity wait for the next sitting (``overflow: carry``) or go up at once.
    """

    level: str
    schedule: Schedule = Field(default_factory=Schedule)
    severities: list[str] | None = None  # None: every severity
    categories: list[str] | None = None  # None: every category
    share: Probability = 1.0
    capacity: PositiveInt
    settle: Union[Probability, dict[str, Probability]]
    duration_hours: NonNegativeFloat = 2.0
    overflow: Literal["carry", "escalate"] = "carry"
    description: str = ""


class Desk(Strict):
    """A service point beside a level that takes cases of some categories (pools and partners).

    ``mode: instead``: matching cases reaching the level go to the desk instead of the level's
    staff; ``mode: after``: they go to the desk when the level has not settled them. A case
    the desk does not settle goes up to the next level.
    """

    level: str
    mode: Literal["instead", "after"] = "instead"
    severities: list[str] | None = None
    categories: list[str] | None = None
    share: Probability = 1.0  # of matching cases the desk takes
    handling: dict[str, Distribution]  # in the scenario's time_unit; 'default' and/or severities
    settle: Union[Probability, dict[str, Probability]]
    description: str = ""


class Pool(Desk):
    """A centre staffed from several roles (each with its roster and availability), one shared queue."""

    staff: dict[str, PositiveInt] = Field(min_length=1)  # role name -> members in the centre


class Partner(Desk):
    """An outside partner (enterprise, lawyers, a judge's studio) with its own capacity and hours."""

    staff: Annotated[int, Field(gt=0, le=limits.MAX_STAFF)]  # becomes a Role: same bounds
    roster: RosterSpec = "always"
    availability: Probability = 1.0
    cost_per_year: Money | None = None

    def as_role(self) -> Role:
        return Role(staff_per_unit=self.staff, roster=self.roster, availability=self.availability,
                    cost_per_year=self.cost_per_year)


class Channel(Strict):
    """A reporting channel (QR code, WeChat group, hotline, mobile reporters) entering above the building.

    ``share`` of the matching cases come in through the channel and start at ``enters_at``,
    skipping the levels below it. Cases of no channel start at the bottom level.
    """

    share: Probability
    enters_at: str
    severities: list[str] | None = None
    categories: list[str] | None = None
    description: str = ""


class ClosedLoop(Strict):
    """Hand-over rules: the level receiving a case must take it up within ``respond_days``.

    A late take-up is counted (``on_late: count``) or sends the case on up (``escalate``);
    ``report_back_days`` is the time to report a settlement back to the resident, counted in
    the days to settle.
    """

    respond_days: dict[str, PositiveFloat] = Field(default_factory=dict)
    on_late: Literal["count", "escalate"] = "count"
    report_back_days: NonNegativeFloat = 0.0
    description: str = ""


# --------------------------------------------------------------------------- scenario
class Scenario(Strict):
    """A whole governance model: hierarchy, staff, arrivals, rules and run settings."""

    name: str = Field(min_length=1)
    title: str = ""
    description: str = ""
    time_unit: Literal["hours", "days"] = "hours"
    severities: list[str] = Field(default_factory=lambda: ["micro", "small", "big", "major"], min_length=1)
    categories: list[str] = Field(min_length=1)
    households: Annotated[int, Field(gt=0, le=limits.MAX_HOUSEHOLDS)]
    arrivals: Arrivals
    roles: dict[str, Role] = Field(min_length=1)
    levels: dict[str, Level] = Field(min_length=1)
    meetings: dict[str, Meeting] = Field(default_factory=dict)
    pools: dict[str, Pool] = Field(default_factory=dict)
    partners: dict[str, Partner] = Field(default_factory=dict)
    channels: dict[str, Channel] = Field(default_factory=dict)
    closed_loop: ClosedLoop | None = None
    target_days: Union[Days, dict[str, Days], None] = None
    horizon_days: Days = 365.0  # run-size limits: limits.run_size_problems
    warmup_days: NonNegativeDays = 0.0
    replications: PositiveInt = 10
    seed: Annotated[int, Field(ge=0, le=limits.MAX_SEED)] = 20240426
    max_open_cases: Annotated[int, Field(gt=0, le=limits.MAX_OPEN_CASES)] = 200_000
    sources: dict[str, Union[str, SourceNote]] = Field(default_factory=dict)

    # ---- cross-field checks; each raises with the key path it concerns
    @model_validator(mode="after")
    def _consistent(self) -> "Scenario":
        problems: list[str] = []
        sev = set(self.severities)
        if len(sev) != len(self.severities):
            problems.append("severities: names must be unique")
        if len(set(self.categories)) != len(self.categories):
            problems.append("categories: names must be unique")
        _check_mix_keys(problems, "arrivals.severity_mix", self.arrivals.severity_mix, self.severities)
        _check_mix_keys(problems, "arrivals.category_mix", self.arrivals.category_mix, self.categories)
        names = list(self.levels)
        for i, (lname, lv) in enumerate(self.levels.items()):
            p = f"levels.{lname}"
            if lv.role not in self.roles:
                problems.append(f"{p}.role: role '{lv.role}' is not declared under roles (declared: {', '.join(self.roles)})")
            _check_severity_map(problems, f"{p}.handling", lv.handling, self.severities, "entry")
            if isinstance(lv.settle, dict):
                _check_severity_map(problems, f"{p}.settle", lv.settle, self.severities, "probability")
            if lv.follow_up_days:
                _check_severity_map(problems, f"{p}.follow_up_days", lv.follow_up_days, self.severities, "entry")
            if lv.ceiling is not None and lv.ceiling not in sev:
                problems.append(f"{p}.ceiling: '{lv.ceiling}' is not a severity ({', '.join(self.severities)})")
            if lv.ceiling in sev and lv.triage is None and lv.ceiling != self.severities[-1]:
                problems.append(f"{p}.triage: a level with a ceiling needs a triage time for cases above it")
            if lv.deadline_days is not None and lv.triage is not None:
                tri_days = lv.triage.expected() / (24.0 if self.time_unit == "hours" else 1.0)
                if lv.deadline_days <= tri_days:
                    problems.append(f"{p}.deadline_days: {lv.deadline_days:g} days is not longer than the triage time ({tri_days:g} days)")
            if i == 0 and lv.units is not None and lv.units > self.households:
                problems.append(f"{p}.units: {lv.units} units but only {self.households} households")
            if i == len(names) - 1:
                n_top = lv.units
                if n_top is not None and n_top != 1:
                    problems.append(f"{p}.units: the top level must be a single unit (one root), got {n_top}")
                if lv.per_parent is not None or lv.parents is not None:
                    problems.append(f"{p}: the top level has no parent; give units: 1")
        if isinstance(self.target_days, dict):
            for key in self.target_days:
                if key != "default" and key not in sev:
                    problems.append(f"target_days.{key}: expected 'default' or a severity ({', '.join(self.severities)})")
        if self.warmup_days >= self.horizon_days:
            problems.append(f"warmup_days: {self.warmup_days:g} must be shorter than horizon_days ({self.horizon_days:g})")
        from .checks import hierarchy_problems, staff_problems

        problems += staff_problems(self) + hierarchy_problems(self)
        if problems:
            # pydantic stops at the first failing validator: run the other checks too, so that
            # every problem is reported at once
            for other in ("_mechanisms_consistent",):
                try:
                    if (check := getattr(self, other, None)) is not None:
                        check()
                except ValueError as exc:
                    problems += str(exc).split("\n")
            raise ValueError("\n".join(problems))
        return self

    @model_validator(mode="after")
    def _mechanisms_consistent(self) -> "Scenario":
        """Meetings, pools, partners, channels, volunteers and closed-loop rules name what exists."""
        problems: list[str] = []
        sevs, cats, levels = self.severities, self.categories, list(self.levels)
        for lname, lv in self.levels.items():
            for i, r in enumerate(lv.volunteers):
                if r not in self.roles:
                    problems.append(f"levels.{lname}.volunteers.{i}: role '{r}' is not declared under roles")
        groups: list[tuple[str, dict[str, Any]]] = [("meetings", self.meetings), ("pools", self.pools), ("partners", self.partners)]
        for group, items in groups:
            for name, mech in items.items():
                p = f"{group}.{name}"
                if mech.level not in self.levels:
                    problems.append(f"{p}.level: '{mech.level}' is not a level ({', '.join(levels)})")
                _check_names(problems, f"{p}.severities", mech.severities, sevs, "severity")
                _check_names(problems, f"{p}.categories", mech.categories, cats, "category")
                if isinstance(mech.settle, dict):
                    _check_per_severity(problems, f"{p}.settle", mech.settle, sevs)
                if isinstance(mech, Desk):
                    _check_per_severity(problems, f"{p}.handling", mech.handling, sevs)
                if isinstance(mech, Pool):
                    for role in mech.staff:
                        if role not in self.roles:
                            problems.append(f"{p}.staff.{role}: role '{role}' is not declared under roles")
        total = 0.0
        for name, ch in self.channels.items():
            p = f"channels.{name}"
            if ch.enters_at not in self.levels:
                problems.append(f"{p}.enters_at: '{ch.enters_at}' is not a level ({', '.join(levels)})")
            _check_names(problems, f"{p}.severities", ch.severities, sevs, "severity")
            _check_names(problems, f"{p}.categories", ch.categories, cats, "category")
            total += ch.share
        if total > 1.0 + MIX_TOLERANCE:
            problems.append(f"channels: shares sum to {total:.6g}; at most 1 (the rest enter at the bottom level)")
        if self.closed_loop is not None:
            for lname, days in self.closed_loop.respond_days.items():
                p = f"closed_loop.respond_days.{lname}"
                if lname not in self.levels:
                    problems.append(f"{p}: '{lname}' is not a level ({', '.join(levels)})")
                elif (dl := self.levels[lname].deadline_days) is not None and days >= dl:
                    problems.append(f"{p}: {days:g} days must be shorter than the level's deadline_days ({dl:g})")
        if problems:
            raise ValueError("\n".join(problems))
        return self

    # ---- convenience accessors used by the engine and the reports
    @property
    def level_names(self) -> list[str]:
        return list(self.levels)

    @property
    def hours_per_unit(self) -> float:
        """Hours in one unit of the scenario's time_unit."""
        return 1.0 if self.time_unit == "hours" else 24.0

    def settle_prob(self, level: str, severity: str) -> float:
        s = self.levels[level].settle
        if isinstance(s, dict):
            return float(s.get(severity, s.get("default", 0.0)))
        return float(s)

    def handling_dist(self, level: str, severity: str) -> Any:
        h = self.levels[level].handling
        return h.get(severity, h.get("default"))

    def target_for(self, severity: str) -> float | None:
        t = self.target_days
        if t is None or isinstance(t, (int, float)):
            return t
        return t.get(severity, t.get("default"))

    def ceiling_level_index(self, severity: str) -> int:
        """The lowest level allowed to settle this severity: its 'does not leave' level."""
        rank = self.severities.index(severity)
        for i, lv in enumerate(self.levels.values()):
            if lv.ceiling is None or self.severities.index(lv.ceiling) >= rank:
                return i
        return len(self.levels) - 1


def _check_names(problems: list[str], path: str, given: list[str] | None, names: list[str], what: str) -> None:
    for i, key in enumerate(given or []):
        if key not in names:
            problems.append(f"{path}.{i}: '{key}' is not a declared {what} ({', '.join(names)})")


def _check_per_severity(problems: list[str], path: str, table: dict[str, Any], sevs: list[str]) -> None:
    for key in table:
        if key != "default" and key not in sevs:
            problems.append(f"{path}.{key}: expected 'default' or a severity ({', '.join(sevs)})")
    if "default" not in table and not set(sevs) <= set(table):
        missing = [s for s in sevs if s not in table]
        problems.append(f"{path}: no 'default' and no entry for {', '.join(missing)}")


def _check_severity_map(problems: list[str], path: str, mapping: dict[str, Any], severities: list[str], what: str) -> None:
    """A per-severity mapping names only 'default' or severities, and covers every severity."""
    for key in mapping:
        if key != "default" and key not in severities:
            problems.append(f"{path}.{key}: expected 'default' or a severity ({', '.join(severities)})")
    missing = [s for s in severities if s not in mapping]
    if "default" not in mapping and missing:
        problems.append(f"{path}: no 'default' and no {what} for {', '.join(missing)}")


def _check_mix_keys(problems: list[str], path: str, mix: dict[str, float], names: list[str]) -> None:
    for key in mix:
        if key not in names:
            problems.append(f"{path}.{key}: '{key}' is not declared (declared: {', '.join(names)})")
