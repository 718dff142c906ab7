"""Each SimPy patch of ``sim.engine.simpy_patches`` on its own: what it saves, and that it is
otherwise stock SimPy behaviour (whole-model equivalence: tests/test_benchmark_smoke.py)."""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest
import simpy

from sim.engine.simpy_patches import (SIMPY_VERSION, AlarmLine, CaseProcess, LeanPreemptiveResource, LeanPriorityResource, LeanResource,
                                      OpeningBell, RosteredResource, ShiftBell, disarm, wake_after)
from sim.rosters import HOURS_PER_WEEK, WeeklyProfile


def test_the_patches_are_written_for_the_installed_simpy():
    assert simpy.__version__ == SIMPY_VERSION


def test_a_case_process_takes_its_first_step_at_once_and_ends_without_an_event():
    env = simpy.Environment()
    steps: list[float] = []

    def case():
        steps.append(env.now)
        yield env.timeout(2.0)
        steps.append(env.now)

    p = CaseProcess(env, case())
    assert steps == [0.0] and len(env._queue) == 1  # only its timeout: no Initialize event
    env.run()
    assert steps == [0.0, 2.0] and p.processed and p.ok and not env._queue


def test_a_case_process_with_a_waiter_ends_as_an_event_with_its_value():
    env = simpy.Environment()
    got: list[object] = []

    def case():
        yield env.timeout(1.0)
        return "settled"

    def waiter(proc):
        got.append((yield proc))

    p = CaseProcess(env, case())
    env.process(waiter(p))
    env.run()
    assert got == ["settled"]


def test_a_failing_case_process_still_raises_from_run():
    env = simpy.Environment()

    def case():
        yield env.timeout(1.0)
        raise ValueError("boom")

    CaseProcess(env, case())
    with pytest.raises(ValueError, match="boom"):
        env.run()


def test_lean_release_schedules_nothing_when_nobody_waits():
    env = simpy.Environment()
    res = LeanResource(env, capacity=1)
    req = res.request()
    env.run()
    assert res.users == [req]
    assert res.release(req) is None and res.users == [] and not env._queue


def test_lean_release_with_a_queue_hands_over_like_stock_simpy():
    def trace(resource_class):
        env = simpy.Environment()
        res = resource_class(env, capacity=1)
        log: list[tuple[str, float]] = []

        def user(name, hold):
            with res.request() as req:
                yield req
                log.append((name, env.now))
                yield env.timeout(hold)

        for name, hold in (("a", 1.0), ("b", 2.0), ("c", 0.5)):
            env.process(user(name, hold))
        env.run()
        return log

    assert trace(LeanResource) == trace(simpy.Resource) == [("a", 0.0), ("b", 1.0), ("c", 3.0)]


def test_a_rostered_resource_grants_only_staff_on_duty_and_pre_empts_nobody():
    env = simpy.Environment()
    # one handler from Monday 00:00, two from 10:00, none from 20:00, one again from Tuesday 00:00
    res = RosteredResource(env, WeeklyProfile(((0.0, 1), (10.0, 2), (20.0, 0), (24.0, 1))))
    assert res.capacity == 2
    log: list[tuple[str, float, float]] = []

    def case(name, arrive, hold):
        yield env.timeout(arrive)
        req = res.request()
        yield req
        start = env.now
        yield env.timeout(hold)
        res.release(req)
        log.append((name, start, env.now))

    env.process(case("a", 0.0, 15.0))  # still in hand when the 20:00 shift change comes
    env.process(case("b", 1.0, 1.0))  # waits for the second handler at 10:00
    env.process(case("c", 21.0, 1.0))  # nobody on duty until Tuesday 00:00
    env.run(until=30.0)
    assert sorted(log) == [("a", 0.0, 15.0), ("b", 10.0, 11.0), ("c", 24.0, 25.0)]


@pytest.mark.parametrize("resource_class", [LeanResource, LeanPriorityResource, LeanPreemptiveResource])
def test_claim_grants_a_free_place_without_an_event_and_queues_like_request(resource_class):
    env = simpy.Environment()
    res = resource_class(env, capacity=1)
    env.run(until=2.0)
    scheduled = len(env._queue)
    first = res.claim()
    assert first.triggered and first.processed and first.ok and len(env._queue) == scheduled  # granted, no event
    assert res.users == [first] and first.usage_since == 2.0 and first.resource is res
    if resource_class is not LeanResource:
        assert first.key == (0, 2.0, False)  # what request() of a priority resource would carry
    second = res.claim()  # the place is taken: an ordinary request that waits
    assert not second.triggered and list(res.queue) == [second]
    res.release(first)
    env.run()
    assert res.users == [second] and second.processed
    third = res.claim()  # no place: queues behind
    second.cancel()  # granted: cancelling does nothing
    third.cancel()  # waiting: leaves the queue
    assert not res.queue and res.users == [second]


def test_a_claim_yielded_by_a_process_costs_no_event_and_a_stock_run_is_the_same():
    def trace(use_claim):
        env = simpy.Environment()
        res = LeanResource(env, capacity=1)
        log: list[tuple[str, float]] = []
        steps = [0]

        def user(name, arrive, hold):
            yield env.timeout(arrive)
            req = res.claim() if use_claim else res.request()
            yield req
            log.append((name, env.now))
            yield env.timeout(hold)
            res.release(req)

        for name, arrive, hold in (("a", 0.5, 1.0), ("b", 1.0, 2.0), ("c", 4.0, 0.5)):
            env.process(user(name, arrive, hold))
        while env.peek() < float("inf"):
            env.step()
            steps[0] += 1
        return log, steps[0]

    (claimed, n_claim), (stock, n_stock) = trace(True), trace(False)
    assert claimed == stock == [("a", 0.5), ("b", 1.5), ("c", 4.0)]
    assert n_claim == n_stock - 2  # a's and c's grants (b waits: its grant is an event either way)


def test_a_rostered_claim_takes_only_a_place_on_duty():
    env = simpy.Environment()
    res = RosteredResource(env, WeeklyProfile(((0.0, 1), (10.0, 2), (20.0, 0))))
    first = res.claim()
    assert first.processed and res.users == [first]
    second = res.claim()  # the one handler on duty is busy (the second comes at 10:00)
    assert not second.triggered
    env.run(until=10.5)
    assert second.processed and res.users == [first, second]
    res.release(first)
    res.release(second)
    env.run(until=21.0)
    third = res.claim()  # nobody on duty after 20:00
    assert not third.triggered


class _OwnWakeUps(RosteredResource):
    """The rostered unit as it was before the shift bell (stock SimPy's order of events): its
    own wake-up at every change of shift while cases wait, and each grant an event."""

    def _queued(self, now: float) -> None:
        if not self._wake_pending:
            self._wake_pending = True
            self._env.timeout(self.profile.next_change(now) - now).callbacks.append(self._own_wake)

    def _own_wake(self, _event: simpy.Event) -> None:
        self._wake_pending = False
        while self.put_queue:
            n = len(self.users)
            self._trigger_put(None)
            if len(self.users) == n:
                break


# two rises a day (6:00 and 14:00) and two falls (10:00, 20:00): the falls wake nobody
_BUSY_DAYS = WeeklyProfile(tuple((d * 24.0 + h, c) for d in range(7) for h, c in ((0.0, 0), (6.0, 2), (10.0, 1), (14.0, 3), (20.0, 0))))


def _units_sharing_a_profile(resource_class, seed: int) -> tuple[list[tuple[int, int, str, float]], int]:
    """Cases at 4 units on one roster: some give up after a while (their queue may empty between
    changes of shift and fill again); each grant or give-up in the order the cases saw it, and
    the events processed."""
    import random

    env = simpy.Environment()
    bell = ShiftBell(env, _BUSY_DAYS)
    units = [resource_class(env, _BUSY_DAYS, bell) for _ in range(4)]
    log: list[tuple[int, int, str, float]] = []
    rng = random.Random(seed)

    def case(cid, unit, arrive, hold, patience):
        yield env.timeout(arrive)
        res = units[unit]
        req = res.claim()
        if not req.triggered:
            got = yield req | env.timeout(patience)
            if req not in got:
                req.cancel()
                log.append((cid, unit, "gave up", env.now))
                return
        log.append((cid, unit, "granted", env.now))
        yield env.timeout(hold)
        res.release(req)

    for cid in range(120):
        env.process(case(cid, rng.randrange(4), rng.uniform(0, 24 * 14), rng.expovariate(1 / 3.0), rng.expovariate(1 / 8.0)))
    steps = 0
    while env.peek() < float("inf"):
        env.step()
        steps += 1
    return log, steps


@pytest.mark.parametrize("seed", range(12))
def test_a_shift_bell_wakes_units_as_their_own_wake_ups_would_with_fewer_events(seed):
    bell, events_bell = _units_sharing_a_profile(RosteredResource, seed)
    own, events_own = _units_sharing_a_profile(_OwnWakeUps, seed)
    assert bell == own  # the same grants and give-ups, at the same times, in the same order
    assert sum(1 for _, _, what, _ in own if what == "gave up") > 0 and len(own) == 120
    assert events_bell < events_own


def test_a_shift_bell_rings_once_for_every_unit_waiting_at_the_next_rise():
    env = simpy.Environment()
    bell = ShiftBell(env, _BUSY_DAYS)
    units = [RosteredResource(env, _BUSY_DAYS, bell) for _ in range(5)]
    env.run(until=21.0)  # nobody on duty until 6:00 tomorrow
    assert _BUSY_DAYS.next_rise(21.0) == 30.0 and _BUSY_DAYS.next_rise(7.0) == 14.0
    before = len(env._queue)
    waiting = [u.claim() for u in units] + [units[0].claim()]
    assert len(env._queue) == before + 1  # one wake-up for all five units
    env.run(until=30.0 + 1e-9)
    assert all(r.processed for r in waiting)  # 2 on duty at unit 0: both its cases
    assert [len(u.users) for u in units] == [2, 1, 1, 1, 1]


def test_the_next_rise_is_the_first_change_of_shift_that_brings_more_staff_on_duty():
    def scan(profile, t):  # the definition: walk the changes of shift
        before, at = profile.count_at(t), profile.next_change(t)
        while profile.count_at(at) <= before:
            before, at = profile.count_at(at), profile.next_change(at)
        return at

    rng = random.Random(7)
    for _ in range(200):
        cuts = sorted(rng.sample(range(1, 4 * 168), rng.randint(1, 9)))
        # step starts as rosters make them: dyadic (see sim.rosters._dyadic), so the clock reads them back
        profile = WeeklyProfile(((0.0, rng.randint(0, 3)),) + tuple((c / 4 + rng.choice([0.0, 2.0**-30, 0.1875]), rng.randint(0, 3))
                                                                    for c in cuts))
        if profile.constant:
            continue
        for t in [rng.uniform(0, 5000) for _ in range(10)] + [c / 4 + 168.0 * rng.randint(0, 9) for c in cuts]:
            assert profile.next_rise(t) == scan(profile, t)


def test_a_case_waiting_for_a_shift_starting_at_an_odd_hour_gets_it_and_the_run_goes_on():
    """A shift from 9.3 h: week * 168 + 9.3 reads as a hair before 9.3 in most weeks, so a
    wake-up there saw the old head-count and woke again at the same instant, for ever."""
    from sim.rosters import weekly_profile
    from sim.scenario.schema import Role

    role = Role(staff_per_unit=2, roster={"shifts": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": 7, "end": 17, "staff": 1},
                                                     {"days": ["mon", "tue", "wed", "thu", "fri"], "start": 9.3, "end": 12}]})
    profile = weekly_profile(role)
    assert not profile.on_off and profile.peak == 3
    env = simpy.Environment()
    res = RosteredResource(env, profile)
    env.run(until=3 * HOURS_PER_WEEK + 8.0)  # Monday of week 3, 8:00: one on duty
    first, second = res.claim(), res.claim()
    assert first.processed and not second.triggered
    steps = 0
    while not second.triggered and steps < 1000:
        env.step()
        steps += 1
    assert second.triggered and abs(env.now - (3 * HOURS_PER_WEEK + 9.3)) < 1e-6


def test_an_opening_bell_is_one_event_for_every_case_waiting_for_the_same_opening():
    env = simpy.Environment()
    bell = OpeningBell(env)
    woke: list[tuple[str, float]] = []

    def case(name, arrive, opens):
        yield env.timeout(arrive)
        yield bell.at(opens - env.now)
        woke.append((name, env.now))

    for name, arrive, opens in (("a", 1.0, 8.0), ("b", 2.5, 8.0), ("c", 3.0, 8.0), ("d", 9.0, 32.0)):
        env.process(case(name, arrive, opens))
    env.run(until=5.0)
    assert sorted(t for t, *_ in env._queue if t > 5.0) == [8.0, 9.0]  # one wake-up for a, b and c; d's arrival
    env.run()
    assert woke == [("a", 8.0), ("b", 8.0), ("c", 8.0), ("d", 32.0)]


def _deadline_wait(grant_at: float, deadline: float, lean: bool) -> tuple[list[tuple[str, float]], int]:
    """A case waits for a busy handler (freed at ``grant_at``) until ``deadline``: with
    ``wake_after`` (lean) or SimPy's ``req | timeout``; what it saw, and the events processed."""
    env = simpy.Environment()
    res = LeanResource(env, capacity=1)
    log: list[tuple[str, float]] = []
    holder = res.claim()

    def freer():
        yield env.timeout(grant_at)
        res.release(holder)

    def case():
        req = res.claim()
        if lean:
            alarm = wake_after(env, deadline)
            yield req
            if req.triggered:
                disarm(alarm)
                if req.callbacks is not None:
                    req.callbacks.remove(env._active_proc._resume)
        else:
            yield req | env.timeout(deadline)
        if req.triggered:
            log.append(("granted", env.now))
            yield env.timeout(1.0)
            res.release(req)
        else:
            req.cancel()
            log.append(("deadline", env.now))
        log.append(("done", env.now))

    CaseProcess(env, case()) if lean else env.process(case())
    env.process(freer())
    n = 0
    while env.peek() < float("inf"):
        env.step()
        n += 1
    return log, n


@pytest.mark.parametrize("grant_at, deadline", [(2.0, 5.0), (5.0, 2.0), (3.0, 3.0)])
def test_wake_after_waits_for_whichever_comes_first_like_a_condition(grant_at, deadline):
    lean, n_lean = _deadline_wait(grant_at, deadline, True)
    stock, n_stock = _deadline_wait(grant_at, deadline, False)
    assert lean == stock
    assert lean[0][0] == ("granted" if grant_at <= deadline else "deadline")
    assert n_lean < n_stock  # no Condition event (nor the case's start and end events)


def _alarms_going_off(seed: int, in_line: bool) -> tuple[list[tuple[float, str, int]], int, int]:
    """Alarms set over time with one level's deadline (10 h; some shorter, as when a case sets
    its alarm late, after a hand-over wait), many disarmed before they are due, beside other
    events at the same instants: what went off (and the other events), in order; the
    largest heap; the events processed. With an :class:`AlarmLine` (``in_line``) or each
    alarm in the heap on its own (:func:`wake_after`)."""
    rng = random.Random(seed)
    env = simpy.Environment()
    line = AlarmLine(env)
    log: list[tuple[float, str, int]] = []
    armed: list = []

    def setter():
        for i in range(400):
            yield env.timeout(rng.choice([0.0, 0.0, 0.5, 1.0, 2.5]))
            delay = 10.0 if rng.random() < 0.85 else rng.choice([2.0, 7.5, 10.0])
            me = env._active_proc
            env._active_proc = SimpleNamespace(_resume=lambda _ev, i=i: log.append((env.now, "alarm", i)))
            armed.append(line.wake_after(delay) if in_line else wake_after(env, delay))
            env._active_proc = me
            if armed and rng.random() < 0.6:
                disarm(armed.pop(rng.randrange(len(armed))))

    def ticker():  # other events at the alarms' instants, scheduled in between
        for k in range(2000):
            yield env.timeout(0.5)
            log.append((env.now, "tick", k))

    env.process(setter())
    env.process(ticker())
    peak = n = 0
    while env.peek() < float("inf"):
        peak = max(peak, len(env._queue))
        env.step()
        n += 1
    return log, peak, n


@pytest.mark.parametrize("seed", range(8))
def test_an_alarm_line_sets_off_the_same_alarms_in_the_same_order_with_a_small_heap(seed):
    lined, lined_peak, lined_events = _alarms_going_off(seed, True)
    alone, alone_peak, alone_events = _alarms_going_off(seed, False)
    assert lined == alone
    assert sum(1 for _, what, _ in lined if what == "alarm") > 50  # and many were disarmed
    assert lined_peak < alone_peak  # disarmed alarms never enter the heap
    assert lined_events < alone_events  # nor go off as no-ops


def test_an_alarm_line_keeps_one_entry_in_the_heap():
    env = simpy.Environment()
    line = AlarmLine(env)
    fired: list[float] = []
    env._active_proc = SimpleNamespace(_resume=lambda ev: fired.append(env.now))
    alarms = [line.wake_after(5.0 + t) for t in range(100)]
    env._active_proc = None
    assert len(env._queue) == 1
    for a in alarms[:50] + alarms[51:99]:
        disarm(a)
    env.run()
    assert fired == [55.0, 104.0]
    with pytest.raises(ValueError):
        line.wake_after(-1.0)


def test_dead_alarms_are_swept_from_the_heap_without_changing_the_order():
    env = simpy.Environment()
    fired: list[float] = []
    env._active_proc = SimpleNamespace(_resume=None)  # each alarm's resume is set below
    alarms = [wake_after(env, float(t)) for t in range(1000)]
    env._active_proc = None
    for a in alarms:
        a.resume = lambda ev, a=a: fired.append(env.now)
    for t, a in enumerate(alarms):
        if t % 3:
            disarm(a)
    assert len(env._queue) < 1000  # swept
    env.run()
    assert fired == [float(t) for t in range(0, 1000, 3)]
