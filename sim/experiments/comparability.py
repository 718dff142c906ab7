"""Whether compared scenarios measure their metrics the same way.

A paired difference is meaningful only if each metric means the same thing in every
scenario: ``within_target_share`` of a scenario with a 7-day target and of one with a
14-day target are two different shares. This module lists every difference in the
*definition* of the metrics (target days per severity, severities, levels, run length,
warm-up) and the metrics each difference affects, so that tables, JSON, results folders
and reports can say so.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Sequence

from ..format import fmt

ALL = "*"  # every metric is affected
BY_SEVERITY = ("within_target_share", "within_ceiling_share")
BY_LEVEL = ("within_ceiling_share", "unresolved_share")


@dataclass(frozen=True)
class Difference:
    """One aspect of the metrics' definition that differs between compared scenarios."""

    what: str  # e.g. "target days per severity"
    values: dict[str, str]  # scenario name -> its setting, as text
    metrics: tuple[str, ...]  # the affected metrics (ALL: every one)

    def affects(self, metric: str) -> bool:
        if ALL in self.metrics or metric in self.metrics:
            return True
        names = [m[1:] for m in self.metrics if m.startswith("@")]  # "@grid": every metric of the level grid
        return any(metric.endswith("." + n) or f".{n}." in metric for n in names)

    def text(self) -> str:
        settings = "; ".join(f"{name}: {value}" for name, value in self.values.items())
        shown = "every metric" if ALL in self.metrics else ", ".join(m.lstrip("@") for m in self.metrics)
        verb = "measures" if len(self.metrics) == 1 and ALL not in self.metrics else "measure"
        return f"{self.what} differ ({settings}), so {shown} {verb} different things"

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["metrics"] = list(self.metrics)
        doc["warning"] = self.text()
        return doc


def _targets_text(scenario: Any) -> str:
    t = scenario.target_days
    if t is None:
        return "none"
    return ", ".join(f"{sev} {fmt(scenario.target_for(sev))}" if scenario.target_for(sev) is not None else f"{sev} none"
                     for sev in scenario.severities)


def differences(scenarios: Sequence[Any], horizons: Sequence[float] | None = None) -> list[Difference]:
    """Every difference in the definition of metrics between ``scenarios`` (validated Scenario
    objects, compared under ``horizons`` days, default each one's ``horizon_days``)."""
    if len(scenarios) < 2:
        return []
    horizons = list(horizons) if horizons is not None else [s.horizon_days for s in scenarios]
    names = [s.name for s in scenarios]
    found: list[Difference] = []

    def check(what: str, texts: list[str], metrics: tuple[str, ...]) -> None:
        if len(set(texts)) > 1:
            found.append(Difference(what, dict(zip(names, texts)), metrics))

    check("severities", [", ".join(s.severities) for s in scenarios], BY_SEVERITY)
    check("target days per severity", [_targets_text(s) for s in scenarios], ("within_target_share",))
    level_names = [list(s.levels) for s in scenarios]
    check("levels", [" > ".join(lv) for lv in level_names],
          BY_LEVEL + tuple(f"@{lv}" for lv in sorted({n for lv in level_names for n in lv})))
    check("run length (days)", [fmt(h) for h in horizons], (ALL,))
    check("warm-up (days)", [fmt(s.warmup_days) for s in scenarios], (ALL,))
    return found


def affected(metric: str, diffs: Sequence[Difference]) -> bool:
    """Whether a metric's definition differs between the compared scenarios."""
    return any(d.affects(metric) for d in diffs)


def warning_text(diffs: Sequence[Difference]) -> str:
    """One paragraph naming each difference in definition ('' when there is none)."""
    if not diffs:
        return ""
    return ("Not like for like: " + "; ".join(d.text() for d in diffs)
            + ". Differences of the metrics marked † compare different definitions, not only different performance.")
