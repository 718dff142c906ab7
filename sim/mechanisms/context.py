"""The narrow view of one replication that a mechanism's runtime gets.

The clock (the SimPy environment: ``now``, ``timeout``, ``event``), its own random streams
by name (the same ``(seed, rep, label)`` streams as everywhere, so results are reproducible
and common between scenarios), a factory for staff resources, a busy-time clock, read-only
facts about the levels, and :class:`MetricSink` for what it reports at the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Sequence

from ..draws import Durations, Uniforms
from ..metrics import BusyTime
from ..streams import stream

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from ..rosters import WeeklyProfile


@dataclass(frozen=True)
class Context:
    """What a mechanism runtime may use of its replication."""

    env: Any  # simpy.Environment: the clock and events
    seed: int
    rep: int
    warmup: float  # hours: statistics count cases arriving after it
    levels: tuple[str, ...]  # level names, bottom first
    severities: tuple[str, ...]
    categories: tuple[str, ...]
    hours_per_unit: float  # hours in one unit of the scenario's time_unit
    make_resource: Callable[["WeeklyProfile"], Any]  # one staff resource following a weekly profile
    hierarchy: Any = None  # the run's Hierarchy (read only): units, ancestors, households

    def stream(self, name: str) -> "np.random.Generator":
        """The mechanism's random stream ``name`` of this replication."""
        return stream(self.seed, self.rep, name)

    def uniforms(self, name: str) -> Uniforms:
        return Uniforms(self.stream(name))

    def durations(self, name: str, specs: Sequence[Any], scale: float) -> Durations:
        """Handling times per severity index from stream ``name`` (distributions in ``scale`` hours)."""
        return Durations(self.stream(name), list(specs), scale)

    def resource(self, profile: "WeeklyProfile") -> Any:
        return self.make_resource(profile)

    def busy_time(self) -> BusyTime:
        return BusyTime(self.warmup)

    def level_index(self, name: str) -> int:
        return self.levels.index(name)


class MetricSink:
    """The metrics of one replication, in the order they are put; a name is put once."""

    def __init__(self) -> None:
        self.values: dict[str, float] = {}

    def put(self, name: str, value: float) -> None:
        if name in self.values:
            raise KeyError(f"metric {name!r} reported twice")
        self.values[name] = value

    def get(self, name: str) -> float:
        """A metric already put (a mechanism's shares may divide by the engine's counts)."""
        return self.values[name]

    def update(self, values: dict[str, float]) -> None:
        for k, v in values.items():
            self.put(k, v)
