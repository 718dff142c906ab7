"""Detection: a dispute exists before anyone reports it, and may grow while undetected.

Without this section every case is known at its arrival. With it, arrival is the dispute's
onset; each detection channel (residents reporting, delivery riders on their rounds, grid
inspections) sees a share ``coverage`` of the disputes (of its categories) and finds one after
an exponential time with its ``rate_per_day``, from the channel's own stream. The earliest
channel finds it, and the case enters the hierarchy then. While undetected, a dispute grows
one severity step each time ``grows_after_days`` (drawn afresh per step) passes; a grown case
gets handling times of its new severity from the ``detection.handling`` stream.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field, PositiveFloat

from ..scenario.fields import Distribution, Probability, Strict
from .base import Hooks, Mechanism, check_names, takes_text

if TYPE_CHECKING:  # pragma: no cover
    from ..scenario.schema import Scenario
    from .base import DescriptionRow
    from .context import Context, MetricSink


# --------------------------------------------------------------------------- schema
class DetectionChannel(Strict):
    """One way disputes come to light: it sees ``coverage`` of them and finds one at ``rate_per_day``."""

    rate_per_day: PositiveFloat
    coverage: Probability = 1.0
    categories: list[str] | None = None
    description: str = ""


class Detection(Strict):
    """Detection channels (competing exponential times) and the growth of undetected disputes."""

    channels: dict[str, DetectionChannel] = Field(min_length=1)
    grows_after_days: Distribution | None = None  # days undetected before one severity step
    description: str = ""


# --------------------------------------------------------------------------- checks and description
def problems(scenario: "Scenario") -> list[str]:
    out: list[str] = []
    det = scenario.detection
    if det is None:
        return out
    for name, ch in det.channels.items():
        check_names(out, f"detection.channels.{name}.categories", ch.categories, scenario.categories, "category")
    if not any(ch.coverage >= 1.0 and ch.categories is None for ch in det.channels.values()):
        out.append("detection.channels: no channel sees every dispute (coverage 1, all categories); "
                   "some disputes would never be found")
    return out


def describe(scenario: "Scenario") -> list["DescriptionRow"]:
    det = scenario.detection
    if det is None:
        return []
    rows: list[DescriptionRow] = [("detection", name, "before arrival",
                                   f"finds {ch.coverage:.0%} of {takes_text(ch)} at {ch.rate_per_day:g}/day")
                                  for name, ch in det.channels.items()]
    if det.grows_after_days is not None:
        rows.append(("detection", "growth", "before arrival",
                     f"one severity step after {det.grows_after_days.describe('days')} undetected"))
    return rows


# --------------------------------------------------------------------------- runtime
class DetectionRuntime:
    """Delays every case of an arrival block by its detection time and grows it meanwhile."""

    def __init__(self, scenario: "Scenario", ctx: "Context"):
        import numpy as np

        det = scenario.detection
        assert det is not None
        self.np = np
        self.warmup = ctx.warmup
        self.names = list(det.channels)
        self.channels = []
        for name, ch in det.channels.items():
            cat_ok = np.array([ch.categories is None or c in ch.categories for c in scenario.categories])
            self.channels.append((ctx.stream(f"detection.{name}"), ch.rate_per_day / 24.0, ch.coverage, cat_ok))
        self.grow = det.grows_after_days
        self.rng_growth = ctx.stream("detection.growth")
        self.rng_handling = ctx.stream("detection.handling")
        self.top = len(scenario.severities) - 1
        hpu = scenario.hours_per_unit
        self.handling = [[(scenario.handling_dist(lv, s), hpu) for s in scenario.severities] for lv in scenario.level_names]
        self.found = [0] * len(self.names)
        self.hours: list[float] = []  # hours undetected of each counted case
        self.grew = 0

    def delay(self, block: Any) -> Any:
        """Set the block's detection delays; grow the severity (and handling) of late-found cases."""
        np = self.np
        n = len(block.times)
        cat = np.asarray(block.category)
        found = np.full((len(self.channels), n), np.inf)
        for i, (rng, rate, coverage, cat_ok) in enumerate(self.channels):
            sees = rng.random(n) < coverage
            t = rng.exponential(1.0 / rate, n)
            found[i] = np.where(sees & cat_ok[cat], t, np.inf)
        which = found.argmin(axis=0)
        hours = found[which, np.arange(n)]
        sev = np.asarray(block.severity)
        steps = np.zeros(n, dtype=np.int64)
        if self.grow is not None:
            clock = np.zeros(n)
            for _ in range(self.top):
                clock += self.grow.inverse_cdf(self.rng_growth.random(n), 24.0)
                steps += (clock < hours) & (sev + steps < self.top)
        counted = np.asarray(block.times) + hours >= self.warmup
        for i in range(len(self.channels)):
            self.found[i] += int((counted & (which == i)).sum())
        self.hours.extend(hours[counted].tolist())
        self.grew += int((counted & (steps > 0)).sum())
        block.delay = hours.tolist()
        grown = np.flatnonzero(steps)
        if grown.size:
            u = self.rng_handling.random((grown.size, len(self.handling)))
            for j, k in enumerate(grown.tolist()):
                new = int(sev[k] + steps[k])
                block.severity[k] = new
                block.handling[k] = [float(self.handling[li][new][0].inverse_cdf(u[j, li:li + 1], self.handling[li][new][1])[0])
                                     for li in range(len(self.handling))]
        return block

    def hooks(self) -> Hooks:
        return Hooks(blocks=self.delay)

    def report(self, sink: "MetricSink", end: float) -> None:
        np = self.np
        nan = float("nan")
        total = sum(self.found)
        days = np.asarray(self.hours) / 24.0
        sink.put("days_undetected.mean", float(days.mean()) if days.size else nan)
        sink.put("days_undetected.p90", float(np.quantile(days, 0.9)) if days.size else nan)
        sink.put("found_before_growth_share", 1.0 - self.grew / total if total else nan)
        for name, c in zip(self.names, self.found):
            sink.put(f"detected_share.{name}", c / total if total else nan)


DETECTION = Mechanism("detection", (DetectionChannel, Detection), used=lambda sc: sc.detection is not None,
                      problems=problems, describe=describe, runtime=DetectionRuntime)
