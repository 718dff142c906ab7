"""Staff as SimPy resources: which resource a weekly on-duty profile needs.

A role that is always on duty is a plain FIFO resource. A role whose whole staff is either
on or off duty (office hours, day shifts) is one too: a case that gets a handler while the
office is closed waits, holding its place in the queue, until the next shift starts. Any
other roster uses a :class:`~sim.engine.simpy_patches.RosteredResource` sized for the busiest
shift, its units sharing one wake-up at each rise in head-count. Neither pre-empts: a handler
whose shift ends finishes the case in hand; each resource whose head-count changes over the
week carries an ``off_duty`` tracker of that overtime (``None`` otherwise, so always-on staff
pay one attribute test per case).
"""

from __future__ import annotations

import simpy

from ..metrics import OffDutyWork
from ..rosters import WeeklyProfile
from .simpy_patches import LeanPreemptiveResource, LeanResource, RosteredResource, ShiftBell


def make_resources(env: simpy.Environment, n: int, profile: WeeklyProfile, warmup: float = 0.0,
                   preemptive: bool = False) -> list[simpy.Resource]:
    """n resources sized for the profile's peak; plain Resources when nobody ever goes off duty.

    ``preemptive``: disputes pre-empt other duties (the roster must be constant or on/off)."""
    cap = max(profile.peak, 1)
    if preemptive:
        out: list[simpy.Resource] = [LeanPreemptiveResource(env, capacity=cap) for _ in range(n)]
    elif profile.constant or profile.on_off:
        out = [LeanResource(env, capacity=cap) for _ in range(n)]
    else:
        bell = ShiftBell(env, profile)  # one wake-up per rise in head-count for all n units
        out = [RosteredResource(env, profile, bell) for _ in range(n)]
    for r in out:
        r.off_duty = None if profile.constant else OffDutyWork(profile, warmup)  # type: ignore[attr-defined]
    return out
