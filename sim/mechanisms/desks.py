"""Pooled centres and outside partners: service points beside a level with one shared queue.

A pool (Fangxing's "1+2+N" co-governance centre, Shuangluan's safety service centre) is
staffed from several roles; its members' on-duty head-counts, each after its role's roster
and availability, add up into one resource that every matching case queues for. A partner
(an enterprise, lawyers, a judge's studio) is the same with its own staff and hours.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator, Literal, Union

from pydantic import Field

from .. import rosters
from ..scenario.fields import Distribution, Money, PositiveStaff, Probability, RosterSpec, Strict
from .base import CaseFilter, Hooks, Mechanism, check_level, check_names, check_per_severity, per_severity, takes_text

if TYPE_CHECKING:  # pragma: no cover
    from ..rosters import WeeklyProfile
    from ..scenario.schema import Role, Scenario
    from .base import DescriptionRow
    from .context import Context, MetricSink


# --------------------------------------------------------------------------- schema
class Desk(Strict):
    """A service point beside a level that takes cases of some categories (pools and partners).

    ``mode: instead``: matching cases reaching the level go to the desk instead of the level's
    staff; ``mode: after``: they go to the desk when the level has not settled them. A case
    the desk does not settle goes up to the next level.
    """

    level: str = Field(description="The level the desk sits beside.")
    mode: Literal["instead", "after"] = Field("instead", description="'instead': tried before the level's staff; 'after': when the level fails.")
    severities: list[str] | None = Field(None, description="Severities it takes (default: all).")
    categories: list[str] | None = Field(None, description="Categories it takes (default: all).")
    share: Probability = Field(1.0, description="Share of matching cases the desk takes.")
    handling: dict[str, Distribution]  # in the scenario's time_unit; 'default' and/or severities
    settle: Union[Probability, dict[str, Probability]] = Field(description="Chance it settles a case: one share, or per severity.")
    description: str = Field("", description="What the desk is, in words.")


class Pool(Desk):
    """A centre staffed from several roles (each with its roster and availability), one shared queue."""

    staff: dict[str, PositiveStaff] = Field(min_length=1, description="Members in the centre, by role name.")


class Partner(Desk):
    """An outside partner (enterprise, lawyers, a judge's studio) with its own capacity and hours."""

    staff: PositiveStaff = Field(description="Partner staff.")
    roster: RosterSpec = Field("always", description="When partner staff work.")
    availability: Probability = Field(1.0, description="Share of rostered time given to disputes.")
    cost_per_year: Money | None = Field(None, description="Yearly cost of one partner staff member. Unit: yuan a year.")

    def as_role(self) -> "Role":
        from ..scenario.schema import Role

        return Role(staff_per_unit=self.staff, roster=self.roster, availability=self.availability,
                    cost_per_year=self.cost_per_year)


# --------------------------------------------------------------------------- checks and description
def _desk_problems(group: str, desks: dict[str, Desk], scenario: "Scenario") -> list[str]:
    out: list[str] = []
    sevs = scenario.severities
    for name, d in desks.items():
        p = f"{group}.{name}"
        check_level(out, f"{p}.level", d.level, scenario)
        check_names(out, f"{p}.severities", d.severities, sevs, "severity")
        check_names(out, f"{p}.categories", d.categories, scenario.categories, "category")
        if isinstance(d.settle, dict):
            check_per_severity(out, f"{p}.settle", d.settle, sevs)
        check_per_severity(out, f"{p}.handling", d.handling, sevs)
        if isinstance(d, Pool):
            for role in d.staff:
                if role not in scenario.roles:
                    out.append(f"{p}.staff.{role}: role '{role}' is not declared under roles")
    return out


def _desk_rows(kind: str, desks: dict[str, Desk]) -> list["DescriptionRow"]:
    rows: list[DescriptionRow] = []
    for name, d in desks.items():
        staff = ", ".join(f"{r} {n}" for r, n in d.staff.items()) if isinstance(d, Pool) else str(d.staff)  # type: ignore[attr-defined]
        rows.append((kind, name, f"{d.level} ({d.mode})", f"staff {staff}; takes {takes_text(d)}"))
    return rows


# --------------------------------------------------------------------------- runtime
def desk_profile(scenario: "Scenario", desk: Desk) -> "WeeklyProfile":
    """On-duty head-count of a desk over the week: a pool's members added up, or a partner's staff."""
    if isinstance(desk, Pool):
        return rosters.add_profiles(*(rosters.role_profile(scenario.roles[r], n) for r, n in desk.staff.items()))
    assert isinstance(desk, Partner)
    return rosters.weekly_profile(desk.as_role())


class DeskRuntime(CaseFilter):
    """A pool or partner during one replication: its resource, draws and statistics."""

    def __init__(self, ctx: "Context", scenario: "Scenario", kind: str, name: str, desk: Desk):
        self.env = ctx.env
        self.kind, self.name, self.label, self.slot = kind, name, f"{kind}.{name}", -1
        self.level = ctx.level_index(desk.level)
        self.before = desk.mode == "instead"
        CaseFilter.__init__(self, ctx, self.label, desk)
        self.settle = per_severity(desk.settle, scenario.severities)
        self.profile = desk_profile(scenario, desk)
        self.resource = ctx.resource(self.profile)
        self.closed_hours = self.profile.on_off  # all-or-nobody rosters: wait for the next shift
        specs = [desk.handling.get(s, desk.handling.get("default")) for s in scenario.severities]
        self.durations = ctx.durations(f"{self.label}.handling", specs, ctx.hours_per_unit)
        self.outcome = ctx.uniforms(f"{self.label}.outcome")
        self.warmup = ctx.warmup
        self.visits = 0
        self.wait_sum = 0.0
        self.busy_time = ctx.busy_time()
        self.last_visit = (float("nan"), float("nan"))  # (start hour, off-duty wait) of the visit just ended
        self.respond: tuple[int, Any] | None = None  # (level, hand-over wait) when the level's closed loop applies

    def visit(self, sev: int, counted: bool) -> Iterator[Any]:
        """Queue for the desk's shared staff, be handled, return whether the case is settled
        (False too when a closed loop sends the case on up because handling starts too late)."""
        env = self.env
        arrive = env.now
        dur = self.durations.next(sev)
        req = self.resource.request()  # released below (a late hand-over sent up is cancelled by the closed loop)
        if self.respond is not None:
            li, wait = self.respond
            if not (yield from wait(li, req, counted, self.profile if self.closed_hours else None)):
                return False
        yield req
        now = env.now
        granted = now
        if self.closed_hours:
            opens = self.profile.next_on_duty(now)
            if opens > now:
                yield env.timeout(opens - now)
                now = opens
        if counted:
            self.visits += 1
            self.wait_sum += now - arrive
        self.busy_time.start(now)
        off = self.resource.off_duty
        if off is not None:
            off.start(now)
        yield env.timeout(dur)
        self.busy_time.end(env.now)
        if off is not None:
            off.end(env.now)
        self.resource.release(req)
        self.last_visit = (now, now - granted)  # read by a case trace as soon as this returns
        return self.outcome.next() < self.settle[sev]

    def report(self, sink: "MetricSink", end: float) -> None:
        self.busy_time.advance(end)
        nan = float("nan")
        duty = self.profile.on_duty_hours(self.warmup, end)
        sink.put(f"cases.{self.label}", float(self.visits))
        sink.put(f"wait_hours.{self.label}", self.wait_sum / self.visits if self.visits else nan)
        off = self.resource.off_duty
        overtime = 0.0
        if off is not None:
            off.advance(end)
            overtime = off.area
        sink.put(f"utilisation.{self.label}", min(1.0, (self.busy_time.area - overtime) / duty) if duty > 0 else nan)


class Desks:
    """Every pool (or every partner) of a scenario in one replication."""

    def __init__(self, kind: str, group: str, scenario: "Scenario", ctx: "Context"):
        self.desks = [DeskRuntime(ctx, scenario, kind, name, d) for name, d in getattr(scenario, group).items()]

    def hooks(self) -> Hooks:
        return Hooks(settlers=tuple(self.desks))

    def report(self, sink: "MetricSink", end: float) -> None:
        """Nothing beyond each desk's own metrics."""


POOLS = Mechanism("pools", (Desk, Pool), used=lambda sc: bool(sc.pools),
                  problems=lambda sc: _desk_problems("pools", sc.pools, sc),
                  describe=lambda sc: _desk_rows("pool", sc.pools),
                  runtime=lambda sc, ctx: Desks("pool", "pools", sc, ctx), settler_kind="pool")
PARTNERS = Mechanism("partners", (Desk, Partner), used=lambda sc: bool(sc.partners),
                     problems=lambda sc: _desk_problems("partners", sc.partners, sc),
                     describe=lambda sc: _desk_rows("partner", sc.partners),
                     runtime=lambda sc, ctx: Desks("partner", "partners", sc, ctx), settler_kind="partner")
