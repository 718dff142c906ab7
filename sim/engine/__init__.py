"""The discrete-event model: arrivals, staff and rosters, the case process, one replication."""

from .model import Model, single_run

__all__ = ["Model", "single_run"]
