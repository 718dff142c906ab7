"""The benchmark ladder written directly in plain SimPy (and in Ciw), without the `sim` engine.

The network is the three-level escalation ladder of ``tests/scenarios/ladder.yaml``: Poisson
arrivals at the building, each level a FIFO multi-server queue with exponential service,
and after service a case is settled with the level's probability or passed up. These
hand-written versions are the yardstick the engine is measured against in the same run
(``benchmarks/run.py``), and a statistical cross-check of the engine (``tests/test_benchmark_smoke.py``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Iterator

import simpy


@dataclass(frozen=True)
class Ladder:
    """The ladder's parameters: arrival rate per hour and, per level, servers, mean hours and settle probability."""

    rate: float = 1.2
    servers: tuple[int, ...] = (2, 2, 1)
    mean_hours: tuple[float, ...] = (1.0, 2.0, 4.0)
    settle: tuple[float, ...] = (0.7, 0.6, 1.0)


@dataclass
class LadderResult:
    """What one plain run reports: cases arrived, cases closed and their mean hours in system (after warm-up)."""

    arrived: int
    closed: int
    mean_hours: float
    events: int


class CountingEnvironment(simpy.Environment):
    """A SimPy environment that counts the events it processes (one per ``step``)."""

    def __init__(self, initial_time: float = 0) -> None:
        super().__init__(initial_time)
        self.events_processed = 0

    def step(self) -> None:
        self.events_processed += 1
        super().step()


def run_simpy(horizon_hours: float, seed: int = 1, ladder: Ladder = Ladder(), warmup_hours: float = 0.0,
              count_events: bool = False) -> LadderResult:
    """Run the ladder in plain SimPy for ``horizon_hours``; statistics count cases arriving after warm-up."""
    env: simpy.Environment = CountingEnvironment() if count_events else simpy.Environment()
    rng = random.Random(seed)
    expo, uni = rng.expovariate, rng.random
    levels = [(simpy.Resource(env, capacity=c), 1.0 / m, p)
              for c, m, p in zip(ladder.servers, ladder.mean_hours, ladder.settle)]
    stats = [0, 0, 0.0]  # arrived, closed, sum of hours in system

    def case(t0: float, counted: bool) -> Iterator[simpy.Event]:
        for res, mu, p in levels:
            with res.request() as req:
                yield req
                yield env.timeout(expo(mu))
            if uni() < p:
                break
        if counted:
            stats[1] += 1
            stats[2] += env.now - t0

    def source() -> Iterator[simpy.Event]:
        while True:
            yield env.timeout(expo(ladder.rate))
            counted = env.now >= warmup_hours
            if counted:
                stats[0] += 1
            env.process(case(env.now, counted))

    env.process(source())
    env.run(until=horizon_hours)
    events = env.events_processed if isinstance(env, CountingEnvironment) else 0
    return LadderResult(stats[0], stats[1], stats[2] / stats[1] if stats[1] else float("nan"), events)


def run_ciw(horizon_hours: float, seed: int = 1, ladder: Ladder = Ladder(), warmup_hours: float = 0.0) -> LadderResult:
    """Run the same ladder in Ciw (imported lazily); routing sends failures to the next level."""
    import ciw

    n = len(ladder.servers)
    routing = [[0.0] * n for _ in range(n)]
    for i in range(n - 1):
        routing[i][i + 1] = 1.0 - ladder.settle[i]
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=ladder.rate)] + [None] * (n - 1),
        service_distributions=[ciw.dists.Exponential(rate=1.0 / m) for m in ladder.mean_hours],
        number_of_servers=list(ladder.servers),
        routing=routing,
    )
    ciw.seed(seed)
    q = ciw.Simulation(network)
    q.simulate_until_max_time(horizon_hours)
    # Ciw records one row per service; a case's time in system runs from its first arrival to its last exit.
    first: dict[int, float] = {}
    last: dict[int, float] = {}
    for r in q.get_all_records():
        first[r.id_number] = min(first.get(r.id_number, r.arrival_date), r.arrival_date)
        last[r.id_number] = max(last.get(r.id_number, r.exit_date), r.exit_date)
    ids = [i for i, t in first.items() if t >= warmup_hours]
    total = sum(last[i] - first[i] for i in ids)
    return LadderResult(len(ids), len(ids), total / len(ids) if ids else float("nan"), 0)


if __name__ == "__main__":
    import sys
    import time

    hours = float(sys.argv[1]) if len(sys.argv) > 1 else 200_000.0
    for name, fn in (("simpy", run_simpy), ("ciw", run_ciw)):
        t = time.perf_counter()
        res = fn(hours)
        dt = time.perf_counter() - t
        print(f"{name}: {res.closed} cases in {dt:.2f} s = {res.closed / dt:,.0f} cases/s, mean {res.mean_hours:.3f} h")
