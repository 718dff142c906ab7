"""Other duties of a role (``roles.<role>.other_duties``): non-dispute tasks that occupy the
same people who handle disputes (inspections, registration, data collection, campaigns).

Tasks arrive as a Poisson stream while staff are on duty, ``tasks_per_person_week`` for each
member of the role, so a unit's tasks follow its on-duty head-count (thinning of one stream at
the peak rate). Each task takes a handler of the level that uses the role (the unit's own
staff, or the shared queue) for a ``duration`` in hours. Who goes first:

* ``disputes_wait`` - tasks and disputes share one first-come-first-served queue;
* ``disputes_interrupt`` - a dispute takes the next free handler before any waiting task, and
  pre-empts a task in hand when every handler is busy; the task resumes later with the work
  it has left (preemptive-resume priority). Needs a roster whose whole staff is on or off duty.

A task stops when nobody of its unit is on duty any more and goes on at the next shift.

Draws come from the role's own streams (``other_duties.<role>.<level>.arrivals``, ``.accept``,
``.unit``, ``.duration``), so the disputes' draws are unchanged (common random numbers). The role's time
split is reported as ``time_share.{disputes,other_duties,idle}.<role>``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any, Callable, Iterator, Literal

from pydantic import Field

from ..scenario.fields import Distribution, Strict
from .base import Hooks, Mechanism

if TYPE_CHECKING:  # pragma: no cover
    from ..scenario.schema import Scenario
    from .base import DescriptionRow
    from .context import Context, MetricSink

RULES = ("disputes_wait", "disputes_interrupt")


class OtherDuties(Strict):
    """Non-dispute tasks of each member of a role."""

    tasks_per_person_week: Annotated[float, Field(gt=0, le=1000)]
    duration: Distribution  # hours a task holds one handler
    rule: Literal["disputes_wait", "disputes_interrupt"] = "disputes_wait"
    description: str = ""


def _levels_of(scenario: "Scenario", role: str) -> list[int]:
    return [li for li, lv in enumerate(scenario.levels.values()) if lv.role == role]


def used(scenario: "Scenario") -> bool:
    return any(r.other_duties is not None for r in scenario.roles.values())


def problems(scenario: "Scenario") -> list[str]:
    from .. import rosters

    out = []
    for name, role in scenario.roles.items():
        duties = role.other_duties
        if duties is None:
            continue
        p = f"roles.{name}.other_duties"
        if not _levels_of(scenario, name):
            out.append(f"{p}: no level is handled by the role '{name}'")
        if duties.rule == "disputes_interrupt":
            profile = rosters.weekly_profile(role)
            if not (profile.constant or profile.on_off):
                out.append(f"{p}.rule: disputes_interrupt needs a roster whose whole staff is on or off duty "
                           "together (always, office, or shifts without a changing head-count)")
    return out


def describe(scenario: "Scenario") -> list["DescriptionRow"]:
    rows = []
    for name, role in scenario.roles.items():
        d = role.other_duties
        if d is not None:
            rows.append(("other_duties", name, ", ".join(lv for lv, spec in scenario.levels.items() if spec.role == name),
                         f"{d.tasks_per_person_week:g} tasks a person a week, {d.duration.describe('hours')} each; {d.rule}"))
    return rows


class TaskStream:
    """One level's other-duty tasks: arrivals, holding a handler, and the busy staff-hours.

    The stream is a chain of callbacks rather than SimPy processes (one task in hand costs
    an event at its arrival and one at the end of each on-duty stretch it works): a task
    arriving at a free handler with nobody queued takes the place directly (SimPy's request
    would be granted by an event at the same instant, nothing else happening in between);
    otherwise it queues with a plain request, first come first served with the disputes.
    Under ``disputes_interrupt`` each task is a process that a dispute can interrupt.
    """

    def __init__(self, ctx: "Context", level: int, label: str, duties: OtherDuties):
        self.ctx = ctx
        self.level = level
        self.preempt = duties.rule == "disputes_interrupt"
        self.weekly = duties.tasks_per_person_week
        self.gaps = ctx.uniforms(f"{label}.arrivals")
        self.accept = ctx.uniforms(f"{label}.accept")
        self.unit = ctx.uniforms(f"{label}.unit")
        self.durations = ctx.durations(f"{label}.duration", [duties.duration], 1.0)
        self.busy = ctx.busy_time()

    def process(self, resources: list[Any], profile: Any, staff: int) -> Iterator[Any]:
        """Start the stream of the level's tasks (a generator for ``env.process``; the
        arrivals then run as callbacks). ``staff``: members per resource. Under a roster whose
        whole staff is on or off duty the Poisson stream runs on on-duty time only; otherwise
        a stream at the peak rate is thinned to the on-duty head-count of the task's unit."""
        self._start(resources, profile, staff)
        yield from ()

    def _start(self, resources: list[Any], profile: Any, staff: int) -> None:
        from ..engine.simpy_patches import CaseProcess, RosteredResource

        env = self.ctx.env
        peak = max(profile.peak, 1)
        duty_week = profile.on_duty_hours(0.0, 168.0)  # on-duty staff-hours a week of one resource
        if duty_week <= 0 or staff <= 0:
            return
        per_duty_hour = self.weekly * staff / duty_week  # tasks an on-duty staff-hour
        n = len(resources)
        mean_gap = 1.0 / (per_duty_hour * peak * n)
        gaps, unit, accept, durations = self.gaps, self.unit, self.accept, self.durations
        constant = profile.constant
        on_time = constant or profile.on_off
        skip_off = on_time and not constant  # arrivals on on-duty time only
        closed = not constant
        count_at, next_change, next_on_duty = profile.count_at, profile.next_change, profile.next_on_duty
        rostered = isinstance(resources[0], RosteredResource)
        busy = self.busy
        log = math.log
        timeout = env.timeout
        preempt = self.preempt
        state = [0.0]  # the arrival clock (kept apart from env.now, which rounds t - now + now)

        at_time: dict[float, list[Callable[[], None]]] = {}  # shared events at the changes of shift

        def at(delay: float, action: Callable[[], None]) -> None:
            """Run ``action`` after ``delay``; actions falling due at the same instant (a change
            of shift) share one event and run in the order they were set, as their own events
            would (nothing else at that instant touches these tasks or their hours)."""
            due = env.now + delay  # the time SimPy gives the timeout
            actions = at_time.get(due)
            if actions is None:
                at_time[due] = actions = [action]
                timeout(delay).callbacks.append(lambda _e: [act() for act in at_time.pop(due)])
            else:
                actions.append(action)

        def run(res: Any, off: Any, req: Any, work: float) -> None:
            """Work on from now (a handler held): wait for the next shift if nobody is on duty."""
            now = env.now
            if closed and (opens := next_on_duty(now)) > now:
                at(opens - now, lambda: stretch(res, off, req, work))
                return
            stretch(res, off, req, work)

        def stretch(res: Any, off: Any, req: Any, work: float) -> None:
            """One on-duty stretch of a task (to its end or to the next change of shift)."""
            start = env.now
            busy.start(start)
            if off is not None:
                off.start(start)
            if closed and (left := next_change(start) - start) < work:

                def pause() -> None:
                    now = env.now
                    busy.end(now)
                    if off is not None:
                        off.end(now)
                    run(res, off, req, work - left)

                at(left, pause)
                return

            def done(_e: Any) -> None:
                now = env.now
                busy.end(now)
                if off is not None:
                    off.end(now)
                res.release(req)

            timeout(work).callbacks.append(done)

        def arrive(_e: Any) -> None:
            t = state[0]
            res = resources[min(int(unit.next() * n), n - 1)]
            if on_time or accept.next() * peak < count_at(t):
                work = durations.next(0)
                if preempt:
                    CaseProcess(env, self._task(res, profile, work))
                elif not res.put_queue and len(res.users) < (count_at(env.now) if rostered else res.capacity):
                    token = _Held()  # the place a granted request would take, without its event
                    res.users.append(token)
                    run(res, res.off_duty, token, work)
                else:
                    req = res.request()
                    off = res.off_duty
                    req.callbacks.append(lambda _e: run(res, off, req, work))
            schedule()

        def schedule() -> None:
            gap = -mean_gap * log(1.0 - gaps.next())
            t = state[0]
            t = _after_on_duty(profile, t, gap) if skip_off else t + gap
            state[0] = t
            timeout(t - env.now).callbacks.append(arrive)

        schedule()

    def _task(self, res: Any, profile: Any, work: float) -> Iterator[Any]:
        """Hold a handler for ``work`` on-duty hours; a pre-empted task queues again. A task
        stops when nobody of the unit is on duty any more and goes on at the next shift, in
        the same place (other duties make no overtime past the last shift of the day)."""
        import simpy

        env = self.ctx.env
        busy, off, closed = self.busy, res.off_duty, not profile.constant
        while True:
            req = res.request(priority=1, preempt=False) if self.preempt else res.request()
            start = None
            try:
                yield req
                while True:
                    if closed and (opens := profile.next_on_duty(env.now)) > env.now:
                        yield env.timeout(opens - env.now)
                    start = env.now
                    chunk = min(work, profile.next_change(start) - start) if closed else work
                    busy.start(start)
                    if off is not None:
                        off.start(start)
                    yield env.timeout(chunk)
                    busy.end(env.now)
                    if off is not None:
                        off.end(env.now)
                    start = None
                    if chunk >= work:
                        break
                    work -= chunk
            except simpy.Interrupt:  # a dispute took the handler: queue again with the work left
                if start is not None:
                    work -= env.now - start
                    busy.end(env.now)
                    if off is not None:
                        off.end(env.now)
                continue
            res.release(req)
            return


class _Held:
    """A task's place among a resource's users, taken without a request event."""

    __slots__ = ()


def _after_on_duty(profile: Any, t: float, hours: float) -> float:
    """The time ``hours`` of on-duty time after ``t`` (off-duty stretches skipped)."""
    while True:
        if profile.count_at(t) == 0:
            t = profile.next_on_duty(t)
        end = profile.next_change(t)
        if end <= t:  # t a hair below a step start: rounding gives the start back
            end = profile.next_change(t + 1e-6)
        if t + hours <= end:
            return t + hours
        hours -= end - t
        t = end


class OtherDutiesRuntime:
    """The task streams of every level handled by a role with other duties."""

    def __init__(self, scenario: "Scenario", ctx: "Context"):
        streams = []
        for name, role in scenario.roles.items():
            if role.other_duties is None:
                continue
            for li in _levels_of(scenario, name):
                streams.append(TaskStream(ctx, li, f"other_duties.{name}.{ctx.levels[li]}", role.other_duties))
        self.streams = tuple(streams)

    def hooks(self) -> Hooks:
        return Hooks(staff_work=self.streams)

    def report(self, sink: "MetricSink", end: float) -> None:
        """The time split is reported with the engine's utilisation (it needs the disputes' share)."""


OTHER_DUTIES = Mechanism("other_duties", (OtherDuties,), used=used, problems=problems, describe=describe,
                         runtime=OtherDutiesRuntime)
