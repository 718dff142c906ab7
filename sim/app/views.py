"""What the page shows, built from the public API and results folders (no widgets here)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd


def describe_markdown(loaded: Any) -> str:
    """The ``sim describe`` content of a scenario as Markdown: what it is, its levels and staff."""
    sc = loaded.scenario
    rate = sc.arrivals.rate_per_household_year * sc.households
    lines = [f"### {sc.title or sc.name}", (sc.description or "").strip(), "",
             (f"{sc.households:,} households; {rate:,.0f} cases a year ({rate / 365:.1f} a day); "
              f"horizon {sc.horizon_days:g} days, warm-up {sc.warmup_days:g}; target {sc.target_days} days."), "",
             "| level | role | staff per unit | roster |", "|---|---|---|---|"]
    for name, lv in sc.levels.items():
        role = sc.roles[lv.role]
        roster = role.roster if isinstance(role.roster, str) else f"{len(role.roster.shifts)} shifts"
        lines.append(f"| {name} | {lv.role} | {role.staff_per_unit} | {roster} |")
    return "\n".join(lines)


def parameter_frame(loaded: Any, overrides: dict[str, Any] | None = None) -> pd.DataFrame:
    """Every parameter with its value and source: cited, assumed, missing, or changed on this page."""
    import sim

    rows = []
    for r in sim.parameter_table(loaded.data):
        if overrides and r["parameter"] in overrides:
            status = "override"
        elif r["assumption"]:
            status = "assumed"
        elif r["source"] == "(no source given)":
            status = "no source"
        else:
            status = "cited"
        rows.append({"parameter": r["parameter"], "value": str(r["value"]), "status": status, "source": r["source"]})
    return pd.DataFrame(rows)


def provenance_counts(params: pd.DataFrame) -> str:
    counts = params["status"].value_counts()
    return ", ".join(f"{int(counts[k])} {k}" for k in ("cited", "assumed", "no source", "override") if k in counts)


def hierarchy_png(loaded: Any) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import sim
    import sim.plots

    sc = loaded.scenario
    fig = sim.plots.hierarchy(sim.build_hierarchy(sc), mechanisms=sim.plots.mechanism_levels(sc),
                              title=f"{sc.title or sc.name}: governance hierarchy")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def headline_frame(folder: str | Path) -> pd.DataFrame:
    """Headline metrics of a results folder, one row per metric: short label, then mean and 95% interval
    per scenario (shares as percentages), so two scenarios fit side by side."""
    import sim
    from sim import catalogue

    rf = sim.read_folder(folder)
    summaries = {run.name: _summary(run.folder) for run in rf.runs}
    names = catalogue.select(list(dict.fromkeys(m for s in summaries.values() for m in s)))
    rows = []
    for name in names:
        row = {"label": catalogue.short_label(name), "metric": name}
        for scenario, metrics in summaries.items():
            m = metrics.get(name)
            row[scenario] = sim.metric_text(name, m["mean"]) if m else "–"
            row[f"{scenario} 95% interval"] = (
                f"{_bound(name, m['ci_low'])} – {_bound(name, m['ci_high'])}" if m else "–")
        rows.append(row)
    return pd.DataFrame(rows)


def _bound(name: str, value: float | None) -> str:
    """A confidence limit as text, moved inside the metric's bounds (a share's interval never below 0%)."""
    import sim
    from sim import catalogue

    return "–" if value is None else sim.metric_text(name, catalogue.clip(name, value))


def _summary(folder: Path) -> dict[str, dict[str, Any]]:
    import json

    return json.loads((Path(folder) / "summary.json").read_text(encoding="utf-8"))["metrics"]


def differences_frame(folder: str | Path) -> pd.DataFrame | None:
    """The paired differences of a comparison (headline metrics, short labels), None for a single run."""
    import sim
    from sim import catalogue

    rf = sim.read_folder(folder)
    long = rf.table("compare") if rf.kind == "compare" else None
    if long is None:
        return None
    names = catalogue.select(list(dict.fromkeys(long["metric"])))
    return sim.wide_table(long, names, labels=True, percent=True)


def utilisation_png(folder: str | Path) -> bytes | None:
    """Mean utilisation per role with its 95% interval, one group of bars per scenario."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import sim

    rf = sim.read_folder(folder)
    data = {run.name: {k.split(".", 1)[1]: v for k, v in _summary(run.folder).items() if k.startswith("utilisation.")}
            for run in rf.runs}
    roles = list(dict.fromkeys(r for d in data.values() for r in d))
    if not roles:
        return None
    fig, ax = plt.subplots(figsize=(8, 3.5))
    width = 0.8 / len(data)
    for i, (name, d) in enumerate(data.items()):
        xs = [j + i * width for j in range(len(roles))]
        means = [d.get(r, {}).get("mean") or 0.0 for r in roles]
        err = [[m - (d.get(r, {}).get("ci_low") or m) for m, r in zip(means, roles)],
               [(d.get(r, {}).get("ci_high") or m) - m for m, r in zip(means, roles)]]
        ax.bar(xs, means, width, yerr=err, capsize=3, label=name)
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(roles))], roles, rotation=20, ha="right")
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_ylabel("utilisation")
    ax.set_title("Utilisation per role (mean, 95% interval)")
    ax.legend(frameon=False)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def figure_files(folder: str | Path) -> dict[str, Path]:
    """The figures ``sim.plot_folder`` wrote, by name (funnel, time_to_settlement, backlog, frontier ...)."""
    return {p.stem: p for p in sorted((Path(folder) / "plots").glob("*.png"))}


def zip_bytes(folder: str | Path) -> bytes:
    """The whole results folder as a zip."""
    folder = Path(folder)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                z.write(p, p.relative_to(folder.parent))
    return buf.getvalue()


def csv_zip_bytes(folder: str | Path) -> bytes:
    """Every table of the Excel workbook as one CSV file each, zipped."""
    from sim.results.excel import sheets

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, (header, rows) in sheets(folder).items():
            z.writestr(f"{name.replace(' ', '_')}.csv", pd.DataFrame(rows, columns=header).to_csv(index=False))
    return buf.getvalue()


def report_bytes(folder: str | Path) -> bytes:
    import sim

    path = sim.write_report(folder)
    return Path(path).read_bytes()
