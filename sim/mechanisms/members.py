"""Named staff members inside a unit's staff resource, for continuity of the same person.

A unit's handlers are one SimPy resource of capacity k (``sim.engine.staff``). When every
sitting of a case must be held by the same person (``sittings.continuity: person``), the k
handlers become k members, each holding one request at a time:

* a plain request (a case's first sitting, another case, another duty) takes the member who
  has been free longest, in the unit's first-come-first-served queue;
* a :func:`member_request` for member j waits for member j only;
* when a member is released, the queue is scanned in order and the first request that member
  can serve (a plain one, or one for that member) gets it: first come, first served for a
  free member, as if the unit's staff were k single-handler resources sharing one queue.

With one member per unit this is exactly the plain resource (same grants, same events).

The engine builds plain resources; :func:`name_members` turns one into a resource with
members in place, the first time a case at the unit needs its person again. Before that no
request has asked for a member, so members were interchangeable: the members busy at that
moment are numbered in the order they took their work, and the one just released (the case's)
counts as free since now, after the others free. The rule "free longest first" depends only on
when members were freed, not on their numbers, so the results are those of members named from
the start. The member who held a case's first sitting is the one released last
(:func:`released_member`), read right after the engine releases it.

Written against SimPy 4.1.2 (pinned), like :mod:`sim.engine.simpy_patches`: it relies on
``users``, ``put_queue``, ``_do_put`` and the release of
:class:`~sim.engine.simpy_patches.LeanResource`. SimPy is imported here, never at the
import of :mod:`sim.mechanisms.sittings` (scenarios load without SimPy).
"""

from __future__ import annotations

from typing import Any

import simpy
from simpy.resources.resource import Request

from ..engine.simpy_patches import LeanResource


class MemberRequest(Request):
    """A request for one member of a unit (``wish``), granted only when that member is free."""

    def __init__(self, resource: simpy.Resource, wish: int):
        self.wish = wish  # set before Request.__init__, which may grant at once
        super().__init__(resource)


class MemberResource(LeanResource):
    """A :class:`LeanResource` whose capacity is k named members (see the module docstring).

    Only made by :func:`name_members` from a LeanResource (constant or on/off roster, no pre-emption).
    """

    idle: list[int]  # the free members, free longest first
    last_released: int  # the member freed by the latest release

    def _do_put(self, event: Request) -> bool:  # type: ignore[override]
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

    def claim(self) -> Request:
        """A plain request: a free member is named in :meth:`_do_put`, never taken without it."""
        return self.request()

    def release(self, request: Request):  # type: ignore[no-untyped-def,override]
        j = getattr(request, "member", None)
        if j is not None and request in self.users:
            self.idle.append(j)
            self.last_released = j
        return super().release(request)


def name_members(res: Any) -> None:
    """Give the unit resource ``res`` named members, in place (once; later calls do nothing),
    right after a release (so at least one member is free: the one just released)."""
    if isinstance(res, MemberResource):
        return
    if type(res) is not LeanResource:  # the scenario checks rule out rosters with changing head-counts and pre-emption
        raise TypeError(f"continuity 'person' needs a plain staff resource, not {type(res).__name__}")
    res.__class__ = MemberResource
    for j, req in enumerate(res.users):  # in the order they took their member
        req.member = j
    res.idle = list(range(len(res.users), res.capacity))  # the last: the member just released
    res.last_released = res.capacity - 1


def released_member(res: Any) -> int:
    """The member whose request ``res`` released last, right after the release."""
    name_members(res)
    return res.last_released


def member_request(res: Any, member: int) -> MemberRequest:
    """Queue at ``res`` for ``member`` only."""
    return MemberRequest(res, member)
