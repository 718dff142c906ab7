"""The optional mechanisms of a scenario beside the plain ladder of levels, one module each.

:data:`REGISTRY` lists them in order; the schema, the checks, ``sim describe``, the report
and the model iterate over it. What a mechanism declares is in :mod:`sim.mechanisms.base`,
what its runtime may use of a replication in :mod:`sim.mechanisms.context`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

# The scenario package first: its schema imports the mechanism modules below for their sections.
from .. import scenario as _scenario  # noqa: F401
from .base import DescriptionRow, Hooks, Mechanism
from .channels import CHANNELS
from .closed_loop import CLOSED_LOOP
from .collective import COLLECTIVE
from .court_link import COURT_LINK
from .detection import DETECTION
from .difficulty import DIFFICULTY
from .desks import PARTNERS, POOLS
from .meetings import MEETINGS
from .other_duties import OTHER_DUTIES
from .outcomes import OUTCOMES
from .prevention import PREVENTION
from .reopening import REOPENING
from .sittings import SITTINGS
from .volunteers import VOLUNTEERS

if TYPE_CHECKING:  # pragma: no cover
    from ..scenario.schema import Scenario

# Order matters: settlement slots, metric order and `sim describe` rows follow it.
# The later nine cost nothing when unused: no draws, no hooks, no metrics.
REGISTRY: tuple[Mechanism, ...] = (MEETINGS, POOLS, PARTNERS, CHANNELS, VOLUNTEERS, CLOSED_LOOP,
                                   PREVENTION, DETECTION, COLLECTIVE, COURT_LINK, OTHER_DUTIES, SITTINGS,
                                   DIFFICULTY, OUTCOMES, REOPENING)


def used(scenario: "Scenario") -> list[Mechanism]:
    """The mechanisms a scenario uses, in registry order."""
    return [m for m in REGISTRY if m.used(scenario)]


def problems(scenario: "Scenario") -> list[str]:
    """Every mechanism's cross-checks against the rest of the scenario."""
    return [p for m in REGISTRY for p in m.problems(scenario)]


def describe(scenario: "Scenario") -> list[DescriptionRow]:
    """(kind, name, where, what) of every mechanism of a scenario, for ``sim describe`` and the report."""
    return [row for m in REGISTRY for row in m.describe(scenario)]


def settler_sites(scenario: "Scenario") -> dict[str, str]:
    """{"meeting.weekly_conflict": "community", "pool.x": ..., "partner.y": ...}: where each settler sits."""
    return {k: v for m in REGISTRY for k, v in m.sites(scenario).items()}


__all__ = ["REGISTRY", "DescriptionRow", "Hooks", "Mechanism", "describe", "problems", "settler_sites", "used"]
