"""Each SimPy patch of ``sim.engine.simpy_patches`` on its own: what it saves, and that it is
otherwise stock SimPy behaviour (whole-model equivalence: tests/test_benchmark_smoke.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import simpy

from sim.engine.simpy_patches import (SIMPY_VERSION, CaseProcess, LeanPreemptiveResource, LeanPriorityResource, LeanResource,
                                      RosteredResource, disarm, wake_after)
from sim.rosters import WeeklyProfile


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
