"""Named random streams: one independent numpy Generator per (seed, replication, source).

A stream's identity depends only on the seed, the replication number and the source's
name, never on which other sources exist or in which order they are used. Two scenarios
run with the same seed therefore draw the same arrivals, severities and handling-time
uniforms (common random numbers), and replication ``i`` is the same on any worker.
"""

from __future__ import annotations

import zlib

import numpy as np


def source_key(name: str) -> int:
    """A stable 32-bit number for a source name (Python's hash() is salted per process)."""
    return zlib.crc32(name.encode("utf-8"))


def stream(seed: int, rep: int, source: str) -> np.random.Generator:
    """The generator for one random source of one replication."""
    ss = np.random.SeedSequence(seed, spawn_key=(rep, source_key(source)))
    return np.random.Generator(np.random.PCG64(ss))
