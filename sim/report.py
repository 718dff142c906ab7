"""A self-contained study report for a results folder, laid out after STRESS-DES.

STRESS-DES (Monks et al. 2019, "Strengthening the reporting of empirical simulation studies")
asks a report to state the objectives, the model logic, the data and every parameter with
its source, the experimentation (replications, warm-up, seeds, run length), how outputs and
their uncertainty are computed, and what is needed to rerun the study. This module reads a
run, compare, sweep or sensitivity folder (its ``manifest.json`` says which) and builds the
report as a list of sections, then renders it as Markdown (figures as PNG files beside it)
or as one HTML file with the figures embedded as base64 so it can be mailed.
"""

from __future__ import annotations

import base64
import html
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd

from . import catalogue
from .experiments.compare import wide as _compare_wide_table
from .format import fmt as _fmt
from .provenance import overrides_lines, parameter_table
from .results import RunFolder
from .results import read_folder as read_results_folder
from .results import read_json as _read_json
from .results.figures import service_metrics
from .scenario.loader import scenario_hash, validate_data

SECTIONS = ("1. Objectives", "2. Model logic", "3. Data: parameters and their sources", "4. Experimentation",
            "5. Outputs and how their uncertainty is computed", "6. Results", "7. Figures",
            "8. Reproduction: manifest")

RULES = ("A case arrives at the bottom unit (building) of its household. At each level it waits for a handler of "
         "that level's role (one queue per unit, or one shared queue for the level), is handled for a time drawn "
         "from the level's handling distribution for its severity (in the scenario's time unit), and is then settled "
         "with the level's settle probability for its severity, or passed to the parent unit. A case whose severity "
         "is above the level's ceiling is only triaged and referred up. If a level has a deadline, a case still "
         "waiting or in service when it passes is escalated at that moment. A case leaving the top level unsettled "
         "is recorded as unresolved. Staff work only when their roster has them on duty; availability thins the "
         "staff actually present. Arrivals are one Poisson stream (rate per household-year times households), "
         "thinned by weekday and hour factors, with severity and category drawn from the mixes.")


# --------------------------------------------------------------------------- document model
@dataclass
class Block:
    """One piece of a section: kind is 'p', 'table', 'image', 'code' or 'heading'."""

    kind: str
    content: Any
    caption: str = ""


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)

    def p(self, text: str) -> None:
        self.blocks.append(Block("p", text))

    def h(self, text: str) -> None:
        self.blocks.append(Block("heading", text))

    def table(self, df: pd.DataFrame, caption: str = "") -> None:
        self.blocks.append(Block("table", df, caption))

    def image(self, png: bytes, caption: str) -> None:
        self.blocks.append(Block("image", png, caption))

    def code(self, text: str, caption: str = "") -> None:
        self.blocks.append(Block("code", text, caption))


@dataclass
class Report:
    title: str
    kind: str
    sections: list[Section]


# --------------------------------------------------------------------------- reading a folder
def read_folder(folder: str | Path) -> tuple[str, dict[str, Any], list[RunFolder]]:
    """(kind, manifest, scenarios) of a results folder, from the one folder reader."""
    rf = read_results_folder(folder)
    return rf.kind, rf.manifest, rf.runs


# --------------------------------------------------------------------------- formatting


def _map_text(m: Any, fn=_fmt) -> str:
    if isinstance(m, Mapping):
        return "; ".join(f"{k}: {fn(v)}" for k, v in m.items())
    return fn(m)


def _png(fig: Any) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


# --------------------------------------------------------------------------- sections
def _objectives(kind: str, manifest: Mapping[str, Any], scns: list[RunFolder], folder: Path, objective: str | None) -> Section:
    s = Section(SECTIONS[0])
    if objective:
        s.p(objective)
    names = ", ".join(x.name for x in scns)
    if kind == "compare":
        s.p(f"Compare the governance models {names} on the same demand and random numbers, and estimate the "
            f"differences of each output to the first ({scns[0].name if scns else '?'}) with paired confidence intervals.")
    elif kind == "sensitivity":
        doc = _read_json(folder / "sensitivity.json") if (folder / "sensitivity.json").exists() else {}
        s.p(f"Find which parameters of {names} drive {', '.join(doc.get('metrics', []))}: a global sensitivity analysis "
            f"({doc.get('method', '?')}) over the ranges of {len(doc.get('factors', []))} parameters, so that "
            "conclusions can be checked against what is not known.")
    elif kind in ("sweep", "staffing", "frontier"):
        s.p(f"Explore how the outputs of {names} change over a grid of parameter values ({kind}).")
    else:
        s.p(f"Estimate how disputes are settled and escalated in {names}: where cases are settled, how long they take, "
            "how long they wait at each level and how busy the staff are.")
    for x in scns:
        title = x.data.get("title") or ""
        desc = (x.data.get("description") or "").strip()
        s.p(f"**{x.name}**{': ' + title if title else ''}" + (f" — {desc}" if desc else ""))
    return s


def _model(scns: list[RunFolder]) -> Section:
    from .hierarchy import build_hierarchy

    s = Section(SECTIONS[1])
    s.p(RULES)
    for x in scns:
        sc = validate_data(x.data, x.name)
        counts = build_hierarchy(sc, x.name).counts
        s.h(f"{x.name}: hierarchy, staff and rules")
        rate = sc.arrivals.rate_per_household_year * sc.households
        s.p(f"{sc.households:,} households, {_fmt(sc.arrivals.rate_per_household_year)} cases per household-year: "
            f"{rate:,.0f} cases a year ({rate / 365:.1f} a day). Handling and triage times are in {sc.time_unit}; "
            f"deadlines and targets in days. Target: {_map_text(x.data.get('target_days'))} days.")
        rows = []
        for i, (name, lv) in enumerate(sc.levels.items()):
            role = sc.roles[lv.role]
            roster = role.roster if isinstance(role.roster, str) else \
                "; ".join(f"{','.join(sh.days)} {sh.start:g}-{sh.end:g}h" + (f" x{sh.staff}" if sh.staff is not None else "")
                          for sh in role.roster.shifts)
            rows.append({"level (bottom to top)": name, "units": counts[i], "role": lv.role,
                         "staff per unit": role.staff_per_unit, "roster": roster, "availability": _fmt(role.availability),
                         "queue": lv.queue,
                         "handling": _value_text(lv.handling, sc.time_unit),
                         "settle": _map_text(lv.settle), "ceiling": lv.ceiling or "any",
                         "triage": lv.triage.describe(sc.time_unit) if lv.triage else "–",
                         "deadline (days)": _fmt(lv.deadline_days),
                         **({"volunteers": ", ".join(getattr(lv, "volunteers", []) or []) or "–"}
                            if any(getattr(v, "volunteers", None) for v in sc.levels.values()) else {})})
        s.table(pd.DataFrame(rows), f"{x.name}: levels, staff and rules")
        roles = [{"role": name, "staff per unit": r.staff_per_unit,
                  "roster": r.roster if isinstance(r.roster, str) else f"{len(r.roster.shifts)} shift(s)",
                  "availability": _fmt(r.availability), "hours per week": _fmt(getattr(r, "hours_per_week", None)),
                  "cost per year": _fmt(r.cost_per_year), "description": r.description}
                 for name, r in sc.roles.items()]
        s.table(pd.DataFrame(roles), f"{x.name}: roles (staff)")
        _mechanisms(s, x.name, sc)
        mix = pd.DataFrame({"severity": list(sc.arrivals.severity_mix), "share": [_fmt(v) for v in sc.arrivals.severity_mix.values()]})
        s.table(mix, f"{x.name}: severity mix of arriving cases")
        cat = pd.DataFrame({"category": list(sc.arrivals.category_mix), "share": [_fmt(v) for v in sc.arrivals.category_mix.values()]})
        s.table(cat, f"{x.name}: category mix")
    return s


def _mechanisms(s: Section, name: str, sc: Any) -> None:
    """Every mechanism the scenario uses (those the metric catalogue knows: meetings, pools, partners,
    channels, closed-loop rules ...), each explained by its schema docstring and listed item by item."""
    for group in catalogue.mechanism_groups():
        section = getattr(sc, group, None)
        if section is None or (isinstance(section, Mapping) and not section):
            continue
        items = section if isinstance(section, Mapping) else {"": section}  # one set of rules (closed loop)
        title = group.replace("_", " ")
        s.p(f"**{title.capitalize()}**: " + _schema_doc(type(next(iter(items.values())))))
        s.table(pd.DataFrame([_item_row(key, item, sc.time_unit) for key, item in items.items()]), f"{name}: {title}")


def _schema_doc(cls: type) -> str:
    """The docstrings of a schema class and its schema bases, as one paragraph."""
    from .scenario.fields import Strict

    docs = [c.__doc__ for c in cls.__mro__ if c.__doc__ and isinstance(c, type) and issubclass(c, Strict) and c is not Strict]
    return " ".join(" ".join(docs).split()).replace("``", "`")


def _item_row(key: str, item: Any, time_unit: str) -> dict[str, str]:
    """One table row of a mechanism item: its name, every field set, its description last."""
    row = {"name": key} if key else {}
    for field_name in type(item).model_fields:
        value = getattr(item, field_name)
        if value is not None and field_name != "description":
            row[field_name] = _value_text(value, time_unit)
    row["description"] = getattr(item, "description", "")
    return row


def _value_text(value: Any, time_unit: str) -> str:
    """A parameter value in words: a distribution by its own description (in the scenario's time unit), a
    roster by its number of shifts, a mapping as 'key: value; ...'."""
    if hasattr(value, "describe"):
        return value.describe(time_unit)
    if hasattr(value, "shifts"):
        return f"{len(value.shifts)} shift(s)"
    if hasattr(value, "model_dump"):
        value = value.model_dump(exclude_none=True)
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {_value_text(v, time_unit)}" for k, v in value.items())
    return _fmt(value)


def _parameters(scns: list[RunFolder]) -> Section:
    s = Section(SECTIONS[2])
    s.p("Every parameter of the resolved scenario (after `extends:` and `--set`), its value and its source: the "
        "`sources:` entry with the longest matching key-path prefix. Assumptions are marked; they are the "
        "parameters a sensitivity analysis should vary.")
    for x in scns:
        records = x.manifest.get("overrides") or []
        if records:
            s.p(f"{x.name}: overridden on the command line (`--set`), so the file's source describes the value "
                "replaced, not the value used: " + "; ".join(overrides_lines(records)) + ".")
        rows = parameter_table(x.data, records)
        df = pd.DataFrame([{"parameter": r["parameter"], "value": _fmt(r["value"]), "source": r["source"],
                            "assumption": "yes" if r["assumption"] else "no"} for r in rows])
        n_ass = sum(r["assumption"] for r in rows)
        s.table(df, f"{x.name}: {len(rows)} parameters, {n_ass} of them assumptions")
    return s


def _experiment(kind: str, manifest: Mapping[str, Any], scns: list[RunFolder], folder: Path) -> Section:
    s = Section(SECTIONS[3])
    rows = []
    for x in scns:
        m = x.manifest
        rows.append({"scenario": x.name, "replications": m.get("replications"), "seed": m.get("seed"),
                     "run length (days)": _fmt(m.get("horizon_days") or x.data.get("horizon_days")),
                     "warm-up (days)": _fmt(float(x.data.get("warmup_days", 0.0))),
                     "max open cases": x.data.get("max_open_cases", 200000)})
    if rows:
        s.table(pd.DataFrame(rows), "Replications, seeds, run length and warm-up")
    s.p("Each replication starts empty on a Monday at 00:00 and runs for the run length; cases arriving during the "
        "warm-up are simulated but left out of every output. Replication r of seed s draws every random stream from "
        "numpy's SeedSequence(s, spawn_key=(r, crc32(stream name))), so replications are independent and a rerun "
        "with the same scenario and seed gives identical results, whatever the number of worker processes.")
    if kind == "compare":
        s.p("Common random numbers: every scenario is run with the same seed and replication numbers, so replication r "
            "of each sees the same arrivals and the same uniforms for handling times and outcomes.")
    if kind == "sensitivity" and (folder / "sensitivity.json").exists():
        doc = _read_json(folder / "sensitivity.json")
        s.p(f"Design: SALib {doc['method']} with {doc['samples']} "
            f"{'trajectories on a ' + str(doc.get('levels')) + '-level grid' if doc['method'] == 'morris' else 'base samples (Saltelli scheme, first and total order)'}"
            f", {doc['design_points']} model points; every point is the scenario with the parameter values set, run for "
            f"{doc['replications']} replications of {_fmt(doc['horizon_days'])} days with seed {doc['seed']} (the same at "
            "every point: common random numbers); the model output at a point is the mean over its replications. "
            "Integer parameters (staff, units) are rounded; triangular low/mode/high are put back in order.")
        s.table(pd.DataFrame(doc["factors"]), "Parameters varied and their ranges")
        if doc.get("skipped"):
            s.table(pd.DataFrame(doc["skipped"]), "Assumed parameters not varied, and why")
    return s


def _outputs(kind: str, metrics: Iterable[str]) -> Section:
    s = Section(SECTIONS[4])
    s.p("Each output is computed per replication from the cases that arrived after the warm-up. Its estimate is the "
        "mean over the n replications and its 95% confidence interval the t-interval mean ± t(0.975, n−1)·s/√n, "
        "where s is the standard deviation across replications (replications are independent, so this is valid "
        "whatever the distribution of cases within a run).")
    if kind == "compare":
        s.p("Differences to the first scenario are paired by replication (common random numbers): the interval is the "
            "t-interval of the n per-replication differences; a difference is marked significant when it excludes 0.")
    if kind == "sensitivity":
        s.p("Sensitivity indices come from SALib. Morris: mu* is the mean absolute elementary effect (the change of the "
            "output when one parameter moves by the grid step, scaled to the whole range), sigma its standard deviation "
            "(non-linearity or interactions), mu_star_conf the 95% bootstrap half-width of mu*. Sobol: S1 is the share "
            "of output variance due to the parameter alone, ST including its interactions; *_conf are 95% bootstrap "
            "half-widths. A parameter whose index is within its conf of zero is indistinguishable from no influence. "
            "These intervals reflect the spread of the design, not the replication noise of each point; every "
            "point uses the same seed (common random numbers), which removes most of that noise, except for "
            "parameters that change the number of arrivals (rate, households), whose indices carry some of it.")
    rows = [{"output": m, "meaning": catalogue.meaning(m), "unit": catalogue.unit(m), "bounds": catalogue.bounds_text(m),
             "headline": "yes" if catalogue.is_headline(m) else ""} for m in metrics]
    if rows:
        s.table(pd.DataFrame(rows), "Outputs (headline: shown by default in the command-line tables)")
    return s


def _results_and_figures(kind: str, folder: Path, scns: list[RunFolder], figures: bool = True) -> tuple[Section, Section, list[str]]:
    res, figs = Section(SECTIONS[5]), Section(SECTIONS[6])
    metrics: list[str] = []
    if kind == "sensitivity":
        df = pd.read_csv(folder / "sensitivity.csv")
        metrics = list(dict.fromkeys(df["metric"]))
        for m in metrics:
            sub = df[df["metric"] == m].drop(columns="metric")
            res.table(_round(sub), f"Sensitivity of {m}, most influential first")
        if (folder / "sensitivity.png").exists() and figures:
            figs.image((folder / "sensitivity.png").read_bytes(), "Sensitivity indices with 95% bootstrap intervals")
    elif kind == "compare" and (folder / "compare.csv").exists():
        df = pd.read_csv(folder / "compare.csv")
        metrics = list(dict.fromkeys(df["metric"]))
        wide = _compare_wide(df)
        warning = _comparability_warning(folder)
        if warning:
            res.p(f"**† {warning}**")
        res.table(wide, "Mean [95% CI] of each scenario; paired difference to the first [95% CI], * if it excludes 0"
                  + ("; † defined differently in the compared scenarios" if warning else ""))
    else:
        for x in scns:
            if (x.folder / "summary.csv").exists():
                df = pd.read_csv(x.folder / "summary.csv")
                metrics += [m for m in df["metric"] if m not in metrics]
                res.table(_round(df), f"{x.name}: mean and 95% t confidence interval over replications")
    for csv in sorted(folder.glob("*.csv")):  # tables of other kinds of folders (sweep, frontier)
        if kind in ("sensitivity", "compare") or csv.name in ("summary.csv", "replications.csv", "backlog.csv"):
            continue
        df = pd.read_csv(csv)
        if "metric" in df.columns:
            metrics += [m for m in dict.fromkeys(df["metric"]) if m not in metrics]
        res.table(_round(df.head(400)), f"{csv.name}" + (f" (first 400 of {len(df)} rows)" if len(df) > 400 else ""))
    if not res.blocks:
        res.p("No result tables were found in this folder.")
    if figures:
        _figures(kind, folder, scns, figs)
        for png in sorted(folder.glob("*.png")):
            if png.name != "sensitivity.png":
                figs.image(png.read_bytes(), png.name)
    if not figs.blocks:
        figs.p("No figures were drawn for this folder." if figures else "Figures left out (--no-figures).")
    return res, figs, metrics


def _figures(kind: str, folder: Path, scns: list[RunFolder], figs: Section) -> None:
    """Figures from sim.plots for run, compare, sweep and frontier folders; a figure that cannot be drawn is
    noted, not fatal."""
    from . import plots

    if (folder / "sweep.csv").exists() or (folder / "frontier.csv").exists():
        _table_figures(folder, figs)
    if kind not in ("run", "compare") or not scns:
        return

    reps = {x.name: pd.read_csv(x.folder / "replications.csv") for x in scns if (x.folder / "replications.csv").exists()}
    backlog = {x.name: pd.read_csv(x.folder / "backlog.csv") for x in scns if (x.folder / "backlog.csv").exists()}
    warm = {x.name: float(x.data.get("warmup_days", 0.0)) for x in scns}
    targets = {x.name: plots.target_lines(validate_data(x.data, x.name)) for x in scns}
    cases = {x.name: pd.read_parquet(x.folder / "cases.parquet") if (x.folder / "cases.parquet").exists() else reps[x.name]
             for x in scns if x.name in reps}
    mechanisms: dict[str, str] = {}
    for x in scns:  # meetings, pools and partners are drawn beside the level they sit at
        mechanisms.update(plots.mechanism_levels(validate_data(x.data, x.name)))
    tries = [("Where disputes are settled: share of closed cases by level (95% CI)",
              lambda: plots.settlement_funnel(reps, mechanisms=mechanisms)),
             ("Time to settlement", lambda: plots.time_to_settlement(cases, target_days=targets, warmup_days=warm)),
             ("Backlog of open cases over time (mean and 95% CI over replications)",
              lambda: plots.backlog_over_time(backlog, warmup_days=warm))]
    if kind == "run":
        from .hierarchy import build_hierarchy

        sc = validate_data(scns[0].data, scns[0].name)
        tries.insert(0, ("The hierarchy", lambda: plots.hierarchy(build_hierarchy(sc, scns[0].name), mechanisms=mechanisms)))
    for caption, draw in tries:
        if caption.startswith("Backlog") and not backlog or not caption.startswith(("Backlog", "The hierarchy")) and not reps:
            continue
        try:
            figs.image(_png(draw()), caption)
        except Exception as exc:  # a report without one figure is still a report
            figs.p(f"({caption}: not drawn: {type(exc).__name__}: {exc})")


def _table_figures(folder: Path, figs: Section) -> None:
    from . import plots

    tries = []
    if (folder / "sweep.csv").exists():
        sweep = pd.read_csv(folder / "sweep.csv")
        metrics = set(sweep["metric"])
        if any(catalogue.unit(str(m)) == catalogue.RATIO for m in metrics):
            tries.append(("Utilisation against the varied parameters (95% CI)", lambda: plots.utilisation_vs_staff(sweep)))
        service = service_metrics(metrics)
        if service:
            tries.append(("Service against the varied parameters (95% CI)", lambda: plots.metric_vs_parameter(sweep, service)))
    if (folder / "frontier.csv").exists():
        frontier = pd.read_csv(folder / "frontier.csv")
        tries.append(("Staffing frontier", lambda: plots.staffing_frontier(frontier)))
    for caption, draw in tries:
        try:
            figs.image(_png(draw()), caption)
        except Exception as exc:  # a report without one figure is still a report
            figs.p(f"({caption}: not drawn: {type(exc).__name__}: {exc})")


def _round(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_float_dtype(out[c]):
            out[c] = [_fmt(float(v)) for v in out[c]]
    return out


def _comparability_warning(folder: Path) -> str:
    """The warning compare.json gives when the compared scenarios define metrics differently."""
    try:
        doc = _read_json(folder / "compare.json")
    except (OSError, ValueError):
        return ""
    return str((doc.get("comparability") or {}).get("warning") or "")


def _compare_wide(df: pd.DataFrame) -> pd.DataFrame:
    return _compare_wide_table(df)


def _manifest(kind: str, manifest: Mapping[str, Any], scns: list[RunFolder], folder: Path) -> Section:
    import yaml

    s = Section(SECTIONS[7])
    versions = manifest.get("versions") or (scns[0].manifest.get("versions") if scns else {}) or {}
    s.table(pd.DataFrame([{"package": k, "version": v} for k, v in versions.items()]), "Software versions")
    rows = []
    for x in scns:
        h = scenario_hash(x.data)
        stored = x.manifest.get("scenario_hash")
        rows.append({"scenario": x.name, "file": x.manifest.get("scenario_file", "?"), "hash": h,
                     "hash in manifest": stored or "–", "matches": "yes" if stored in (None, h) else "NO"})
    s.table(pd.DataFrame(rows), "Scenario hashes (sha256 of the resolved scenario, first 16 hex digits)")
    s.p("To rerun: save the resolved scenario below as a YAML file (it is also in manifest.json under `scenario`); "
        "its hash must equal the one above. Then run the command, with the versions listed.")
    cmds = []
    if manifest.get("command"):
        cmds.append(str(manifest["command"]))
    elif kind == "run" and scns:
        m = scns[0].manifest
        cmds.append(f"sim run {scns[0].name}.yaml --seed {m.get('seed')} --reps {m.get('replications')} "
                    f"--horizon-days {_fmt(m.get('horizon_days'))} --out {folder.name}")
    elif kind == "compare" and scns:
        m = scns[0].manifest
        cmds.append(f"sim compare {' '.join(x.name + '.yaml' for x in scns)} --seed {m.get('seed')} "
                    f"--reps {m.get('replications')} --horizon-days {_fmt(m.get('horizon_days'))} --out {folder.name}")
    elif kind == "sweep" and scns and manifest.get("grid"):
        grid = " ".join(f"--grid {k}={','.join(str(v) for v in vals)}" for k, vals in manifest["grid"].items())
        h = f" --horizon-days {_fmt(manifest['horizon_days'])}" if manifest.get("horizon_days") else ""
        cmds.append(f"sim sweep {scns[0].name}.yaml {grid} --seed {manifest.get('seed')} "
                    f"--reps {manifest.get('replications')}{h} --out {folder.name}")
    if cmds:
        s.code("\n".join(cmds), "Command")
    extra = {k: v for k, v in manifest.items() if k not in ("scenario", "versions", "command")}
    s.code(json.dumps(extra, indent=2, ensure_ascii=False, default=str), "manifest.json (without the scenario)")
    for x in scns:
        s.code(yaml.safe_dump(x.data, allow_unicode=True, sort_keys=False), f"{x.name}.yaml: the resolved scenario")
    return s


def build_report(folder: str | Path, objective: str | None = None, figures: bool = True) -> Report:
    """Read a results folder and lay out its STRESS-DES report (``figures=False``: tables and text only)."""
    folder = Path(folder)
    kind, manifest, scns = read_folder(folder)
    res, figs, metrics = _results_and_figures(kind, folder, scns, figures)
    names = " vs ".join(x.name for x in scns) or folder.name
    sections = [_objectives(kind, manifest, scns, folder, objective), _model(scns), _parameters(scns),
                _experiment(kind, manifest, scns, folder), _outputs(kind, metrics), res, figs,
                _manifest(kind, manifest, scns, folder)]
    return Report(f"Study report: {names} ({kind})", kind, sections)


# --------------------------------------------------------------------------- rendering
def _md_cell(v: Any) -> str:
    return str(v).replace("|", "\\|").replace("\n", " ")


def _md_table(df: pd.DataFrame) -> str:
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(_md_cell(c) for c in cols) + " |", "|" + "---|" * len(cols)]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(_md_cell(_fmt(v)) for v in row) + " |")
    return "\n".join(lines)


def render_markdown(report: Report, figure_dir: str = "report-figures") -> tuple[str, dict[str, bytes]]:
    """Markdown text and the figures it links to ({relative path: PNG bytes})."""
    out = [f"# {report.title}", "", "_Laid out after the STRESS-DES reporting guideline (Monks et al., 2019)._", ""]
    files: dict[str, bytes] = {}
    for sec in report.sections:
        out += [f"## {sec.title}", ""]
        for b in sec.blocks:
            if b.kind == "p":
                out += [b.content, ""]
            elif b.kind == "heading":
                out += [f"### {b.content}", ""]
            elif b.kind == "table":
                if b.caption:
                    out += [f"**{b.caption}**", ""]
                out += [_md_table(b.content), ""]
            elif b.kind == "image":
                name = f"{figure_dir}/figure-{len(files) + 1}.png"
                files[name] = b.content
                out += [f"![{b.caption}]({name})", "", f"_{b.caption}_", ""]
            elif b.kind == "code":
                if b.caption:
                    out += [f"**{b.caption}**", ""]
                out += ["```", b.content.rstrip("\n"), "```", ""]
    return "\n".join(out), files


_CSS = """body{font-family:system-ui,sans-serif;max-width:70em;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.85em}th,td{border:1px solid #ccc;padding:.2em .5em;
vertical-align:top}th{background:#f2f2f2}caption{text-align:left;font-weight:bold;padding:.3em 0}
pre{background:#f7f7f7;padding:.8em;overflow-x:auto;font-size:.8em}img{max-width:100%}figure{margin:1em 0 2em}
figcaption{font-style:italic;font-size:.9em}"""


def _inline_html(text: str) -> str:
    """Escape a paragraph and turn the markdown used in paragraphs (**bold**, `code`) into HTML."""
    import re

    out = html.escape(text)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", out)


def render_html(report: Report) -> str:
    """One HTML file with every figure embedded as a base64 PNG."""
    e = html.escape
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">', f"<title>{e(report.title)}</title>",
           f"<style>{_CSS}</style></head><body>", f"<h1>{e(report.title)}</h1>",
           "<p><em>Laid out after the STRESS-DES reporting guideline (Monks et al., 2019).</em></p>"]
    for sec in report.sections:
        out.append(f"<h2>{e(sec.title)}</h2>")
        for b in sec.blocks:
            if b.kind == "p":
                out.append(f"<p>{_inline_html(b.content)}</p>")
            elif b.kind == "heading":
                out.append(f"<h3>{e(b.content)}</h3>")
            elif b.kind == "table":
                df = b.content
                rows = ["<tr>" + "".join(f"<th>{e(str(c))}</th>" for c in df.columns) + "</tr>"]
                for row in df.itertuples(index=False):
                    rows.append("<tr>" + "".join(f"<td>{e(_fmt(v))}</td>" for v in row) + "</tr>")
                cap = f"<caption>{e(b.caption)}</caption>" if b.caption else ""
                out.append(f"<table>{cap}{''.join(rows)}</table>")
            elif b.kind == "image":
                data = base64.b64encode(b.content).decode("ascii")
                out.append(f'<figure><img alt="{e(b.caption)}" src="data:image/png;base64,{data}">'
                           f"<figcaption>{e(b.caption)}</figcaption></figure>")
            elif b.kind == "code":
                cap = f"<p><strong>{e(b.caption)}</strong></p>" if b.caption else ""
                out.append(f"{cap}<pre>{e(b.content)}</pre>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def write_report(folder: str | Path, fmt: str = "html", out: str | Path | None = None, objective: str | None = None,
                 figures: bool = True) -> Path:
    """Write the report of a results folder (default: FOLDER/report.md or FOLDER/report.html), atomically."""
    from .results import atomic_write_bytes, atomic_write_text

    if fmt not in ("md", "html"):
        raise ValueError("format must be md or html")
    folder = Path(folder)
    report = build_report(folder, objective, figures)
    target = Path(out) if out else folder / f"report.{fmt}"
    if fmt == "html":
        atomic_write_text(target, render_html(report))
    else:
        fig_dir = f"{target.stem}-figures"
        text, files = render_markdown(report, fig_dir)
        for rel, data in files.items():
            atomic_write_bytes(target.parent / rel, data)
        atomic_write_text(target, text)
    return target
