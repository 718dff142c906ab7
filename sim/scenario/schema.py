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
    PositiveInt,
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
# each mechanism declares its own section (and its cross-checks) in its module of sim.mechanisms
from ..mechanisms.channels import Channel
from ..mechanisms.closed_loop import ClosedLoop
from ..mechanisms.collective import Collective
from ..mechanisms.court_link import CourtLink
from ..mechanisms.detection import Detection
from ..mechanisms.difficulty import Difficulty
from ..mechanisms.outcomes import LevelOutcome
from ..mechanisms.reopening import Reopening
from ..mechanisms.prevention import Prevention
from ..mechanisms.desks import Partner, Pool
from ..mechanisms.meetings import Meeting
from ..mechanisms.other_duties import OtherDuties
from ..mechanisms.sittings import Sittings


class Role(Strict):
    """People who handle cases: how many per unit of the level that uses them, and when."""

    staff_per_unit: Staff = Field(description="People in every unit of each level (or desk) that uses this role.")
    roster: RosterSpec = Field("always", description="When they work: 'always', 'office' (Monday to Friday 09:00-17:00) or a list of shifts.")
    availability: Probability = Field(1.0, description="Share of rostered time actually given to disputes (volunteers, part-timers); 1 = all of it.")
    hours_per_week: Annotated[float, Field(gt=0, le=168)] | None = Field(None, description="Hours each member gives a week (volunteers); caps the rostered hours. Unit: hours.")
    cost_per_year: Money | None = Field(None, description="Yearly cost of one staff member, for staffing searches. Unit: yuan a year.")
    other_duties: OtherDuties | None = Field(None, description="Non-dispute tasks (inspections, registration, campaigns) occupying the same people.")
    description: str = Field("", description="What these people are, in words (shown by sim describe and the app).")

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

    name: str = Field(min_length=1, description="The unit's name (a building, a grid ...).")
    parent: str | None = Field(None, description="The name of its parent unit in the level above.")


class Level(Strict):
    """One layer of the hierarchy: its units, who handles cases there and the rules."""

    units: Annotated[int, Field(gt=0, le=MAX_UNITS)] | None = Field(None, description="How many units this level has; they are split among the parents in contiguous, as even as possible blocks.")
    per_parent: Annotated[int, Field(gt=0, le=MAX_UNITS)] | None = Field(None, description="Or: exactly this many units under every unit of the level above.")
    parents: list[Annotated[int, Field(ge=0, le=MAX_UNITS)]] | None = Field(None, description="Or: the parent index (0-based, in the level above) of every unit.")
    units_named: list[NamedUnit] | None = Field(default=None, min_length=1, description="Or: named units, each naming its parent.")
    role: str = Field(description="The role (a key of roles) that handles cases at this level.")
    queue: Literal["per_unit", "shared"] = Field("per_unit", description="'per_unit': each unit has its own queue and staff; 'shared': one queue for all the level's staff.")
    handling: dict[str, Distribution] = Field(description="Handling time distribution per severity ('default' for the rest).")
    settle: Union[Probability, dict[str, Probability]] = Field(description="Chance that handling here settles a case: one share, or per severity ('default' for the rest).")
    ceiling: str | None = Field(None, description="The highest severity this level keeps; above it, cases are triaged and referred up.")
    triage: Distribution | None = Field(None, description="Time to triage and refer up a case above the ceiling.")
    deadline_days: Days | None = Field(None, description="A case still open this long after reaching the level goes up.")
    # days a case stays at the level after handling without occupying staff (parties to convene,
    # site visits, waiting for a reply); counts toward deadlines and time to settle
    follow_up_days: dict[str, Distribution] | None = Field(None, description="Elapsed days after handling before the outcome (convening the parties, site visits), per severity; holds no staff.")
    volunteers: list[str] = Field(default_factory=list, description="Roles whose on-duty staff join this level's handlers (volunteers).")
    sittings: Sittings | None = Field(None, description="Handling spread over several sittings with days between them.")
    description: str = Field("", description="What this level is, in words.")

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
    rate_per_household_year: Annotated[float, Field(gt=0, le=limits.MAX_RATE)] = Field(description="Disputes a year per household (Poisson arrivals). Unit: cases per household per year.")
    severity_mix: dict[str, Probability] = Field(description="Share of cases of each severity (sums to 1).")
    category_mix: dict[str, Probability] = Field(description="Share of cases of each category (sums to 1).")
    weekday_factors: list[Annotated[float, Field(ge=0, le=limits.MAX_FACTOR)]] | None = Field(default=None, min_length=7, max_length=7, description="Relative arrival intensity of each weekday, Monday first (7 numbers).")
    hour_factors: list[Annotated[float, Field(ge=0, le=limits.MAX_FACTOR)]] | None = Field(default=None, min_length=24, max_length=24, description="Relative arrival intensity of each hour of the day, 0:00 first (24 numbers).")

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

    source: str | None = Field(None, description="The document a figure is taken from (quote and where).")
    assumption: str | None = Field(None, description="Why a value is assumed when no document gives it.")
    range: tuple[float, float] | None = Field(None, description="Plausible range (low, high) of an assumed value, for sensitivity analysis.")

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

    name: str = Field(min_length=1, description="Short key used in results folders and tables (letters, digits, _ and -).")
    title: str = Field("", description="Human-readable name shown in the app, figures and reports.")
    description: str = Field("", description="What the model is, in words.")
    time_unit: Literal["hours", "days"] = Field("hours", description="Unit of every handling and triage time.")
    severities: list[str] = Field(default_factory=lambda: ["micro", "small", "big", "major"], min_length=1, description="Severities, lowest first.")
    categories: list[str] = Field(min_length=1, description="Dispute categories.")
    households: Annotated[int, Field(gt=0, le=limits.MAX_HOUSEHOLDS)] = Field(description="Households served; arrivals scale with it.")
    persons_per_household: Annotated[float, Field(gt=0, le=20)] | None = Field(None, description="Residents per household (residents = households x this), for per-resident rates.")
    grassroots_top: str | None = Field(None, description="The highest level counted as grassroots (grassroots_share); default: none.")
    arrivals: Arrivals = Field(description="How many disputes arrive, and of which kinds.")
    roles: dict[str, Role] = Field(min_length=1, description="Who handles cases, by role name.")
    levels: dict[str, Level] = Field(min_length=1, description="The hierarchy, bottom level first.")
    meetings: dict[str, Meeting] = Field(default_factory=dict, description="Scheduled meetings that take referred cases (weekly, monthly, quarterly).")
    pools: dict[str, Pool] = Field(default_factory=dict, description="Centres staffed from several roles with one shared queue, beside a level.")
    partners: dict[str, Partner] = Field(default_factory=dict, description="Outside partners with their own staff, beside a level.")
    channels: dict[str, Channel] = Field(default_factory=dict, description="Channels through which a share of cases enters above the bottom level.")
    closed_loop: ClosedLoop | None = Field(None, description="Hand-over response times and report-back (closed-loop management).")
    prevention: dict[str, Prevention] = Field(default_factory=dict, description="Measures that lower the arrival rate of some categories over time.")
    detection: Detection | None = Field(None, description="Disputes exist before anyone reports them; channels find them at stated rates.")
    collective: dict[str, Collective] = Field(default_factory=dict, description="Disputes involving many households, from their own arrival stream.")
    court_link: CourtLink | None = Field(None, description="Where cases leaving the top unsettled go (court, petition, abandoned), and a judge's studio.")
    difficulty: Difficulty | None = Field(None, description="A latent difficulty per case that makes cases failing below harder above.")
    outcomes: dict[str, LevelOutcome] = Field(default_factory=dict, description="Per level: settle chances that fall with the days waited or the queue found.")
    reopening: Reopening | None = Field(None, description="Settled cases whose agreement fails re-open and climb on.")
    target_days: Union[Days, dict[str, Days], None] = Field(None, description="Service target: within_target_share counts cases settled within it; one number or per severity.")
    horizon_days: Days = Field(365.0, description="Simulated days per replication, warm-up included.")  # run-size limits: limits.run_size_problems
    warmup_days: NonNegativeDays = Field(0.0, description="Days at the start not counted in the statistics.")
    replications: PositiveInt = Field(10, description="Replications per run, when the command does not say.")
    seed: Annotated[int, Field(ge=0, le=limits.MAX_SEED)] = Field(20240426, description="Seed of the random numbers, when the command does not say.")
    max_open_cases: Annotated[int, Field(gt=0, le=limits.MAX_OPEN_CASES)] = Field(200_000, description="A replication stops (unstable) when this many cases are open.")
    sources: dict[str, Union[str, SourceNote]] = Field(default_factory=dict, description="The source of each figure, by key path: a citation or an assumption.")

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
        if self.grassroots_top is not None and self.grassroots_top not in self.levels:
            problems.append(f"grassroots_top: '{self.grassroots_top}' is not a level ({', '.join(names)})")
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
        from ..mechanisms import problems as mechanism_problems

        problems = mechanism_problems(self)
        if problems:
            raise ValueError("\n".join(problems))
        return self

    # ---- convenience accessors used by the engine and the reports
    @property
    def level_names(self) -> list[str]:
        return list(self.levels)

    @property
    def residents(self) -> float | None:
        """Households x persons per household; None when the scenario does not say."""
        return None if self.persons_per_household is None else self.households * self.persons_per_household

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
