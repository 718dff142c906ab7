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

The resource and request classes, which change SimPy's own (``users``, ``put_queue``, ``_do_put``,
release), live with the other SimPy changes in :mod:`sim.engine.simpy_patches`; this module is
imported at run time only, never at the import of :mod:`sim.mechanisms.sittings` (scenarios
load without SimPy).
"""

from __future__ import annotations

from typing import Any

from ..engine.simpy_patches import LeanResource, MemberRequest, MemberResource


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
