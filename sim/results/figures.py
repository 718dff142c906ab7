"""The PNG figures of a results folder (what ``sim plot`` draws), from the one folder reader."""

from __future__ import annotations

from pathlib import Path

from .read import ResultsFolder, read_folder

DPI = 150


def service_metrics(names: set[str] | list[str]) -> list[str]:
    """The service metrics (in their usual order) among ``names``: what a sweep's service figure shows."""
    from ..catalogue import SERVICE

    present = set(names)
    return [m for m in SERVICE if m in present]


def plot_folder(folder: str | Path | ResultsFolder, out: str | Path | None = None) -> list[Path]:
    """Write every figure the folder's tables allow to ``out`` (default FOLDER/plots); return the files written.

    Run and compare folders give the funnel, time to settlement, backlog and hierarchy; sweep
    folders utilisation and service against the varied keys; staffing folders the frontier.
    """
    from .. import plots
    from ..hierarchy import build_hierarchy

    rf = folder if isinstance(folder, ResultsFolder) else read_folder(folder)
    dest = Path(out) if out is not None else rf.path / "plots"
    written: list[Path] = []

    def save(fig, name: str) -> None:
        dest.mkdir(parents=True, exist_ok=True)
        path = dest / name
        tmp = dest / f".{name}.tmp.png"
        fig.savefig(tmp, dpi=DPI, bbox_inches="tight")
        tmp.replace(path)
        written.append(path)

    sweep = rf.table("sweep")
    if sweep is not None:
        if any(str(m).startswith("utilisation.") for m in sweep["metric"]):
            save(plots.utilisation_vs_staff(sweep), "utilisation.png")
        service = service_metrics(set(sweep["metric"]))
        if service:
            save(plots.metric_vs_parameter(sweep, service, title="Service against the varied parameters"), "service.png")
    frontier = rf.table("frontier")
    if frontier is not None:
        metric, target = rf.first_target(frontier)
        save(plots.staffing_frontier(frontier, metric=metric, target=target), "frontier.png")
    if rf.kind not in ("run", "compare") or not rf.runs:
        return written
    reps, backlog, cases, targets, warmup, mechanisms, scenarios = {}, {}, {}, {}, {}, {}, {}
    for run in rf.runs:
        sc = run.scenario()
        scenarios[run.name] = sc
        r = run.table("replications")
        if r is not None:
            reps[run.name] = r
        b = run.table("backlog")
        if b is not None:
            backlog[run.name] = b
        c = run.table("cases")
        cases[run.name] = c if c is not None else r
        targets[run.name] = plots.target_lines(sc)
        warmup[run.name] = sc.warmup_days
        mechanisms.update(plots.mechanism_levels(sc))
    if reps:
        save(plots.settlement_funnel(reps, mechanisms=mechanisms), "funnel.png")
    if any(v is not None for v in cases.values()):
        save(plots.time_to_settlement({k: v for k, v in cases.items() if v is not None}, target_days=targets,
                                      warmup_days=warmup), "time_to_settlement.png")
    if backlog:
        save(plots.backlog_over_time(backlog, warmup_days=warmup), "backlog.png")
    for name, sc in scenarios.items():
        fname = "hierarchy.png" if len(scenarios) == 1 else f"hierarchy_{name}.png"
        save(plots.hierarchy(build_hierarchy(sc), mechanisms=plots.mechanism_levels(sc),
                             title=f"{sc.title or name}: governance hierarchy"), fname)
    return written
