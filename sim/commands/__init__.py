"""Sub-commands beyond run/compare/validate/describe, one module each.

A module here defines ``register(subparsers)`` and is listed in ``MODULES``; importing this
package appends every ``register`` to ``sim.cli.EXTRA_COMMANDS``.
"""

from __future__ import annotations

import importlib

from ..cli import EXTRA_COMMANDS

MODULES: list[str] = ["sensitivity", "report", "plot", "sweep", "staff", "warmup", "reps", "analytic"]

for _name in MODULES:
    EXTRA_COMMANDS.append(importlib.import_module(f"{__name__}.{_name}").register)
