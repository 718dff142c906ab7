"""The life of one case: climb the hierarchy until some level settles it.

At each level the case waits for a handler of that level's role, is handled (or, if its
severity is above the level's ceiling, only triaged) and is then settled with the level's
probability for its severity, or passed to the parent unit. A level's deadline runs from the
case's arrival at that level: if it passes while the case waits or is being handled, the
case is escalated at that moment. Leaving the top level unsettled means leaving the system
unresolved (hotline, lawsuit), which is recorded like a settlement, never dropped.

It runs as a :class:`~sim.engine.simpy_patches.CaseProcess`: delays are yielded as hours
(floats), a handler is asked for with ``claim()`` and a deadline is waited for with
the level's ``AlarmLine`` (all in ``simpy_patches``, every change to SimPy in one place).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

import simpy

from .simpy_patches import disarm

if TYPE_CHECKING:  # pragma: no cover
    from ..mechanisms.base import Settler
    from .model import Model

FAILED, CEILING, DEADLINE = "failed", "ceiling", "deadline"


def case_process(m: "Model", cid: int, t0: float, building: int, sev: int, cat: int,
                 hand: list[float], tri: list[float], out: list[float], start: int = 0,
                 again: bool = False) -> Iterator[simpy.Event]:
    """SimPy process of one case arriving at bottom unit ``building`` at time ``t0`` (hours).

    ``start`` is the level it enters at (a reporting channel may skip the levels below).
    A level with ``sittings`` holds a handler again for each further sitting (days apart).
    Mechanisms hook in where a level has ``hooks`` (a pool or partner instead of its staff;
    a meeting, pool or partner after it fails) or a hand-over wait ``respond`` (closed loop).
    A level with an outcome rule (``m.outcome_rules``) shortens handling and lowers the chance
    to settle with the case's age and the queue it finds; a level's settlement may re-open
    (``m.reopen``): the same case (``again``) then climbs on from the level it returns to.
    """
    env = m.env
    met = m.metrics
    counted = t0 >= m.warmup
    if not again:
        if counted:
            met.arrive(cid, t0, sev, start)
        met.open_case(env._now)
    rules = m.outcome_rules  # None unless some level's outcome depends on time or load
    escalated = met.escalated
    busy_time = met.busy_time
    levels = m.levels
    resources = m.unit_resources[building]
    trace = m.visits  # None unless case rows are recorded: then one row per level or mechanism visited
    nan = float("nan")
    for li in range(start, len(levels)):
        lv = levels[li]
        hooks = lv.hooks
        arrive = env._now
        if hooks is not None and hooks.before:
            desk = hooks.pick_before(sev, cat)
            if desk is not None:  # a pool or partner takes the case instead of the level's staff
                if (yield from settler_visit(m, cid, t0, sev, li, desk, counted)):
                    return
                if counted:
                    escalated[FAILED][li] += 1
                continue
        res = resources[li]
        above = sev > lv.ceiling_rank
        dur = tri[li] if above else hand[li]
        rule = rules[li] if rules is not None else None
        if rule is not None:
            queued = len(res.queue)
            if not above:
                dur = rule.handling(dur, queued)
        # granted without an event when a handler is free and nobody waits; ranks: other duties by severity
        req = res.claim() if lv.ranks is None else res.request(*lv.ranks[sev])
        if lv.respond is not None and not (yield from lv.respond(li, req, counted,
                                                                 lv.profile if lv.closed_hours else None)):
            if trace is not None:
                m.trace_visit(cid, lv.name, arrive, nan, nan, "late")
            continue  # late hand-over sent on up (closed loop)
        deadline = lv.deadline
        if deadline is None:
            if req.callbacks is not None:  # not granted at once: wait for a handler
                yield req
        else:
            deadline += arrive
            if not req.triggered:  # wait for a handler or the deadline, whichever comes first
                alarm = lv.alarms.wake_after(deadline - env._now)  # type: ignore[union-attr]
                yield req
                if req.triggered:
                    disarm(alarm)  # granted first
                    if req.callbacks is not None:  # granted at the instant the alarm woke the case: one resume only
                        req.callbacks.remove(env._active_proc._resume)
                else:
                    req.cancel()
                    if counted:
                        escalated[DEADLINE][li] += 1
                    if trace is not None:
                        m.trace_visit(cid, lv.name, arrive, nan, nan, DEADLINE)
                    continue
            elif req.callbacks is not None:
                yield req
        now = granted = env._now
        if lv.closed_hours:
            opens = lv.profile.next_on_duty(now)
            if opens > now:
                if deadline is not None and opens >= deadline:
                    yield deadline - now
                    res.release(req)
                    if counted:
                        escalated[DEADLINE][li] += 1
                    if trace is not None:
                        m.trace_visit(cid, lv.name, arrive, nan, env._now - granted, DEADLINE)
                    continue
                yield lv.opening.at(opens - now)  # shared by every case waiting for this opening
                now = opens
        if counted:
            met.wait_sum[li] += now - arrive
            met.wait_n[li] += 1
        busy = busy_time[li]
        busy.start(now)
        off = res.off_duty  # None unless the head-count changes over the week
        if off is not None:
            off.start(now)
        if deadline is not None and now + dur > deadline:
            yield deadline - now
            busy.end(env._now)
            if off is not None:
                off.end(env._now)
            res.release(req)
            if counted:
                escalated[DEADLINE][li] += 1
            if trace is not None:
                m.trace_visit(cid, lv.name, arrive, now, now - granted, DEADLINE)
            continue
        yield dur
        busy.end(env._now)
        if off is not None:
            off.end(env._now)
        res.release(req)
        if lv.sittings is not None and not above:  # further sittings with days between
            if not (yield from lv.sittings.more(res, busy, sev, deadline, lv.profile if lv.closed_hours else None)):
                if counted:
                    escalated[DEADLINE][li] += 1
                if trace is not None:
                    m.trace_visit(cid, lv.name, arrive, now, now - granted, DEADLINE)
                continue
        if lv.follow_up is not None and not above:
            follow = lv.follow_up.next(sev)
            if deadline is not None and env._now + follow > deadline:
                yield deadline - env._now
                if counted:
                    escalated[DEADLINE][li] += 1
                if trace is not None:
                    m.trace_visit(cid, lv.name, arrive, now, now - granted, DEADLINE)
                continue
            yield follow
        if not above and out[li] < (lv.settle[sev] if rule is None else rule.chance(lv.settle[sev], env._now - t0, queued)):
            if m.reopen is not None and not again and (back := m.reopen(li, counted)) is not None:
                if trace is not None:
                    m.trace_visit(cid, lv.name, arrive, now, now - granted, "reopened")
                hours, to, fresh = back
                yield hours  # the agreement fails: the same case comes back
                yield from case_process(m, cid, t0, building, sev, cat, hand, tri, fresh, to, again=True)
                return
            if trace is not None:
                m.trace_visit(cid, lv.name, arrive, now, now - granted, "settled")
            if m.report_back:
                yield m.report_back
            met.close_case(env._now)
            if counted:
                met.record_settlement(cid, li, env._now, li <= m.ceiling_index[sev])
            if m.cases is not None:
                m.close_record(cid, li, "settled")
            return
        if trace is not None:
            m.trace_visit(cid, lv.name, arrive, now, now - granted, CEILING if above else FAILED)
        if hooks is not None and hooks.after:
            mech = hooks.pick_after(sev, cat)
            if mech is not None and (yield from settler_visit(m, cid, t0, sev, li, mech, counted)):
                return
        if counted:
            escalated[CEILING if above else FAILED][li] += 1
    if m.exit is not None:  # court link: court, petition or abandoned; a judge's studio may settle
        settler = yield from m.exit(sev, cat, counted)
        if settler is not None:
            yield from close_by(m, cid, t0, sev, len(levels) - 1, settler, counted)
            return
    met.close_case(env._now)
    if counted:
        met.record_unresolved(cid)
    if m.cases is not None:
        m.close_record(cid, len(m.levels) - 1, "unresolved")


def settler_visit(m: "Model", cid: int, t0: float, sev: int, li: int, settler: "Settler",
                  counted: bool) -> Iterator[simpy.Event]:
    """A visit to a meeting, pool or partner beside level ``li`` (instead of its staff, or after
    they fail): traced when case rows are kept, and the case closed if it settles there.
    Returns whether it settled."""
    arrive = m.env._now
    settled = yield from settler.visit(sev, counted)
    if m.visits is not None:
        m.trace_settler(cid, settler, arrive, settled)
    if settled:
        yield from close_by(m, cid, t0, sev, li, settler, counted)
    return settled


def close_by(m: "Model", cid: int, t0: float, sev: int, li: int, settler: "Settler", counted: bool) -> Iterator[simpy.Event]:
    """Close a case settled by a mechanism sitting at level ``li`` (after any report-back time)."""
    if m.report_back:
        yield m.report_back
    met = m.metrics
    met.close_case(m.env._now)
    if counted:
        met.record_settlement(cid, settler.slot, m.env._now, li <= m.ceiling_index[sev])
    if m.cases is not None:
        m.close_record_at(cid, settler.label, "settled")
