"""One replication: build the SimPy model of a scenario and run it to its horizon.

``single_run(scenario, seed, rep)`` is a pure function of its arguments: the same inputs
give the same :class:`ReplicationRecord` in any process.

The model asks every mechanism the scenario uses (:data:`sim.mechanisms.REGISTRY`) for a
runtime built on a narrow :class:`~sim.mechanisms.context.Context`, and wires the runtime's
:class:`~sim.mechanisms.base.Hooks` in itself: settlers beside their levels (a level without
any keeps ``hooks = None``, one attribute test per case and level), extra staff, hand-over
waits, report-back time, entry levels and processes. Every settler gets a settlement slot
after the levels, so ``settled_share.<level>``, ``settled_share.<settler>`` and
``unresolved_share`` together sum to 1 over closed cases.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generator, Iterator

import simpy

from .. import mechanisms
from ..hierarchy import Hierarchy, build_hierarchy
from ..mechanisms.base import Runtime, Settler
from ..mechanisms.context import Context, MetricSink
from ..mechanisms.outcomes import rules_by_level
from ..metrics import Metrics
from ..scenario.schema import Scenario
from .arrivals import CaseSource
from .case import case_process
from .levels import LevelRuntime, build_levels
from .simpy_patches import CaseProcess
from .spool import CHUNK_ROWS, CaseSpool
from .staff import make_resources

# Allocations between two collections of the young generation during a run (CPython: 700).
GC_YOUNG_THRESHOLD = 20_000

CASE_COLUMNS = ("case_id", "arrival_day", "building", "severity", "category", "level", "outcome", "close_day", "days_to_close")
# One row per level or mechanism a case visited (recorded with the case rows): where it was
# handed over, when handling started and ended, the off-duty wait (a handler granted while the
# office was closed) and what happened there (settled, failed, ceiling, deadline, late).
VISIT_COLUMNS = ("case_id", "rep", "step", "where", "arrive_day", "start_day", "end_day", "off_duty_wait_hours", "outcome")


@dataclass
class ReplicationRecord:
    """Everything one replication reports: metrics, the daily backlog and optional case rows."""

    rep: int
    seed: int
    metrics: dict[str, float]
    backlog: list[int]
    cases: list[tuple[Any, ...]] | None = None
    events: int = 0
    visits: list[tuple[Any, ...]] | None = None  # VISIT_COLUMNS rows, when kept in memory
    unstable_level: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class Model:
    """The SimPy model of one scenario for one replication."""

    def __init__(self, scenario: Scenario, seed: int, rep: int, *, horizon_days: float | None = None,
                 record_cases: bool | str = False, hierarchy: Hierarchy | None = None):
        """``record_cases``: False, True (rows kept in memory) or a folder to stream them to."""
        self.scenario = scenario
        self.seed = seed
        self.rep = rep
        self.horizon = (horizon_days if horizon_days is not None else scenario.horizon_days) * 24.0
        self.warmup = min(scenario.warmup_days * 24.0, self.horizon)
        self.hierarchy = hierarchy or build_hierarchy(scenario)
        self.env = simpy.Environment()
        sevs = scenario.severities
        ctx = Context(self.env, seed, rep, self.warmup, tuple(scenario.level_names), tuple(sevs),
                      tuple(scenario.categories), scenario.hours_per_unit,
                      make_resource=lambda profile: make_resources(self.env, 1, profile, self.warmup)[0],
                      hierarchy=self.hierarchy)
        self.mechanisms: tuple[Runtime, ...] = tuple(m.runtime(scenario, ctx) for m in mechanisms.used(scenario))
        hooks = [rt.hooks() for rt in self.mechanisms]
        self.settlers: tuple[tuple[Settler, ...], ...] = tuple(h.settlers + h.exit_settlers for h in hooks)  # per runtime
        n_settlers = sum(len(s) for s in self.settlers)
        self.ceiling_index = [scenario.ceiling_level_index(s) for s in sevs]
        self.targets = [scenario.target_for(s) for s in sevs]
        self.metrics = Metrics(scenario.level_names, self.warmup, self.horizon, extra_slots=n_settlers,
                               severities=tuple(sevs), target_days=tuple(self.targets))
        self.levels: list[LevelRuntime] = build_levels(scenario, self.hierarchy, self.env, seed, rep, hooks,
                                                               lambda env, n, p, **kw: make_resources(env, n, p, self.warmup, **kw))
        # per bottom unit, the resource a case from it asks at each level: one lookup a case
        self.unit_resources = [tuple(lv.resources[u] if lv.per_unit else lv.resources[0]
                                     for lv, u in zip(self.levels, units))
                               for units in self.hierarchy.ancestors.T.tolist()]
        self.outcome_rules = rules_by_level(hooks, len(self.levels))  # None: fixed settle shares
        reopens = [h.reopen for h in hooks if h.reopen is not None]
        self.reopen = reopens[0] if reopens else None
        self.report_back = sum(h.report_back_hours for h in hooks)  # hours from settlement to closing the loop
        entries = [h.entry for h in hooks if h.entry is not None]
        self.entry = entries[0] if entries else None
        self._wire_arrival_hooks(hooks)
        self.cases: dict[int, list[Any]] | None = {} if record_cases else None
        self.closed_rows: list[tuple[Any, ...]] = []
        self.spool = CaseSpool(record_cases, rep, CASE_COLUMNS) if isinstance(record_cases, (str, Path)) else None
        self.visits: list[tuple[Any, ...]] | None = [] if record_cases else None
        self.visit_steps: dict[int, int] = {}
        self.visit_spool = (CaseSpool(record_cases, rep, VISIT_COLUMNS, stem="visits")
                            if isinstance(record_cases, (str, Path)) else None)
        self.stop = self.env.event()
        for h in hooks:
            for proc in h.processes:
                self.env.process(proc)

    def _wire_arrival_hooks(self, hooks: list[Any]) -> None:
        """Block transforms (prevention, detection), further sources (collective cases), the
        exit route (court link) and its settlers' slots after every other settler's."""
        self.block_hooks = tuple(h.blocks for h in hooks if h.blocks is not None)
        self.sources = tuple(src for h in hooks for src in h.sources)
        exits = [h.exit for h in hooks if h.exit is not None]
        self.exit = exits[0] if exits else None
        slot = len(self.levels) + sum(len(h.settlers) for h in hooks)
        for h in hooks:
            for settler in h.exit_settlers:
                settler.slot = slot
                slot += 1

    # ---- processes
    def _arrivals(self, source: Any = None, cid: int = 0) -> Iterator[simpy.Event]:
        """Start every case of a source (the households' own stream unless ``source`` is given)."""
        env, m = self.env, self.metrics
        main = source is None
        if main:
            source = CaseSource(self.scenario, self.hierarchy, self.seed, self.rep)
        limit = self.scenario.max_open_cases
        assign = self.entry if main else None
        transforms = self.block_hooks if main else ()
        for block in source.blocks(self.horizon):
            for transform in transforms:
                block = transform(block)
            entry = assign(block) if assign is not None else block.start
            delay = block.delay
            building, severity, category = block.building, block.severity, block.category
            handling, triage, outcome = block.handling, block.triage, block.outcome
            for k, t in enumerate(block.times):
                yield t - env._now  # a delay: arrivals run as a CaseProcess too
                if m.open_now >= limit:
                    self._unstable()
                    return
                if self.cases is not None:
                    self.cases[cid] = [cid, t / 24.0, building[k], self.scenario.severities[severity[k]],
                                       self.scenario.categories[category[k]]]
                proc = case_process(self, cid, t if delay is None else t + delay[k], building[k], severity[k],
                                    category[k], handling[k], triage[k], outcome[k], entry[k] if entry is not None else 0)
                CaseProcess(env, proc if delay is None else self._known_after(delay[k], proc))
                cid += 1

    def _known_after(self, hours: float, proc: Iterator[simpy.Event]) -> Iterator[simpy.Event]:
        """A case that exists ``hours`` before anyone reports it (detection)."""
        yield hours
        yield from proc

    def _until_horizon(self) -> Iterator[simpy.Event]:
        yield self.env.timeout(self.horizon)
        if not self.stop.triggered:
            self.stop.succeed()

    def _unstable(self) -> None:
        """Too many open cases: the queue grows without bound; stop and say where."""
        queues = [sum(len(r.queue) for r in lv.resources) for lv in self.levels]
        worst = max(range(len(queues)), key=queues.__getitem__)
        self.metrics.unstable = True
        self.metrics.unstable_level = self.levels[worst].name
        if not self.stop.triggered:
            self.stop.succeed()

    def trace_visit(self, cid: int, where: str, arrive: float, start: float, off_duty_wait: float, outcome: str) -> None:
        """A visit row of a traced case, ending now (times in hours; rows in days)."""
        step = self.visit_steps.get(cid, 0)
        self.visit_steps[cid] = step + 1
        self.visits.append((cid, self.rep, step, where, arrive / 24.0, start / 24.0, self.env.now / 24.0,  # type: ignore[union-attr]
                            off_duty_wait, outcome))
        if self.visit_spool is not None and len(self.visits) >= CHUNK_ROWS:  # type: ignore[arg-type]
            self.visit_spool.write(self.visits)  # type: ignore[arg-type]
            self.visits = []

    def trace_settler(self, cid: int, settler: Settler, arrive: float, settled: bool) -> None:
        """A visit to a meeting, pool or partner (a desk tells when its handling started)."""
        start, off_wait = getattr(settler, "last_visit", (float("nan"), float("nan")))
        self.trace_visit(cid, settler.label, arrive, start, off_wait, "settled" if settled else "failed")

    def close_record(self, cid: int, level: int, outcome: str) -> None:
        self.close_record_at(cid, self.levels[level].name, outcome)

    def close_record_at(self, cid: int, where: str, outcome: str) -> None:
        """Case row closed at a level or a mechanism (``meeting.<name>``, ``pool.<name>``)."""
        row = self.cases.pop(cid)  # type: ignore[union-attr]
        self.visit_steps.pop(cid, None)
        close_day = self.env.now / 24.0
        self.closed_rows.append((*row, where, outcome, close_day, close_day - row[1]))
        if self.spool is not None and len(self.closed_rows) >= CHUNK_ROWS:
            self.spool.write(self.closed_rows)
            self.closed_rows = []

    # ---- results
    def _summary(self, end: float) -> dict[str, float]:
        """The engine's metrics in catalogue order, then every mechanism's, through one sink."""
        sink = MetricSink()
        duty = [lv.profile.on_duty_hours(self.warmup, end) * len(lv.resources) for lv in self.levels]
        roles = [lv.role for lv in self.scenario.levels.values()]
        off = [_off_duty_hours(lv.resources, end) for lv in self.levels]
        sc = self.scenario
        persons = [float(sum(sc.roles[r].staff_per_unit for r in (lv.role, *lv.volunteers)) * n)
                   for lv, n in zip(sc.levels.values(), self.hierarchy.counts)]
        met = self.metrics
        other = None
        if any(lv.other_busy is not None for lv in self.levels):  # other duties: the roles' time split
            other = [0.0 if lv.other_busy is None else _advanced(lv.other_busy, end) for lv in self.levels]
        met.report(sink, roles, duty, any(t is not None for t in self.targets), sc.households, end, off, persons, other)
        slot_levels = list(range(len(self.levels))) + [0] * (len(met.settled_at) - len(self.levels))
        for settler in (s for settlers in self.settlers for s in settlers):
            slot_levels[settler.slot] = settler.level
        top = sc.level_names.index(sc.grassroots_top) if sc.grassroots_top else None
        met.report_tiers(sink, slot_levels, top, sc.residents, end)
        closed = met.closed
        for runtime, settlers in zip(self.mechanisms, self.settlers):
            for settler in settlers:
                sink.put(f"settled_share.{settler.label}", met.settled_at[settler.slot] / closed if closed else float("nan"))
                settler.report(sink, end)
            runtime.report(sink, end)
        return sink.values

    # ---- run
    def run(self) -> ReplicationRecord:
        """Run to the horizon (or until the queues grow without bound) and summarise."""
        steps = self.run_in_slices()
        while True:
            try:
                next(steps)
            except StopIteration as done:
                return done.value

    def run_in_slices(self, hours: float | None = None) -> Generator[float, None, ReplicationRecord]:
        """:meth:`run` pausing after every ``hours`` of simulated time, yielding the clock;
        returns the record. Lets a caller take turns between runs (the linearity benchmark
        times three models in turns on a shared machine). A pause only stops the clock
        between events: the results are the same as :meth:`run`'s."""
        env = self.env
        CaseProcess(env, self._arrivals())  # its first step now: the first arrival is after time 0
        for i, source in enumerate(self.sources):  # collective cases: ids from 10^9 (i + 1)
            CaseProcess(env, self._arrivals(source, (i + 1) * 1_000_000_000))
        env.process(self._until_horizon())
        if hours is None:
            with _collector_for_a_run():
                env.run(until=self.stop)
        else:
            if not hours > 0:
                raise ValueError(f"a slice must be a positive number of hours, not {hours}")
            self.stop.callbacks.append(simpy.core.StopSimulation.callback)  # as env.run(until=stop) does
            # Once triggered, the stop is processed in the same slice (it is due at once, and a
            # slice ends with an urgent event, never between the stop's trigger and its turn).
            while not self.stop.triggered:
                with _collector_for_a_run():
                    env.run(until=env.now + hours)
                if not self.stop.triggered:
                    yield env.now
        end = env.now
        self.metrics.finish(end)
        summary = self._summary(end)
        rows = None
        extra: dict[str, Any] = {}
        visits = self.visits
        if self.cases is not None:
            rows = self.closed_rows + [(*r, "", "open", float("nan"), float("nan")) for r in self.cases.values()]
            if self.spool is not None:
                self.spool.write(rows)
                self.spool.close()
                rows = None
                extra["case_files"] = self.spool.files
            if self.visit_spool is not None:
                self.visit_spool.write(visits)  # type: ignore[arg-type]
                self.visit_spool.close()
                visits = None
                extra["visit_files"] = self.visit_spool.files
        return ReplicationRecord(self.rep, self.seed, summary, list(self.metrics.backlog), rows,
                                 unstable_level=self.metrics.unstable_level, extra=extra, visits=visits)


@contextmanager
def _collector_for_a_run() -> Iterator[None]:
    """Everything built before the run (the model, the hierarchy, the imported modules) lives
    through it: kept out of the collector's full passes while cases allocate (a full pass over
    a million-household district's objects cost about a tenth of its run), then put back.
    Cases make almost no reference cycles, so the young generation is collected less often:
    each pass walks every open case's objects (a district has hundreds): 1-3% of a district's
    year at CPython's default threshold (700 allocations). The threshold is put back after."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(thresholds[0], GC_YOUNG_THRESHOLD), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _advanced(busy: Any, end: float) -> float:
    """A busy-time clock's staff-hours after the warm-up, up to ``end``."""
    busy.advance(end)
    return busy.area


def _off_duty_hours(resources: list[Any], end: float) -> float:
    """Staff-hours worked beyond the staff on duty (overtime) at these resources after the warm-up."""
    total = 0.0
    for r in resources:
        off = r.off_duty
        if off is not None:
            off.advance(end)
            total += off.area
    return total


def single_run(scenario: Scenario, seed: int, rep: int = 0, *, horizon_days: float | None = None,
               record_cases: bool | str = False, hierarchy: Hierarchy | None = None) -> ReplicationRecord:
    """Run one replication of a scenario; a pure function of (scenario, seed, rep).

    ``record_cases=True`` keeps one row per case in the record; a folder path streams the rows
    to Parquet part files there instead (``record.extra["case_files"]``), bounding memory.
    """
    return Model(scenario, seed, rep, horizon_days=horizon_days, record_cases=record_cases, hierarchy=hierarchy).run()
