"""Paired comparison of scenarios with common random numbers.

Every scenario is run with the same seed and replication numbers, so replication ``i`` of
each sees the same arrivals and handling-time uniforms. The difference of each metric to
the first scenario is then paired by replication, and its t interval is much tighter than
the difference of two independent intervals.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from ..format import fmt
from .comparability import Difference, affected, differences, warning_text
from .inputs import ScenarioLike, resolve_base, scenario_of
from .replicate import RunResult, execute, make_tasks
from .stats import paired_difference

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class CompareResult:
    """Runs of several scenarios and their paired differences to the first."""

    results: list[RunResult]

    @property
    def names(self) -> list[str]:
        return [r.scenario.name for r in self.results]

    @property
    def differences(self) -> list[Difference]:
        """Every difference in how the compared scenarios define their metrics (empty: like for like)."""
        return differences([r.scenario for r in self.results], [r.horizon_days for r in self.results])

    @property
    def warning(self) -> str:
        """The comparability warning ('' when every metric means the same in every scenario)."""
        return warning_text(self.differences)

    def comparability(self) -> dict[str, Any]:
        """For JSON and manifests: whether the comparison is like for like, and every difference."""
        diffs = self.differences
        return {"comparable": not diffs, "differences": [d.to_json() for d in diffs], "warning": self.warning}

    def table(self) -> pd.DataFrame:
        """Long table: scenario, metric, mean, ci_low, ci_high, n, the paired difference to the first, and
        ``definition_differs`` (the metric is defined differently in the compared scenarios)."""
        import pandas as pd

        base = self.results[0]
        diffs = self.differences
        rows = []
        for res in self.results:
            for row in res.summary.itertuples():
                d = paired_difference(base.replications[row.metric].to_numpy(), res.replications[row.metric].to_numpy(), metric=row.metric) \
                    if row.metric in base.replications else (float("nan"),) * 3 + (0,)
                significant = bool(d[1] > 0 or d[2] < 0) if d[3] > 1 else False
                rows.append({"scenario": res.scenario.name, "metric": row.metric, "mean": row.mean, "ci_low": row.ci_low,
                             "ci_high": row.ci_high, "n": row.n, "diff": d[0], "diff_ci_low": d[1], "diff_ci_high": d[2],
                             "significant": significant if res is not base else False,
                             "definition_differs": affected(row.metric, diffs)})
        return pd.DataFrame(rows)

    def wide_table(self, metrics: Sequence[str] | None = None, *, labels: bool = False,
                   percent: bool = False) -> pd.DataFrame:
        """One row per metric, a text cell per scenario and per paired difference (see :func:`wide`)."""
        return wide(self.table(), metrics, labels=labels, percent=percent)

    def to_json(self) -> dict:
        t = self.table()
        out: dict = {"baseline": self.names[0], "replications": len(self.results[0].records), "seed": self.results[0].seed,
                     "comparability": self.comparability(), "scenarios": {}}
        for name, grp in t.groupby("scenario", sort=False):
            out["scenarios"][name] = {
                r.metric: {k: (None if (isinstance(v, float) and v != v) else v) for k, v in
                           (("mean", r.mean), ("ci_low", r.ci_low), ("ci_high", r.ci_high), ("n", int(r.n)),
                            ("diff", r.diff), ("diff_ci_low", r.diff_ci_low), ("diff_ci_high", r.diff_ci_high),
                            ("significant", bool(r.significant)),
                            ("definition_differs", bool(r.definition_differs)))}
                for r in grp.itertuples()}
        return out


def compare(scenarios: Sequence[ScenarioLike], reps: int | None = None, seed: int | None = None, *,
            horizon_days: float | None = None, workers: int = 1, record_cases: bool | str = False,
            progress: Callable[[int], None] | None = None, executor: Any = None, scheduler: Any = None,
            out: str | Path | None = None, force: bool = False) -> CompareResult:
    """Run every scenario with the same seed and replications (common random numbers).

    ``scenarios``: Scenario objects, LoadedScenarios or file paths. ``record_cases``: True keeps
    per-case rows in memory; a folder streams them to one sub-folder per scenario. With
    ``out``, the results folder (the long table and one run folder per scenario, case rows
    included) is written atomically. ``executor``: 'local', 'dask' or an open Executor.
    """
    if not scenarios:
        raise ValueError("compare needs at least one scenario")
    scs = [scenario_of(s) for s in scenarios]
    check_distinct_names([s.name for s in scs])
    reps = reps or scs[0].replications
    seed = scs[0].seed if seed is None else seed
    spool = None
    if out is not None:
        from ..results import case_spool, check_new

        check_new(out, force)
        if not record_cases:
            spool = case_spool(out)
            record_cases = str(spool)

    def cases_for(s: Any) -> bool | str:
        return str(Path(record_cases) / s.name) if isinstance(record_cases, (str, Path)) else record_cases

    try:
        tasks = [t for s in scs for t in make_tasks(s, reps, seed, horizon_days, cases_for(s))]
        records = execute(tasks, workers, progress, executor=executor, scheduler=scheduler)
        results = []
        for i, s in enumerate(scs):
            recs = records[i * reps:(i + 1) * reps]
            results.append(RunResult(s, seed, horizon_days if horizon_days is not None else s.horizon_days, recs))
        res = CompareResult(results)
        if out is not None:
            from ..results import write_compare

            write_compare(out, res, [resolve_base(s) for s in scenarios], force=force)
    finally:
        if spool is not None:
            shutil.rmtree(spool, ignore_errors=True)
    return res


def wide(long: pd.DataFrame, metrics: Sequence[str] | None = None, *, labels: bool = False,
         percent: bool = False) -> pd.DataFrame:
    """The long comparison table (``compare.csv``) as one row per metric: ``mean [95% CI]`` per
    scenario and, after each scenario but the first, ``diff [95% CI]`` to the first, marked ``*``
    when the paired interval excludes zero; a metric defined differently in the scenarios
    (column ``definition_differs``) is marked ``†``. ``metrics`` picks and orders rows (default: all);
    ``labels`` puts the catalogue's short labels in the metric column; ``percent`` shows shares
    and utilisations as percentages."""
    import pandas as pd

    from .. import catalogue
    from ..format import metric_text

    names = list(dict.fromkeys(long["scenario"]))
    order = list(metrics) if metrics is not None else list(dict.fromkeys(long["metric"]))
    by = {(r["metric"], r["scenario"]): r for r in long.to_dict("records")}
    differs = set(long.loc[long["definition_differs"].astype(bool), "metric"]) if "definition_differs" in long else set()
    rows = []
    for metric in order:
        label = catalogue.short_label(metric) if labels else str(metric)
        row: dict[str, str] = {"metric": f"{label} {DAGGER}" if metric in differs else label}
        for i, n in enumerate(names):
            r = by.get((metric, n))
            diff = f"{n} − {names[0]}"
            if r is None:
                row[n] = "–"
                if i:
                    row[diff] = "–"
                continue
            def text(x: Any, signed: bool = False) -> str:
                return metric_text(metric, x, signed=signed) if percent else fmt(x)

            row[n] = f"{text(r['mean'])} [{text(r['ci_low'])}, {text(r['ci_high'])}]"
            if i and r["diff"] != r["diff"]:  # the first scenario has no such metric
                row[diff] = "–"
            elif i:
                star = " *" if bool(r.get("significant")) else ""
                row[diff] = (f"{text(r['diff'], True)} [{text(r['diff_ci_low'], True)}, "
                             f"{text(r['diff_ci_high'], True)}]{star}")
        rows.append(row)
    return pd.DataFrame(rows)


DAGGER = "†"


def check_distinct_names(names: Sequence[str]) -> None:
    """Results are keyed by scenario name, so compared scenarios must be named differently."""
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"compared scenarios must have different names; '{', '.join(dupes)}' appears more than once "
                         "(give a variant its own name:, e.g. in a file that extends the original)")
