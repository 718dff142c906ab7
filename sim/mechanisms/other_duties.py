"""Other duties of a role (``roles.<role>.other_duties``): non-dispute tasks that occupy the
same people who handle disputes (inspections, registration, data collection, campaigns).

Tasks arrive as a Poisson stream while staff are on duty, ``tasks_per_person_week`` for each
member of the role, so a unit's tasks follow its on-duty head-count (thinning of one stream at
the peak rate). Optional ``weekday_factors`` (7) and ``hour_factors`` (24), each averaging 1,
make the rate in an hour of the week proportional to weekday factor x hour factor x head-count
on duty (a non-homogeneous Poisson stream, by thinning), rescaled over the on-duty hours so that
a member still gets ``tasks_per_person_week`` tasks a week. Each task takes a handler of the
level that uses the role (the unit's own staff, or the shared queue) for a ``duration`` in
hours. Who goes first:

* ``disputes_wait`` - tasks and disputes share one first-come-first-served queue;
* ``disputes_interrupt`` - a dispute takes the next free handler before any waiting task, and
  pre-empts a task in hand when every handler is busy; the task resumes later with the work
  it has left (preemptive-resume priority). Needs a roster whose whole staff is on or off duty.
* ``by_severity`` - disputes of ``interrupt_severities`` go first and pre-empt as under
  ``disputes_interrupt``; disputes of the other severities share the first-come-first-served
  queue with the tasks (and never pre-empt, nor are pre-empted). Same roster condition.

A task stops when nobody of its unit is on duty any more and goes on at the next shift.

Draws come from the role's own streams (``other_duties.<role>.<level>.arrivals``, ``.accept``,
``.unit``, ``.duration``), so the disputes' draws are unchanged (common random numbers). The role's time
split is reported as ``time_share.{disputes,other_duties,idle}.<role>``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Callable, Iterator, Literal

from pydantic import Field, model_validator

from ..scenario.fields import Distribution, Strict
from .base import Hooks, Mechanism

if TYPE_CHECKING:  # pragma: no cover
    from ..scenario.schema import Scenario
    from .base import DescriptionRow
    from .context import Context, MetricSink

RULES = ("disputes_wait", "disputes_interrupt", "by_severity")
FACTOR_TOLERANCE = 0.01  # how far the factors' average may be from 1 (rounded published shapes)
Factor = Annotated[float, Field(ge=0, le=1000)]


class OtherDuties(Strict):
    """Non-dispute tasks of each member of a role."""

    tasks_per_person_week: Annotated[float, Field(gt=0, le=1000)] = Field(
        description="Tasks arriving for each member of the role in a week (while on duty).")
    duration: Distribution = Field(description="Hours a task holds one handler (on-duty hours). Unit: hours.")
    rule: Literal["disputes_wait", "disputes_interrupt", "by_severity"] = Field(
        "disputes_wait", description="Who goes first: 'disputes_wait' (one first-come-first-served queue), "
        "'disputes_interrupt' (a dispute takes the next handler and pre-empts a task in hand) or 'by_severity' "
        "(disputes of interrupt_severities do so, the others wait with the tasks).")
    interrupt_severities: list[str] | None = Field(
        None, description="With rule 'by_severity': the severities whose disputes pre-empt tasks; disputes of the "
        "other severities share the first-come-first-served queue with the tasks.")
    weekday_factors: Annotated[list[Factor], Field(min_length=7, max_length=7)] | None = Field(
        None, description="Relative task rate on each weekday, Monday first (7 values averaging 1); the weekly "
        "count stays tasks_per_person_week.")
    hour_factors: Annotated[list[Factor], Field(min_length=24, max_length=24)] | None = Field(
        None, description="Relative task rate in each hour of the day, 00:00-01:00 first (24 values averaging 1); "
        "the weekly count stays tasks_per_person_week.")
    description: str = ""

    @model_validator(mode="after")
    def _factors_average_one(self) -> "OtherDuties":
        for key, values in (("weekday_factors", self.weekday_factors), ("hour_factors", self.hour_factors)):
            if values is not None and abs(math.fsum(values) / len(values) - 1.0) > FACTOR_TOLERANCE:
                raise ValueError(f"{key}: the {len(values)} factors must average 1 (they shape when tasks arrive; "
                                 f"tasks_per_person_week sets how many), they average {math.fsum(values) / len(values):.6g}")
        return self

    def hourly_factors(self) -> list[float] | None:
        """The relative rate in each hour of the week (168 values, Monday 00:00 first), or
        None when neither weekday nor hour factors are given (a homogeneous stream)."""
        if self.weekday_factors is None and self.hour_factors is None:
            return None
        week = self.weekday_factors or [1.0] * 7
        day = self.hour_factors or [1.0] * 24
        return [w * h for w in week for h in day]


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
        table = duties.hourly_factors()
        if table is not None and _levels_of(scenario, name):
            weights = duty_weights(rosters.weekly_profile(role))
            if sum(weights) > 0 and not any(f > 0 and w > 0 for f, w in zip(table, weights)):
                out.append(f"{p}: the weekday and hour factors are 0 in every hour the role is on duty, so no task "
                           "could arrive; give some on-duty hour a positive factor")
        if duties.rule == "by_severity":
            listed = duties.interrupt_severities or []
            if not listed:
                out.append(f"{p}.interrupt_severities: rule by_severity needs the severities whose disputes "
                           f"interrupt tasks (some of {', '.join(scenario.severities)})")
            for s in listed:
                if s not in scenario.severities:
                    out.append(f"{p}.interrupt_severities: unknown severity '{s}' (severities: {', '.join(scenario.severities)})")
        elif duties.interrupt_severities is not None:
            out.append(f"{p}.interrupt_severities: only used with rule by_severity (the rule is {duties.rule})")
        if duties.rule != "disputes_wait":
            profile = rosters.weekly_profile(role)
            if not (profile.constant or profile.on_off):
                out.append(f"{p}.rule: {duties.rule} needs a roster whose whole staff is on or off duty "
                           "together (always, office, or shifts without a changing head-count)")
    return out


def describe(scenario: "Scenario") -> list["DescriptionRow"]:
    rows = []
    for name, role in scenario.roles.items():
        d = role.other_duties
        if d is not None:
            rows.append(("other_duties", name, ", ".join(lv for lv, spec in scenario.levels.items() if spec.role == name),
                         f"{d.tasks_per_person_week:g} tasks a person a week{_shape(d)}, {d.duration.describe('hours')} each; {_rule(d)}"))
    return rows


def _rule(d: OtherDuties) -> str:
    if d.rule == "by_severity":
        return f"disputes of {', '.join(d.interrupt_severities or [])} interrupt, the others wait"
    return d.rule


def _shape(d: OtherDuties) -> str:
    parts = [w for w, v in (("weekday", d.weekday_factors), ("hour", d.hour_factors)) if v is not None]
    return f" (rate by {' and '.join(parts)})" if parts else ""


def duty_weights(profile: Any) -> list[float]:
    """On-duty staff-hours of one unit in each hour of the week (168 values, Monday 00:00 first)."""
    return [profile.on_duty_hours(float(i), float(i + 1)) for i in range(168)]


@dataclass(frozen=True)
class ArrivalPlan:
    """How one level's task stream is drawn: candidate arrivals at ``1 / mean_gap`` an hour
    (on on-duty time when ``skip_off``), each at a unit drawn uniformly, kept with probability
    (count on duty x factor) / (peak x top factor); ``factors`` None: a homogeneous stream."""

    mean_gap: float
    units: int
    profile: Any
    on_time: bool  # the whole staff is on or off duty (or always on): no thinning by head-count
    skip_off: bool  # candidates on on-duty time only (off-duty stretches skipped)
    peak: int
    factors: tuple[float, ...] | None = None  # relative rate per hour of the week, averaging 1 over on-duty staff-hours
    top: float = 1.0  # the largest factor in an on-duty hour

    def rate(self, t: float) -> float:
        """Expected tasks an hour at time ``t``, all units together."""
        cell = min(int(t - math.floor(t / 168.0) * 168.0), 167)
        f = 1.0 if self.factors is None else self.factors[cell]
        count = self.profile.count_at(t)
        if self.on_time:
            return f / (self.mean_gap * self.top) if count > 0 else 0.0
        return count * f / (self.mean_gap * self.top * self.peak)


def arrival_plan(duties: OtherDuties, profile: Any, staff: int, units: int) -> ArrivalPlan | None:
    """The stream of a level with ``units`` resources of ``staff`` members each following
    ``profile``: ``tasks_per_person_week`` for each member, spread over the on-duty hours in
    proportion to the on-duty head-count times the hour's factor. None without on-duty hours."""
    duty_week = profile.on_duty_hours(0.0, 168.0)  # on-duty staff-hours a week of one resource
    if duty_week <= 0 or staff <= 0:
        return None
    peak = max(profile.peak, 1)
    on_time = profile.constant or profile.on_off
    per_duty_hour = duties.tasks_per_person_week * staff / duty_week  # tasks an on-duty staff-hour
    table = duties.hourly_factors()
    if table is None:
        return ArrivalPlan(1.0 / (per_duty_hour * peak * units), units, profile, on_time,
                           on_time and not profile.constant, peak)
    weights = duty_weights(profile)
    mean = math.fsum(f * w for f, w in zip(table, weights)) / math.fsum(weights)  # over on-duty staff-hours
    if mean <= 0.0:
        return None
    factors = tuple(f / mean for f in table)
    top = max(f for f, w in zip(factors, weights) if w > 0)
    return ArrivalPlan(1.0 / (per_duty_hour * top * peak * units), units, profile, on_time,
                       on_time and not profile.constant, peak, factors, top)


def candidates(plan: ArrivalPlan, gaps: Any, unit: Any, accept: Any) -> Iterator[tuple[float, int, bool]]:
    """Candidate arrivals (time, unit index, kept) from the three uniform streams, in order.

    Each stream is read in the same order whatever is kept, so the disputes' and durations'
    draws never depend on the thinning (common random numbers)."""
    log, count_at, profile = math.log, plan.profile.count_at, plan.profile
    mean_gap, n, peak, on_time, skip_off = plan.mean_gap, plan.units, plan.peak, plan.on_time, plan.skip_off
    factors, top, floor = plan.factors, plan.top, math.floor
    t = 0.0
    while True:
        gap = -mean_gap * log(1.0 - gaps.next())
        t = _after_on_duty(profile, t, gap) if skip_off else t + gap
        i = min(int(unit.next() * n), n - 1)
        if factors is None:
            yield t, i, on_time or accept.next() * peak < count_at(t)
            continue
        f = factors[min(int(t - floor(t / 168.0) * 168.0), 167)]
        if on_time:
            yield t, i, accept.next() * top < f
        else:
            yield t, i, accept.next() * top * peak < f * count_at(t)


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
        self.duties = duties
        self.preempt = duties.rule != "disputes_wait"
        # by severity: a dispute's request (priority, pre-empt) per severity; listed ones first and
        # pre-empting, the others at the tasks' priority in arrival order (None: the default request)
        listed = set(duties.interrupt_severities or ())
        self.ranks = None if duties.rule != "by_severity" else tuple(
            (0, True) if s in listed else (1, False) for s in ctx.severities)
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
        env = self.ctx.env
        plan = arrival_plan(self.duties, profile, staff, len(resources))
        if plan is None:
            return
        stream = candidates(plan, self.gaps, self.unit, self.accept)
        every = plan.factors is None  # a homogeneous stream keeps an event for every candidate, as it always had
        durations = self.durations
        closed = not profile.constant
        count_at, next_change, next_on_duty = profile.count_at, profile.next_change, profile.next_on_duty
        busy = self.busy
        timeout = env.timeout
        preempt = self.preempt
        state: list[Any] = [0, False]  # the next candidate's unit and whether it is kept
        # Overtime (work in hand beyond the staff on duty) needs the tasks' hours only when the
        # head-count changes while a task runs on; under a roster whose whole staff is on or off
        # duty a task holds a handler only while everyone is on duty, so it adds nothing to it
        tracked = not plan.on_time

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
            i, kept = state
            if kept:
                res = resources[i]
                work = durations.next(0)
                if preempt:
                    _PreemptibleTask(env, res, profile, closed, busy, work).ask()
                else:
                    req = res.claim()  # a free handler nobody waits for is taken without an event
                    off = res.off_duty if tracked else None
                    if req.callbacks is None:  # granted
                        run(res, off, req, work)
                    else:
                        req.callbacks.append(lambda _e: run(res, off, req, work))
            schedule()

        def schedule() -> None:
            for t, i, kept in stream:
                if kept or every:
                    break
            state[0], state[1] = i, kept
            timeout(t - env.now).callbacks.append(arrive)

        schedule()


class _PreemptibleTask:
    """A task that a dispute may pre-empt (``disputes_interrupt``, ``by_severity``), as
    callbacks with the events of a SimPy process: the grant of its request, the wait for the
    next shift, each on-duty stretch, and an urgent event for each pre-emption (SimPy's
    ``Interruption``), after which it asks again with the work it has left. It stands for its
    process in its request (``proc``), which is what the resource pre-empts."""

    __slots__ = ("env", "res", "profile", "closed", "busy", "work", "req", "start", "chunk", "target", "wake",
                 "finished")

    def __init__(self, env: Any, res: Any, profile: Any, closed: bool, busy: Any, work: float):
        # pre-emption needs a roster whose whole staff is on or off duty: a task adds no overtime, so
        # it leaves the resource's overtime tracker alone
        self.env, self.res, self.profile, self.closed, self.busy = env, res, profile, closed, busy
        self.work = work
        self.start: float | None = None
        self.chunk = 0.0
        self.finished = False

    def _wait(self, event: Any, wake: Callable[[Any], None]) -> None:
        event.callbacks.append(wake)
        self.target, self.wake = event, wake

    def ask(self) -> None:
        """Queue for a handler (a task's request, below every dispute that pre-empts)."""
        self.req = req = self.res.claim_task(self)
        if req.callbacks is None:  # granted now, without an event
            self._granted(None)
        else:
            self._wait(req, self._granted)

    def _granted(self, _e: Any) -> None:
        env = self.env
        if self.closed and (opens := self.profile.next_on_duty(env.now)) > env.now:
            self._wait(env.timeout(opens - env.now), self._stretch)
            return
        self._stretch(None)

    def _stretch(self, _e: Any) -> None:
        env, work = self.env, self.work
        self.start = start = env.now
        self.chunk = min(work, self.profile.next_change(start) - start) if self.closed else work
        self.busy.start(start)
        self._wait(env.timeout(self.chunk), self._ended)

    def _ended(self, _e: Any) -> None:
        self.busy.end(self.env.now)
        self.start = None
        if self.chunk >= self.work:
            self.finished = True
            self.res.release(self.req)
            return
        self.work -= self.chunk
        self._granted(None)

    def interrupt(self, cause: Any = None) -> None:
        """Pre-empted: handled by an urgent event now, as SimPy's ``Interruption``."""
        import simpy

        event = simpy.Event(self.env)
        event._ok, event._value = True, None
        event.callbacks = [self._preempted]
        self.env.schedule(event, simpy.events.URGENT)

    def _preempted(self, _e: Any) -> None:
        if self.finished:
            return
        self.target.callbacks.remove(self.wake)
        if self.start is not None:  # in a stretch: keep the work left
            now = self.env.now
            self.work -= now - self.start
            self.busy.end(now)
            self.start = None
        self.ask()


def _after_on_duty(profile: Any, t: float, hours: float) -> float:
    """The time ``hours`` of on-duty time after ``t`` (off-duty stretches skipped)."""
    while True:
        if profile.count_at(t) == 0:
            t = profile.next_on_duty(t)
        end = profile.next_change(t)
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
