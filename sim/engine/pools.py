"""Pooled centres and outside partners: service points beside a level with one shared queue.

A pool (Fangxing's "1+2+N" co-governance centre, Shuangluan's safety service centre) is
staffed from several roles; its members' on-duty head-counts, each after its role's roster
and availability, add up into one resource that every matching case queues for. A partner
(an enterprise, lawyers, a judge's studio) is the same with its own staff and hours.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

import simpy

from ..metrics import BusyTime
from ..scenario.schema import Desk, Meeting, Partner, Pool, Role, Scenario
from ..streams import stream
from .draws import Durations, Uniforms
from .staff import HOURS_PER_WEEK, WeeklyProfile, make_resources, weekly_profile

if TYPE_CHECKING:  # pragma: no cover
    from .model import Model


def add_profiles(*profiles: WeeklyProfile) -> WeeklyProfile:
    """The on-duty head-count of several groups working side by side (sum of step functions)."""
    edges = sorted({s for p in profiles for s, _ in p.steps})
    steps: list[tuple[float, int]] = []
    for e in edges:
        c = sum(_count_at(p, e) for p in profiles)
        if not steps or steps[-1][1] != c:
            steps.append((e, c))
    return WeeklyProfile(tuple(steps))


def _count_at(profile: WeeklyProfile, t: float) -> int:
    count = profile.steps[0][1]
    for s, c in profile.steps:
        if s <= t % HOURS_PER_WEEK:
            count = c
    return count


def role_profile(role: Role, staff: int) -> WeeklyProfile:
    """On-duty head-count of ``staff`` members of a role (its roster, availability, hours a week)."""
    return weekly_profile(role.model_copy(update={"staff_per_unit": staff}))


def desk_profile(scenario: Scenario, desk: Desk) -> WeeklyProfile:
    if isinstance(desk, Pool):
        return add_profiles(*(role_profile(scenario.roles[r], n) for r, n in desk.staff.items()))
    assert isinstance(desk, Partner)
    return weekly_profile(desk.as_role())


def _per_severity(table: float | dict[str, float], sevs: list[str]) -> list[float]:
    if isinstance(table, dict):
        return [float(table.get(s, table.get("default", 0.0))) for s in sevs]
    return [float(table)] * len(sevs)


def _mask(given: list[str] | None, names: list[str]) -> list[bool]:
    return [True] * len(names) if given is None else [n in given for n in names]


class CaseFilter:
    """Which cases a meeting, pool or partner takes: by severity and category, and a share of
    those drawn from the mechanism's own stream (common random numbers)."""

    def __init__(self, model: "Model", label: str, spec: Desk | Meeting):
        sc = model.scenario
        self.sev_ok = _mask(spec.severities, sc.severities)
        self.cat_ok = _mask(spec.categories, sc.categories)
        self.share = spec.share
        self.share_u = Uniforms(stream(model.seed, model.rep, f"{label}.share")) if spec.share < 1.0 else None

    def takes(self, sev: int, cat: int) -> bool:
        """Whether this case goes here (its severity and category match, and the share draw)."""
        if not (self.sev_ok[sev] and self.cat_ok[cat]):
            return False
        return self.share_u is None or self.share_u.next() < self.share


class DeskRuntime(CaseFilter):
    """A pool or partner during one replication: its resource, draws and statistics."""

    def __init__(self, model: "Model", kind: str, name: str, desk: Desk, slot: int):
        sc = model.scenario
        env = model.env
        self.kind, self.name, self.label, self.slot = kind, name, f"{kind}.{name}", slot
        self.level = sc.level_names.index(desk.level)
        self.mode = desk.mode
        CaseFilter.__init__(self, model, self.label, desk)
        self.settle = _per_severity(desk.settle, sc.severities)
        self.profile = desk_profile(sc, desk)
        self.resource = make_resources(env, 1, self.profile)[0]
        self.closed_hours = self.profile.on_off  # all-or-nobody rosters: wait for the next shift
        specs = [desk.handling.get(s, desk.handling.get("default")) for s in sc.severities]
        self.durations = Durations(stream(model.seed, model.rep, f"{self.label}.handling"), specs, sc.hours_per_unit)
        self.outcome = Uniforms(stream(model.seed, model.rep, f"{self.label}.outcome"))
        self.warmup = model.warmup
        self.visits = 0
        self.wait_sum = 0.0
        self.busy_time = BusyTime(model.warmup)

    def visit(self, m: "Model", sev: int, counted: bool) -> Iterator[simpy.Event]:
        """Queue for the desk's shared staff, be handled, return whether the case is settled."""
        env = m.env
        arrive = env.now
        dur = self.durations.next(sev)
        with self.resource.request() as req:
            yield req
            now = env.now
            if self.closed_hours:
                opens = self.profile.next_on_duty(now)
                if opens > now:
                    yield env.timeout(opens - now)
                    now = opens
            if counted:
                self.visits += 1
                self.wait_sum += now - arrive
            self.busy_time.start(now)
            yield env.timeout(dur)
            self.busy_time.end(env.now)
        return self.outcome.next() < self.settle[sev]

    def summary(self, closed: int, end: float) -> dict[str, float]:
        self.busy_time.advance(end)
        nan = float("nan")
        duty = self.profile.on_duty_hours(self.warmup, end)
        return {
            f"cases.{self.label}": float(self.visits),
            f"wait_hours.{self.label}": self.wait_sum / self.visits if self.visits else nan,
            f"utilisation.{self.label}": self.busy_time.area / duty if duty > 0 else nan,
        }
