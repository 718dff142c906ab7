"""Paired comparison of scenarios with common random numbers.

Every scenario is run with the same seed and replication numbers, so replication ``i`` of
each sees the same arrivals and handling-time uniforms. The difference of each metric to
the first scenario is then paired by replication, and its t interval is much tighter than
the difference of two independent intervals.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import pandas as pd

from ..scenario.schema import Scenario
from .replicate import RunResult, execute, make_tasks
from .stats import paired_difference


@dataclass
class CompareResult:
    """Runs of several scenarios and their paired differences to the first."""

    results: list[RunResult]

    @property
    def names(self) -> list[str]:
        return [r.scenario.name for r in self.results]

    def table(self) -> pd.DataFrame:
        """Long table: scenario, metric, mean, ci_low, ci_high, n, and the paired difference to the first."""
        base = self.results[0]
        rows = []
        for res in self.results:
            for row in res.summary.itertuples():
                d = paired_difference(base.replications[row.metric].to_numpy(), res.replications[row.metric].to_numpy()) \
                    if row.metric in base.replications else (float("nan"),) * 3 + (0,)
                significant = bool(d[1] > 0 or d[2] < 0) if d[3] > 1 else False
                rows.append({"scenario": res.scenario.name, "metric": row.metric, "mean": row.mean, "ci_low": row.ci_low,
                             "ci_high": row.ci_high, "n": row.n, "diff": d[0], "diff_ci_low": d[1], "diff_ci_high": d[2],
                             "significant": significant if res is not base else False})
        return pd.DataFrame(rows)

    def to_json(self) -> dict:
        t = self.table()
        out: dict = {"baseline": self.names[0], "replications": len(self.results[0].records), "seed": self.results[0].seed,
                     "scenarios": {}}
        for name, grp in t.groupby("scenario", sort=False):
            out["scenarios"][name] = {
                r.metric: {k: (None if (isinstance(v, float) and v != v) else v) for k, v in
                           (("mean", r.mean), ("ci_low", r.ci_low), ("ci_high", r.ci_high), ("n", int(r.n)),
                            ("diff", r.diff), ("diff_ci_low", r.diff_ci_low), ("diff_ci_high", r.diff_ci_high),
                            ("significant", bool(r.significant)))}
                for r in grp.itertuples()}
        return out


def compare(scenarios: Sequence[Scenario], reps: int | None = None, seed: int | None = None, *,
            horizon_days: float | None = None, workers: int = 1, record_cases: bool | str = False,
            progress: Callable[[int], None] | None = None) -> CompareResult:
    """Run every scenario with the same seed and replications (common random numbers).

    ``record_cases``: True keeps per-case rows in memory; a folder streams them to one
    sub-folder per scenario.
    """
    if not scenarios:
        raise ValueError("compare needs at least one scenario")
    check_distinct_names([s.name for s in scenarios])
    reps = reps or scenarios[0].replications
    seed = scenarios[0].seed if seed is None else seed
    def cases_for(s: Scenario) -> bool | str:
        return str(Path(record_cases) / s.name) if isinstance(record_cases, (str, Path)) else record_cases

    tasks = [t for s in scenarios for t in make_tasks(s, reps, seed, horizon_days, cases_for(s))]
    records = execute(tasks, workers, progress)
    results = []
    for i, s in enumerate(scenarios):
        recs = records[i * reps:(i + 1) * reps]
        results.append(RunResult(s, seed, horizon_days if horizon_days is not None else s.horizon_days, recs))
    return CompareResult(results)


def check_distinct_names(names: Sequence[str]) -> None:
    """Results are keyed by scenario name, so compared scenarios must be named differently."""
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"compared scenarios must have different names; '{', '.join(dupes)}' appears more than once "
                         "(give a variant its own name:, e.g. in a file that extends the original)")
