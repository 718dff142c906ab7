"""The levels of one replication: staff resources, rules and the mechanisms hooked to them.

What the case process reads of a level is kept in plain attributes of :class:`LevelRuntime`
(the hot path); a level without settlers keeps ``hooks = None``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import simpy

from ..draws import Durations
from ..hierarchy import Hierarchy
from ..mechanisms.base import Hooks, Settler
from ..rosters import DailyTurnout, TurnoutProfile, WeeklyProfile, add_profiles, weekly_profile
from ..scenario.schema import Scenario
from ..streams import stream
from .simpy_patches import AlarmLine, OpeningBell


@dataclass
class LevelHooks:
    """Settlers attached to one level: tried before its staff (``instead``) or after it fails."""

    before: list[Settler] = field(default_factory=list)
    after: list[Settler] = field(default_factory=list)

    def pick_before(self, sev: int, cat: int) -> Settler | None:
        for desk in self.before:
            if desk.takes(sev, cat):
                return desk
        return None

    def pick_after(self, sev: int, cat: int) -> Settler | None:
        """The first settler that takes a case the level did not settle (or None: it goes up)."""
        for mech in self.after:
            if mech.takes(sev, cat):
                return mech
        return None


@dataclass
class LevelRuntime:
    """What the case process needs to know about a level, in plain attributes."""

    name: str
    resources: list[simpy.Resource]
    per_unit: bool
    profile: WeeklyProfile
    settle: list[float]  # per severity index
    ceiling_rank: int  # severities with a higher index are only triaged here
    deadline: float | None  # hours
    closed_hours: bool = False  # on/off roster: a case granted off duty waits for the next shift
    hooks: LevelHooks | None = None  # when meetings, pools or partners sit at this level
    respond: Any = None  # closed loop: the hand-over wait (a RespondWait) for cases handed to this level
    follow_up: Durations | None = None  # hours after handling before the outcome, staff not occupied
    sittings: Any = None  # further sittings after the first handling (a LevelSittings), or None
    other_busy: Any = None  # staff-hours on other duties (a BusyTime) when the role has them, or None
    ranks: Any = None  # other duties by severity: a dispute's (priority, preempt) request per severity, or None
    opening: OpeningBell | None = None  # with closed hours: the wake-up at the next opening, shared
    alarms: AlarmLine | None = None  # with a deadline: the cases' deadline alarms, in the order they fall due



def build_levels(scenario: Scenario, hierarchy: Hierarchy, env: simpy.Environment, seed: int, rep: int,
                 hooks: list[Hooks], make_resources: Callable[..., list[Any]]) -> list[LevelRuntime]:
    """Every level's resources and rules, with the mechanisms' hooks wired in: extra staff,
    settlers (each given its settlement slot after the levels'), hand-over waits, sittings and
    the streams of other duties (started here, on the level's resources)."""
    sevs = scenario.severities
    extra = {li: profiles for h in hooks for li, profiles in h.extra_staff}
    work = {w.level: w for h in hooks for w in h.staff_work}
    levels: list[LevelRuntime] = []
    for li, (name, lv) in enumerate(scenario.levels.items()):
        profile = weekly_profile(scenario.roles[lv.role])
        if li in extra:  # volunteers and part-timers join the level's handlers
            weekly = [p for p in extra[li] if isinstance(p, WeeklyProfile)]
            daily = tuple(p for p in extra[li] if isinstance(p, DailyTurnout))
            if weekly:
                profile = add_profiles(profile, *weekly)
            if daily:
                profile = TurnoutProfile(profile, daily)  # type: ignore[assignment]
        n_units = hierarchy.counts[li]
        per_unit = lv.queue == "per_unit"
        if not per_unit:
            profile = profile.times(n_units)
        task = work.get(li)
        if task is not None and task.preempt:
            resources = make_resources(env, n_units if per_unit else 1, profile, preemptive=True)
        else:
            resources = make_resources(env, n_units if per_unit else 1, profile)
        ceiling_rank = sevs.index(lv.ceiling) if lv.ceiling is not None else len(sevs) - 1
        deadline = lv.deadline_days * 24.0 if lv.deadline_days is not None else None
        level = LevelRuntime(name, resources, per_unit, profile, [scenario.settle_prob(name, s) for s in sevs],
                             ceiling_rank, deadline, profile.on_off)
        if level.closed_hours:
            level.opening = OpeningBell(env)
        if deadline is not None:
            level.alarms = AlarmLine(env)
        if lv.follow_up_days:
            specs = [lv.follow_up_days.get(s, lv.follow_up_days.get("default")) for s in sevs]
            level.follow_up = Durations(stream(seed, rep, f"follow_up.{name}"), specs, 24.0)
        if task is not None:
            staff = scenario.roles[lv.role].staff_per_unit * (1 if per_unit else n_units)
            level.other_busy = task.busy
            level.ranks = task.ranks
            for r in resources:  # further sittings ask for a handler at the same rank
                r.ranks = task.ranks
            env.process(task.process(resources, profile, staff))
        levels.append(level)
    slot = len(levels)
    for h in hooks:
        for settler in h.settlers:
            settler.slot = slot
            slot += 1
            lv_rt = levels[settler.level]
            if lv_rt.hooks is None:
                lv_rt.hooks = LevelHooks()
            (lv_rt.hooks.before if settler.before else lv_rt.hooks.after).append(settler)
        for li, wait in h.respond:
            levels[li].respond = wait
        for li, plan in h.sittings:
            levels[li].sittings = plan
    for li, lv_rt in enumerate(levels):  # a desk taking a level's cases instead of its staff keeps its response time
        if lv_rt.respond is not None and lv_rt.hooks is not None:
            for desk in lv_rt.hooks.before:
                desk.respond = (li, lv_rt.respond)
    return levels
