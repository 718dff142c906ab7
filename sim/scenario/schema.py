"""The scenario schema: what a scenario YAML may say, validated by pydantic.

A scenario is data only. Levels are listed bottom to top (building first); every level
names the role that handles cases there. Durations of handling and triage are in the
scenario's ``time_unit``; deadlines, targets, horizons and warm-up are in days.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveFloat,
    PositiveInt,
    NonNegativeFloat,
    NonNegativeInt,
    field_validator,
    model_validator,
)

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
MIX_TOLERANCE = 1e-9
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Strict(BaseModel):
    """Base model: unknown keys are errors, models are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- distributions
class Exponential(Strict):
    dist: Literal["exponential"]
    mean: PositiveFloat


class LogNormal(Strict):
    dist: Literal["lognormal"]
    mean: PositiveFloat
    sd: PositiveFloat


class Gamma(Strict):
    dist: Literal["gamma"]
    mean: PositiveFloat
    sd: PositiveFloat


class Triangular(Strict):
    dist: Literal["triangular"]
    low: NonNegativeFloat
    mode: NonNegativeFloat
    high: PositiveFloat

    @model_validator(mode="after")
    def _ordered(self) -> "Triangular":
        if not (self.low <= self.mode <= self.high) or self.low == self.high:
            raise ValueError("triangular needs low <= mode <= high and low < high")
        return self


class Fixed(Strict):
    dist: Literal["fixed"]
    value: NonNegativeFloat


class Empirical(Strict):
    dist: Literal["empirical"]
    values: list[NonNegativeFloat] = Field(min_length=1)


DIST_NAMES = ("exponential", "lognormal", "gamma", "triangular", "fixed", "empirical")

Distribution = Annotated[
    Union[Exponential, LogNormal, Gamma, Triangular, Fixed, Empirical],
    Field(discriminator="dist"),
]


def dist_mean(d: Any) -> float:
    """Mean of a distribution spec, in its own unit."""
    if isinstance(d, (Exponential, LogNormal, Gamma)):
        return d.mean
    if isinstance(d, Triangular):
        return (d.low + d.mode + d.high) / 3.0
    if isinstance(d, Fixed):
        return d.value
    if isinstance(d, Empirical):
        return sum(d.values) / len(d.values)
    raise TypeError(d)


# --------------------------------------------------------------------------- rosters
class Shift(Strict):
    """Staff on duty on the given weekdays between start and end hour (end may pass midnight)."""

    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = Field(min_length=1)
    start: Annotated[float, Field(ge=0, lt=24)]
    end: Annotated[float, Field(gt=0, le=48)]
    staff: NonNegativeInt | None = None  # defaults to the role's staff_per_unit

    @model_validator(mode="after")
    def _order(self) -> "Shift":
        if self.end <= self.start:
            raise ValueError("shift end must be after its start (use end > 24 for night shifts)")
        return self


class Roster(Strict):
    shifts: list[Shift] = Field(min_length=1)


RosterSpec = Union[Literal["always", "office"], Roster]

# Office hours are an assumption of the tool: Monday to Friday, 09:00-17:00.
OFFICE_SHIFTS = Roster(
    shifts=[Shift(days=["mon", "tue", "wed", "thu", "fri"], start=9.0, end=17.0)]
)


class Role(Strict):
    """People who handle cases: how many per unit of the level that uses them, and when."""

    staff_per_unit: NonNegativeInt
    roster: RosterSpec = "always"
    availability: Probability = 1.0  # share of staff actually on duty (volunteers, part-timers)
    cost_per_year: NonNegativeFloat | None = None  # yuan per staff member, for staffing searches
    description: str = ""


# --------------------------------------------------------------------------- levels
class Level(Strict):
    """One layer of the hierarchy: its units, who handles cases there and the rules."""

    units: PositiveInt | None = None  # total units at this level, spread evenly over parents
    per_parent: PositiveInt | None = None  # or: this many under every unit of the level above
    parents: list[NonNegativeInt] | None = None  # or: explicit parent index of every unit
    role: str
    queue: Literal["per_unit", "shared"] = "per_unit"
    handling: dict[str, Distribution]  # key "default" and/or a severity name
    settle: Union[Probability, dict[str, Probability]]
    ceiling: str | None = None  # highest severity handled here; above it: triage, then refer up
    triage: Distribution | None = None
    deadline_days: PositiveFloat | None = None
    description: str = ""

    @model_validator(mode="after")
    def _one_size(self) -> "Level":
        given = [k for k in ("units", "per_parent", "parents") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(f"give only one of units, per_parent, parents (got {', '.join(given)})")
        if not given:
            raise ValueError("give the number of units: units, per_parent or parents")
        return self


# --------------------------------------------------------------------------- arrivals
class Arrivals(Strict):
    rate_per_household_year: PositiveFloat
    severity_mix: dict[str, Probability]
    category_mix: dict[str, Probability]
    weekday_factors: list[NonNegativeFloat] | None = Field(default=None, min_length=7, max_length=7)
    hour_factors: list[NonNegativeFloat] | None = Field(default=None, min_length=24, max_length=24)

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


# --------------------------------------------------------------------------- scenario
class Scenario(Strict):
    """A whole governance model: hierarchy, staff, arrivals, rules and run settings."""

    name: str = Field(min_length=1)
    title: str = ""
    description: str = ""
    time_unit: Literal["hours", "days"] = "hours"
    severities: list[str] = Field(default_factory=lambda: ["micro", "small", "big", "major"], min_length=1)
    categories: list[str] = Field(min_length=1)
    households: PositiveInt
    arrivals: Arrivals
    roles: dict[str, Role] = Field(min_length=1)
    levels: dict[str, Level] = Field(min_length=1)
    target_days: Union[PositiveFloat, dict[str, PositiveFloat], None] = None
    horizon_days: PositiveFloat = 365.0
    warmup_days: NonNegativeFloat = 0.0
    replications: PositiveInt = 10
    seed: NonNegativeInt = 20240426
    max_open_cases: PositiveInt = 200_000
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
            elif self.roles[lv.role].staff_per_unit == 0:
                problems.append(f"{p}.role: role '{lv.role}' has staff_per_unit 0 but cases are routed to level '{lname}'")
            for key in lv.handling:
                if key != "default" and key not in sev:
                    problems.append(f"{p}.handling.{key}: expected 'default' or a severity ({', '.join(self.severities)})")
            if "default" not in lv.handling and not sev <= set(lv.handling):
                missing = [s for s in self.severities if s not in lv.handling]
                problems.append(f"{p}.handling: no 'default' and no entry for {', '.join(missing)}")
            if isinstance(lv.settle, dict):
                for key in lv.settle:
                    if key != "default" and key not in sev:
                        problems.append(f"{p}.settle.{key}: expected 'default' or a severity ({', '.join(self.severities)})")
                if "default" not in lv.settle and not sev <= set(lv.settle):
                    missing = [s for s in self.severities if s not in lv.settle]
                    problems.append(f"{p}.settle: no 'default' and no probability for {', '.join(missing)}")
            if lv.ceiling is not None and lv.ceiling not in sev:
                problems.append(f"{p}.ceiling: '{lv.ceiling}' is not a severity ({', '.join(self.severities)})")
            if lv.ceiling in sev and lv.triage is None and lv.ceiling != self.severities[-1]:
                problems.append(f"{p}.triage: a level with a ceiling needs a triage time for cases above it")
            if lv.deadline_days is not None and lv.triage is not None:
                tri_days = dist_mean(lv.triage) / (24.0 if self.time_unit == "hours" else 1.0)
                if lv.deadline_days <= tri_days:
                    problems.append(f"{p}.deadline_days: {lv.deadline_days:g} days is not longer than the triage time ({tri_days:g} days)")
            if i == 0 and lv.units is not None and lv.units > self.households:
                problems.append(f"{p}.units: {lv.units} units but only {self.households} households")
            if i == len(names) - 1:
                n_top = lv.units if lv.units is not None else None
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


def _check_mix_keys(problems: list[str], path: str, mix: dict[str, float], names: list[str]) -> None:
    for key in mix:
        if key not in names:
            problems.append(f"{path}.{key}: '{key}' is not declared (declared: {', '.join(names)})")
