"""Every place the engine changes SimPy's behaviour, for speed only, in one module.

Written against SimPy 4.1.2, pinned in pyproject.toml: ``CaseProcess._resume`` copies
``simpy.Process._resume`` of that version, and the resources rely on its ``users``,
``put_queue``, ``_do_put`` and ``_trigger_put``. Upgrading SimPy means re-reading those.

What each patch changes (nothing else differs from stock SimPy):

* :class:`CaseProcess` - a ``simpy.Process`` that takes its first step at once, inside the
  step that creates it (stock: an ``Initialize`` event), and, when it ends with nobody
  waiting for it, is marked processed without being scheduled (stock: always an event).
  Cases arrive at continuous random times, so nothing else happens at the instant a case
  starts, and nothing waits for a case to end: the order of every other event is unchanged.
  It may yield a delay as a float: scheduled with the key ``env.timeout(delay)`` would get,
  through one reused wake-up object instead of a ``Timeout`` (the arrivals run as one too).
* :class:`LeanResource`, :class:`LeanPriorityResource`, :class:`LeanPreemptiveResource` (``_LeanRelease``):
  ``claim`` (what the case process asks with) grants a free place nobody waits for without
  a ``Request`` event: stock SimPy grants it at once too and schedules the event only to
  resume the process at the same instant, so the case goes on where it was. With every place
  taken, a FIFO resource queues a :class:`_Waiting` request without SimPy's futile grant
  attempt. ``release`` frees the place without a ``Release`` event and, if someone waits,
  hands it on at once (stock: the ``Release`` event does that when processed, at the same
  instant); the waiting request's own event still resumes its case. The release returns
  None: never yield it.
* :func:`wake_after` - a request with a deadline is waited for with an alarm beside it
  instead of ``req | env.timeout(...)``: no ``Condition``; the alarm takes the timeout's place
  in the heap and wakes the case where the condition's event would.
* :class:`AlarmLine` - a level's alarms wait in a line (a deadline is a fixed time after
  arrival, so they fall due in the order they are set) with only the first in the heap,
  under the key each would have there: the same order, a heap no larger than the cases in
  hand, and a disarmed alarm never goes off as an event.
* :class:`MemberResource` - a unit's k handlers as k named members sharing one queue (sittings
  held by the same person): a free member is named in ``_do_put``; a :class:`MemberRequest`
  waits for its own member. Made from a :class:`LeanResource` in place, see
  :mod:`sim.mechanisms.members`.
* :class:`LeanPreemptiveResource` - a dispute pre-empts only a :class:`TaskRequest` (a task
  of other duties; stock: any holder ranked below it), the latest-ranked one as in stock SimPy.
* :class:`RosteredResource` - staff whose head-count follows a weekly profile: a request is
  granted only while fewer cases are in hand than staff on duty, and waiting requests are
  woken at the next rise in head-count (stock equivalent: off-duty blocker requests at
  high priority, two events per unit and change of shift). Nobody is pre-empted.
* :class:`ShiftBell` - the units of a level share that wake-up: one event per rise for
  every unit with cases waiting, in the order their own wake-ups would have come, and the
  cases it grants resume at once instead of through one event each.
* :class:`OpeningBell` - the cases of a level waiting for its office to open (granted a
  handler while it was closed) share one wake-up per opening instead of a timeout each.

Skipping an event that would only have resumed a process at the same instant changes the
order only against another event at exactly that instant, scheduled in between; with
continuous random times that does not happen in any scenario of the project (the golden
results are unchanged), but two cases tied to the same instant by fixed times may be served
in another, still first-come-first-served, order.

``tests/test_benchmark_smoke.py`` runs scenarios with stock SimPy resources, blocker rosters
and processes in place of these and requires identical results with fewer events;
``tests/test_simpy_patches.py`` checks each patch on its own.
"""

from __future__ import annotations

from collections import deque
from functools import partial
from heapq import heapify, heappush
from typing import Any

import simpy
from simpy.events import NORMAL, Event, ProcessGenerator

from ..rosters import WeeklyProfile

SIMPY_VERSION = "4.1.2"


# --------------------------------------------------------------------------- processes
class _Start:
    """What ``_resume`` needs of an event to take a process's first step."""

    _ok = True
    _value = None


_START = _Start()


class _EventLike:
    """What ``Environment.step`` needs of an event (``callbacks``, ``_ok``, ``_value``), for
    wake-ups that never fail, without building an ``Event``. As it is, one that any number
    of processes may yield (each adds its resume to ``callbacks``): the bells' wake-ups."""

    __slots__ = ("callbacks",)
    _ok = True
    _value = None

    def __init__(self, callbacks: list[Any] | None):
        self.callbacks: list[Any] | None = callbacks


class _Wake(_EventLike):
    """A wake-up to resume a process after a delay it yielded as a number: one per process,
    reused for every delay (no ``Timeout`` object)."""

    __slots__ = ("resume",)

    def __init__(self, resume: list[Any]):
        self.callbacks = None
        self.resume = resume


class _Alarm(_EventLike):
    """A wake-up at a deadline (see :func:`wake_after`, :class:`AlarmLine`): when it goes off
    it schedules itself once more at the same instant, as a timeout's ``Condition`` would.
    ``callbacks == []`` marks it disarmed."""

    __slots__ = ("resume", "env")

    def __init__(self, env: simpy.Environment, resume: Any):
        self.callbacks = [self._go_off]
        self.resume = resume
        self.env = env

    def _go_off(self, _event: Any) -> None:
        env = self.env
        self.callbacks = [self.resume]
        heappush(env._queue, (env._now, NORMAL, next(env._eid), self))  # type: ignore[attr-defined]


def wake_after(env: simpy.Environment, delay: float) -> _Alarm:
    """Resume the active process after ``delay`` hours unless disarmed first.

    For a process that then waits for something else too (a request with a deadline):
    ``yield req`` after this resumes it at whichever comes first, without the ``Condition``
    of ``req | env.timeout(delay)``. The alarm goes off where that timeout would (same key)
    and resumes the process where the condition's event would (scheduled then, at the same
    instant); a granted request resumes it at once (stock: through the condition's event,
    at the same instant). Once resumed by the request, :func:`disarm` the alarm.
    """
    if delay < 0:
        raise ValueError(f"Negative delay {delay}")
    alarm = _Alarm(env, env._active_proc._resume)  # type: ignore[union-attr]
    heappush(env._queue, (env._now + delay, NORMAL, next(env._eid), alarm))  # type: ignore[attr-defined]
    return alarm


DEAD_ALARMS_KEPT = 256  # dead alarms in the heap before it is swept (and at most half of it)


def disarm(alarm: _Alarm) -> None:
    """The alarm will do nothing (stock: the timeout of a decided condition, which still
    goes off). Dead alarms are swept out of the heap once they are many and at least half
    of it: the others keep their keys, so they are processed in the same order."""
    if alarm.callbacks is None:  # it went off already (a tie at the alarm's instant)
        return
    alarm.callbacks = []
    alarm.resume = None  # a disarmed alarm keeps no finished case alive while it waits for its time
    if alarm.__class__ is _LineAlarm:  # its line drops it (or, gone off at this instant, it pops as a no-op)
        return
    env = alarm.env
    dead = getattr(env, "_dead_alarms", 0) + 1  # not env.__dict__: reading it makes every later env attribute a dict lookup
    queue = env._queue  # type: ignore[attr-defined]
    if dead > DEAD_ALARMS_KEPT and 2 * dead > len(queue):
        queue[:] = [e for e in queue if not (e[3].__class__ is _Alarm and e[3].callbacks == [])]
        heapify(queue)
        dead = 0
    env._dead_alarms = dead  # type: ignore[attr-defined]


class _LineAlarm(_Alarm):
    """An alarm waiting in an :class:`AlarmLine`, with the key it would have in the heap."""

    __slots__ = ("due", "eid")


class AlarmLine:
    """The deadline alarms of one level, in a line with only its first one in the heap.

    A level's deadline is a fixed time after a case arrives there, so its alarms fall due in
    the order they are set. :meth:`wake_after` is :func:`wake_after` for that level: the alarm
    gets the key in the heap's order it would have there (the same ``eid``), but waits in the
    line; one entry in the heap stands for the line's first alarm. When that entry comes up,
    a live alarm goes off exactly as it would have, and the next live one takes its place in
    the heap with its own key, so every alarm goes off in the same order as before. Disarmed
    alarms leave the line without ever entering the heap: the heap stays as small as the
    cases in hand, not the cases waiting (a large area has hundreds of those). An alarm due
    before the last one in the line (set late, after a hand-over wait) goes into the heap
    on its own, as :func:`wake_after` puts it.
    """

    __slots__ = ("env", "line", "first")

    def __init__(self, env: simpy.Environment):
        self.env = env
        self.line: deque[_LineAlarm] = deque()
        self.first = _EventLike(None)  # the line's entry in the heap

    def wake_after(self, delay: float) -> _Alarm:
        """Resume the active process after ``delay`` hours unless disarmed first (see :func:`wake_after`)."""
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        env = self.env
        line = self.line
        due = env._now + delay
        if line and due < line[-1].due:
            return wake_after(env, delay)
        alarm = _LineAlarm(env, env._active_proc._resume)  # type: ignore[union-attr]
        alarm.due = due
        alarm.eid = next(env._eid)  # type: ignore[attr-defined]
        line.append(alarm)
        if len(line) == 1:
            self._enter(alarm)
        return alarm

    def _enter(self, alarm: _LineAlarm) -> None:
        """The line's entry goes into the heap under the key of its first alarm."""
        first = self.first
        first.callbacks = [self._call]
        heappush(self.env._queue, (alarm.due, NORMAL, alarm.eid, first))  # type: ignore[attr-defined]

    def _call(self, _event: Any) -> None:
        """The first alarm's time has come: it goes off if still armed; the next armed one
        (disarmed ones dropped) enters the heap under its own key."""
        line = self.line
        alarm = line.popleft()
        if alarm.callbacks:
            alarm._go_off(None)
        while line and not line[0].callbacks:
            line.popleft()
        if line:
            self._enter(line[0])


class OpeningBell:
    """A wake-up at an office's next opening shared by every case of a level waiting for it
    (granted a handler while the office was closed): one event instead of one per case.

    :meth:`at` gives the event to yield for a wait of ``delay`` hours: the pending one when
    it is due at the very instant ``now + delay`` (what ``env.timeout(delay)`` would be
    scheduled at), else a new one. The cases sharing it resume in the order they asked,
    as their own timeouts would; only events at that instant from elsewhere, scheduled in
    between, are processed in another order.
    """

    __slots__ = ("env", "due", "event")

    def __init__(self, env: simpy.Environment):
        self.env = env
        self.due = -float("inf")
        self.event: _EventLike | None = None

    def at(self, delay: float) -> _EventLike:
        env = self.env
        due = env._now + delay
        event = self.event
        if event is not None and due == self.due and event.callbacks is not None:
            return event
        self.due = due
        self.event = event = _EventLike([])
        heappush(env._queue, (due, NORMAL, next(env._eid), event))  # type: ignore[attr-defined]
        return event


class CaseProcess(simpy.Process):
    """A process started at once, whose end is an event only if someone waits for it, and
    which may yield a delay in hours as a float instead of ``env.timeout(delay)``."""

    def __init__(self, env: simpy.Environment, generator: ProcessGenerator):  # noqa: D107 - see class
        if not hasattr(generator, "throw"):
            raise ValueError(f"{generator} is not a generator.")
        self.env = env
        self.callbacks: list[Any] = []
        self._generator = generator
        self._wake = _Wake([self._resume])
        active = env._active_proc  # the arrivals process, active while it starts the case
        self._resume(_START)  # type: ignore[arg-type]
        env._active_proc = active

    def _resume(self, event: Event) -> None:
        env = self.env
        env._active_proc = self
        while True:
            try:
                if event._ok:
                    event = self._generator.send(event._value)
                else:
                    event._defused = True
                    exc = type(event._value)(*event._value.args)
                    exc.__cause__ = event._value
                    event = self._generator.throw(exc)
            except StopIteration as e:
                event = None  # type: ignore[assignment]
                self._wake = None  # its callback refers back to this process: no cycle left for the collector
                self._ok = True
                self._value = e.args[0] if len(e.args) else None
                if self.callbacks:
                    env.schedule(self)
                else:  # nobody waits: processed without an event (a later waiter resumes at once)
                    self.callbacks = None  # type: ignore[assignment]
                break
            except BaseException as e:
                event = None  # type: ignore[assignment]
                self._wake = None
                self._ok = False
                e.__traceback__ = e.__traceback__.tb_next  # type: ignore[union-attr]
                self._value = e
                env.schedule(self)  # a failure is always an event: env.run raises it
                break
            if isinstance(event, float):  # a delay: scheduled as env.timeout(delay) would be, same key
                wake = self._wake
                wake.callbacks = wake.resume
                heappush(env._queue, (env._now + event, NORMAL, next(env._eid), wake))
                event = wake  # type: ignore[assignment]
                break
            try:
                if event.callbacks is not None:
                    event.callbacks.append(self._resume)
                    break
            except AttributeError:
                if hasattr(event, "callbacks"):
                    raise
                raise RuntimeError(f'Invalid yield value "{event}"') from None
        self._target = event
        env._active_proc = None


# --------------------------------------------------------------------------- resources
class _Granted(simpy.resources.resource.Request):
    """A request granted when made, without an event: already processed, so a process that
    yields it goes on at once. It is released like any request (``release``, ``cancel``)."""

    callbacks = None  # type: ignore[assignment] # processed
    _ok = True
    _value = None

    def __init__(self, resource: simpy.Resource):  # noqa: D107 - see class; no Put.__init__: no event
        self.env = env = resource._env
        self.resource = resource
        self.proc = env._active_proc
        self.usage_since = env._now
        resource.users.append(self)


class _Waiting(simpy.resources.resource.Request):
    """A request queued at a FIFO resource with no free place: what ``request()`` makes,
    without its attempt to grant (no place could be free) and without the callback that
    would look for ``Release`` events (lean resources make none)."""

    def __init__(self, resource: simpy.Resource):  # noqa: D107 - see class
        self.env = env = resource._env
        self.callbacks = []
        self.resource = resource
        self.proc = env._active_proc
        resource.put_queue.append(self)


class _GrantedPriority(_Granted, simpy.resources.resource.PriorityRequest):
    """A granted request at priority 0 that may pre-empt (what ``request()`` of a priority
    resource makes), with the key a pre-empting request compares against."""

    priority = 0
    preempt = True

    def __init__(self, resource: simpy.Resource):  # noqa: D107 - see class
        self.time = now = resource._env._now
        self.key = (0, now, False)
        _Granted.__init__(self, resource)


class _WaitingPriority(_Waiting, simpy.resources.resource.PriorityRequest):
    """A priority-0 request queued with no place on duty (:meth:`RosteredResource.claim`):
    what ``request()`` makes, without its futile grant attempt and ``Release`` lookup."""

    priority = 0
    preempt = True

    def __init__(self, resource: simpy.Resource):  # noqa: D107 - see class
        self.time = now = resource._env._now
        self.key = (0, now, False)  # before it joins the queue, a SortedQueue sorted by key
        _Waiting.__init__(self, resource)


class _LeanRelease:
    """Release without SimPy's ``Release`` event: one event less per case and level, and one
    more when the place goes to a waiting case; grant a free place without a ``Request``
    event (``claim``)."""

    _granted = _Granted

    def claim(self):  # type: ignore[no-untyped-def]
        """``request()``, but granted without an event when a place is free and nobody waits.

        Stock SimPy grants such a request at once too, and schedules it only to resume the
        requesting process at the same instant; the caller goes on without yielding instead
        (it may still yield the request: it is processed, so that costs no event either).
        With a queue, or no free place, this is an ordinary request.
        """
        if self.put_queue or len(self.users) >= self._capacity:  # type: ignore[attr-defined]
            return self.request()  # type: ignore[attr-defined]
        return self._granted(self)

    def release(self, request: simpy.resources.resource.Request):  # type: ignore[no-untyped-def]
        """Free the place; if someone waits, hand it on at once (stock SimPy schedules a
        ``Release`` event that does the same when it is processed, at the same instant)."""
        try:
            self.users.remove(request)  # type: ignore[attr-defined]
        except ValueError:
            pass
        if self.put_queue:  # type: ignore[attr-defined]
            self._trigger_put(None)  # type: ignore[attr-defined]
        return None


class LeanResource(_LeanRelease, simpy.Resource):
    """A FIFO ``simpy.Resource`` whose release costs no event when nobody waits."""

    def claim(self):  # type: ignore[no-untyped-def]
        """:meth:`_LeanRelease.claim`; with every place taken, a :class:`_Waiting` request."""
        if len(self.users) < self._capacity:
            return self.request() if self.put_queue else _Granted(self)
        return _Waiting(self)


class LeanPriorityResource(_LeanRelease, simpy.PriorityResource):
    """A ``simpy.PriorityResource`` whose release costs no event when nobody waits."""

    _granted = _GrantedPriority


class TaskRequest(simpy.resources.resource.PriorityRequest):
    """A task's request (other duties): priority 1, never pre-empting; the only holder a
    dispute pre-empts."""

    def __init__(self, resource: simpy.Resource):
        super().__init__(resource, 1, False)


class _GrantedTask(_Granted, TaskRequest):
    """A task's request granted when made, without an event; ``proc`` is what stands for the
    task's process (what a pre-empting dispute interrupts)."""

    priority = 1
    preempt = False

    def __init__(self, resource: simpy.Resource, proc: Any):  # noqa: D107 - see class
        self.time = now = resource._env._now
        self.key = (1, now, True)
        _Granted.__init__(self, resource)
        self.proc = proc


class LeanPreemptiveResource(_LeanRelease, simpy.PreemptiveResource):
    """A ``simpy.PreemptiveResource`` whose release costs no event when nobody waits (other
    duties that a dispute pre-empts: disputes request at priority 0, or by severity 0 or 1
    without pre-empting; tasks with a :class:`TaskRequest`). Only a task is pre-empted (stock:
    any holder ranked below), the latest-ranked one as in stock SimPy."""

    def _do_put(self, event: simpy.resources.resource.PriorityRequest) -> None:  # type: ignore[override]
        if len(self.users) >= self._capacity and event.preempt:
            tasks = [u for u in self.users if isinstance(u, TaskRequest)]
            if tasks:
                preempt = max(tasks, key=lambda e: e.key)
                if preempt.key > event.key:
                    self.users.remove(preempt)
                    preempt.proc.interrupt(simpy.resources.resource.Preempted(  # type: ignore[union-attr]
                        by=event.proc, usage_since=preempt.usage_since, resource=self))
        return simpy.Resource._do_put(self, event)

    _granted = _GrantedPriority

    def claim_task(self, proc: Any) -> TaskRequest:
        """A task's request for ``proc``: granted without an event when a place is free and
        nobody waits (as :meth:`_LeanRelease.claim`), else queued below every dispute."""
        if not self.put_queue and len(self.users) < self._capacity:
            return _GrantedTask(self, proc)
        req = TaskRequest(self)
        req.proc = proc
        return req


class _WatchedQueue(simpy.resources.resource.SortedQueue):
    """A rostered unit's queue, which notes when a removal last left it empty."""

    emptied: float | None = None
    env: simpy.Environment

    def pop(self, index: Any = -1) -> Any:  # type: ignore[override]
        item = super().pop(index)
        if not self:
            self.emptied = self.env._now
        return item

    def remove(self, item: Any) -> None:
        super().remove(item)
        if not self:
            self.emptied = self.env._now


class ShiftBell:
    """One wake-up at the next rise in head-count, shared by every resource of a level (all
    on the same profile) that has cases waiting for staff to come on duty.

    Stock SimPy's equivalent is one wake-up per unit at its next change of shift, scheduled
    when its first case queued, and scheduled again at each change that brings nobody new on
    duty (it can serve nobody: while cases wait, every place on duty is taken); a unit left
    without waiting cases at such a change drops out and calls again when a case next queues.
    The bell rings only at rises, and keeps the units in the order those wake-ups would
    have come in: a unit whose queue was empty at a change of shift since it called goes to
    the back when a case queues there again (:meth:`RosteredResource._queued`). At the rise
    it rings them in that order, each handing its new places on in order (and calling again
    if none came free), then resumes the granted cases in that order without an event each,
    where stock SimPy's grants are events at the same instant: only events at that instant
    from elsewhere, which touch none of these resources, are processed in another order.
    """

    __slots__ = ("env", "profile", "at", "waiting")

    def __init__(self, env: simpy.Environment, profile: WeeklyProfile):
        self.env = env
        self.profile = profile
        self.at = -float("inf")  # when the pending ring is due
        self.waiting: list[RosteredResource] | None = None  # who it will wake, in order

    def call(self, resource: "RosteredResource") -> None:
        """Wake ``resource`` at the next rise in head-count after now."""
        env = self.env
        now = env._now
        if self.waiting is not None and now < self.at:  # no rise before the pending ring
            self.waiting.append(resource)
            return
        self.at = at = self.profile.next_rise(now)
        self.waiting = waiting = [resource]
        ring = _EventLike([partial(self._ring, waiting)])
        heappush(env._queue, (at, NORMAL, next(env._eid), ring))  # type: ignore[attr-defined]

    def to_back(self, resource: "RosteredResource") -> None:
        """``resource`` is called again as if for the first time (it dropped out meanwhile)."""
        waiting = self.waiting
        if waiting is not None and resource in waiting:
            waiting.remove(resource)
            waiting.append(resource)

    def _ring(self, waiting: list["RosteredResource"], _event: _EventLike) -> None:
        if self.waiting is waiting:  # else a later ring is pending already (called at this instant)
            self.waiting = None
        granted: list[Event] = []
        for resource in waiting:
            resource._wake(granted)
        for request in granted:  # each case resumes now, in the order granted, without an event
            callbacks, request.callbacks = request.callbacks, None
            for callback in callbacks:
                callback(request)


class RosteredResource(LeanPriorityResource):
    """Staff whose on-duty head-count follows a weekly profile, without off-duty requests.

    A waiting case gets a handler only while fewer cases are in hand than staff are on duty
    now, so a handler whose shift ends finishes the case in hand and then stays free, as
    with off-duty requests that take places first; a case that must wait off-peak calls
    the level's :class:`ShiftBell`, which wakes the unit once at the next rise in head-count.
    """

    PutQueue = _WatchedQueue

    def __init__(self, env: simpy.Environment, profile: WeeklyProfile, bell: "ShiftBell | None" = None):
        """``bell``: the :class:`ShiftBell` shared by the resources of one level (its own if None)."""
        super().__init__(env, capacity=max(profile.peak, 1))
        self.put_queue.env = env  # type: ignore[attr-defined]
        self.profile = profile
        self.bell = bell if bell is not None else ShiftBell(env, profile)
        self._wake_pending = False
        self._granting: list[Event] | None = None  # while the bell rings: requests granted, not yet resumed

    def claim(self):  # type: ignore[no-untyped-def]
        """As :meth:`_LeanRelease.claim`, with the places on duty now in place of the capacity;
        with none free, the request queues as ``request()`` would leave it (and calls the
        level's bell as :meth:`_do_put` does), without its grant attempt."""
        now = self._env._now
        on_duty = self.profile.count_at(now)
        if len(self.users) < on_duty:
            return self.request() if self.put_queue else _GrantedPriority(self)
        req = _WaitingPriority(self)
        if on_duty < self._capacity:
            self._queued(now)
        return req

    def _do_put(self, event: simpy.resources.resource.Request) -> None:  # type: ignore[override]
        now = self._env.now
        on_duty = self.profile.count_at(now)
        if len(self.users) < on_duty:
            self.users.append(event)
            event.usage_since = now
            if self._granting is None:
                event.succeed()
            else:  # at a change of shift: the bell resumes the case at once
                event._ok, event._value = True, None
                self._granting.append(event)
        elif on_duty < self._capacity:
            self._queued(now)
        return None

    def _queued(self, now: float) -> None:
        """Someone waits for more staff on duty: call the bell, unless called already and
        not dropped out since (the queue empty at a change of shift: see :class:`ShiftBell`)."""
        queue = self.put_queue
        if not self._wake_pending:
            self._wake_pending = True
            self.bell.call(self)
        elif queue.emptied is not None and len(queue) == 1 and self.profile.next_change(queue.emptied) <= now:
            self.bell.to_back(self)
        queue.emptied = None

    def _wake(self, granted: list[Event]) -> None:
        """A change of shift: hand every newly free place to the waiting cases, in order,
        adding their requests to ``granted`` (the bell resumes them) instead of scheduling them."""
        self._wake_pending = False
        self._granting = granted
        try:
            while self.put_queue:  # each _trigger_put grants at most one request
                n = len(self.users)
                self._trigger_put(None)
                if len(self.users) == n:
                    break
        finally:
            self._granting = None


class MemberRequest(simpy.resources.resource.Request):
    """A request for one member of a unit (``wish``), granted only when that member is free."""

    def __init__(self, resource: simpy.Resource, wish: int):
        self.wish = wish  # set before Request.__init__, which may grant at once
        super().__init__(resource)


class MemberResource(LeanResource):
    """A :class:`LeanResource` whose capacity is k named members, for sittings held by the same
    person (:mod:`sim.mechanisms.members` names them and describes the rule).

    Only made by :func:`sim.mechanisms.members.name_members` from a LeanResource (constant or
    on/off roster, no pre-emption).
    """

    idle: list[int]  # the free members, free longest first
    last_released: int  # the member freed by the latest release

    def _do_put(self, event: simpy.resources.resource.Request) -> bool:  # type: ignore[override]
        idle = self.idle
        if not idle:
            return False  # nobody free: no later request can be served either
        wish = getattr(event, "wish", None)
        if wish is None:
            j = idle.pop(0)
        elif wish in idle:
            idle.remove(wish)
            j = wish
        else:
            return True  # this member is busy; a later request may want a free one
        event.member = j  # type: ignore[attr-defined]
        self.users.append(event)
        event.usage_since = self._env.now
        event.succeed()
        return True

    def claim(self) -> simpy.resources.resource.Request:
        """A plain request: a free member is named in :meth:`_do_put`, never taken without it."""
        return self.request()

    def release(self, request: simpy.resources.resource.Request):  # type: ignore[no-untyped-def,override]
        j = getattr(request, "member", None)
        if j is not None and request in self.users:
            self.idle.append(j)
            self.last_released = j
        return super().release(request)
