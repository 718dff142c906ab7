"""The discrete-event model: arrivals, staff resources, the case process, one replication."""

from __future__ import annotations

from typing import Any

__all__ = ["Model", "single_run"]


def __getattr__(name: str) -> Any:
    """Import the model on first use: it pulls in SimPy, numpy and scipy, which the commands
    that only read scenarios do not need (start-up must stay under half a second)."""
    if name in __all__:
        from . import model

        return getattr(model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
