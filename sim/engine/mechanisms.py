"""Wiring the optional mechanisms of a scenario into one replication.

Meetings, pools, partners, channels and closed-loop rules are attached to the levels they
sit at as *hooks*; a level without any keeps ``hooks = None`` and the case process pays one
attribute test for it. Every mechanism that settles cases gets a *slot* after the levels in
the settlement counters, so ``settled_share.<level>``, ``settled_share.meeting.<name>``,
``settled_share.pool.<name>``, ``settled_share.partner.<name>`` and ``unresolved_share``
together sum to 1 over closed cases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator, Union

import simpy

from .channels import ChannelTable
from .closed_loop import ClosedLoopRuntime
from .meetings import MeetingRuntime
from .pools import DeskRuntime

if TYPE_CHECKING:  # pragma: no cover
    from ..scenario.schema import Scenario
    from .model import Model

Settler = Union[MeetingRuntime, DeskRuntime]


@dataclass
class LevelHooks:
    """Mechanisms attached to one level: tried before its staff (``instead``) or after it fails."""

    before: list[DeskRuntime] = field(default_factory=list)
    after: list[Settler] = field(default_factory=list)

    def pick_before(self, sev: int, cat: int) -> DeskRuntime | None:
        for desk in self.before:
            if desk.takes(sev, cat):
                return desk
        return None

    def pick_after(self, sev: int, cat: int) -> Settler | None:
        """The first mechanism that takes a case the level did not settle (or None: it goes up)."""
        for mech in self.after:
            if mech.takes(sev, cat):
                return mech
        return None


class Mechanisms:
    """The runtimes of every mechanism of a scenario in one replication."""

    def __init__(self, model: "Model"):
        sc = model.scenario
        slot = len(sc.levels)
        self.settlers: list[Settler] = []
        for name, meeting in sc.meetings.items():
            self.settlers.append(MeetingRuntime(model, name, meeting, slot))
            slot += 1
        for kind, group in (("pool", sc.pools), ("partner", sc.partners)):
            for name, desk in group.items():
                self.settlers.append(DeskRuntime(model, kind, name, desk, slot))
                slot += 1
        model.metrics.settled_at.extend([0] * len(self.settlers))
        for mech in self.settlers:
            lv = model.levels[mech.level]
            if lv.hooks is None:
                lv.hooks = LevelHooks()
            if isinstance(mech, DeskRuntime) and mech.mode == "instead":
                lv.hooks.before.append(mech)
            else:
                lv.hooks.after.append(mech)
            if isinstance(mech, MeetingRuntime):
                model.env.process(mech.process(model.env))
        self.channels = ChannelTable(sc, model.seed, model.rep, model.warmup) if sc.channels else None
        self.loop = ClosedLoopRuntime(sc) if sc.closed_loop is not None else None
        if self.loop is not None:
            model.report_back = self.loop.report_back
            for li, respond in enumerate(self.loop.respond):
                model.levels[li].respond = respond

    def close(self, m: "Model", cid: int, t0: float, sev: int, li: int, mech: Settler, counted: bool) -> Iterator[simpy.Event]:
        """Close a case settled by a mechanism sitting at level ``li`` (after any report-back time)."""
        if m.report_back:
            yield m.env.timeout(m.report_back)
        met = m.metrics
        met.open_now -= 1
        if counted:
            met.record_settlement(mech.slot, (m.env.now - t0) / 24.0, li <= m.ceiling_index[sev], m.targets[sev])
        if m.cases is not None:
            m.close_record_at(cid, mech.label, "settled")

    def summary(self, m: "Model", end: float) -> dict[str, float]:
        met = m.metrics
        closed = met.closed
        out: dict[str, float] = {}
        for mech in self.settlers:
            out[f"settled_share.{mech.label}"] = met.settled_at[mech.slot] / closed if closed else float("nan")
            out.update(mech.summary(closed, end))
        if self.channels is not None:
            out.update(self.channels.summary(met.arrived))
        if self.loop is not None:
            out.update(self.loop.summary())
        return out


def build_mechanisms(model: "Model") -> Mechanisms | None:
    """The scenario's mechanisms, or None when it uses none (the plain case process)."""
    sc = model.scenario
    if not (sc.meetings or sc.pools or sc.partners or sc.channels or sc.closed_loop is not None):
        return None
    return Mechanisms(model)


__all__ = ["LevelHooks", "Mechanisms", "build_mechanisms"]


def describe(scenario: "Scenario") -> list[tuple[str, str, str, str]]:
    """(kind, name, where, what) of every mechanism of a scenario, for ``sim describe``."""

    def takes(m: object) -> str:
        sev, cat = getattr(m, "severities", None), getattr(m, "categories", None)
        parts = [", ".join(sev) if sev else "", ", ".join(cat) if cat else ""]
        return " / ".join(p for p in parts if p) or "all cases"

    rows: list[tuple[str, str, str, str]] = []
    for name, mt in scenario.meetings.items():
        when = f"{mt.schedule.every}ly" + (f" {mt.schedule.weekday}" if mt.schedule.every == "week" else f" day {mt.schedule.day}")
        rows.append(("meeting", name, mt.level, f"{when} {mt.schedule.hour:g}h, up to {mt.capacity} a sitting, settles {mt.settle}; takes {takes(mt)}"))
    for kind, group in (("pool", scenario.pools), ("partner", scenario.partners)):
        for name, d in group.items():
            staff = ", ".join(f"{r} {n}" for r, n in d.staff.items()) if isinstance(d.staff, dict) else str(d.staff)
            rows.append((kind, name, f"{d.level} ({d.mode})", f"staff {staff}; takes {takes(d)}"))
    for name, ch in scenario.channels.items():
        rows.append(("channel", name, ch.enters_at, f"{ch.share:.0%} of {takes(ch)}"))
    for lname, lv in scenario.levels.items():
        if lv.volunteers:
            rows.append(("volunteers", ", ".join(lv.volunteers), lname, "join the level's handlers"))
    if scenario.closed_loop is not None:
        cl = scenario.closed_loop
        resp = ", ".join(f"{k} {v:g} d" for k, v in cl.respond_days.items()) or "none"
        rows.append(("closed loop", "", "", f"respond: {resp}; late: {cl.on_late}; report back {cl.report_back_days:g} d"))
    return rows
