"""The page: scenario choice and changes on the left, what each scenario is, results, staffing search
and downloads in tabs. ``build()`` returns it for ``sim app`` or a notebook cell."""

from __future__ import annotations

import io
import tempfile
import time
from pathlib import Path
from typing import Any

import panel as pn

from . import views
from .inputs import Inputs, load, scenario_files
from .jobs import Job, new_folder, run_job, staff_job

NONE = "(none)"
FIGURES = (("funnel", "Settlement funnel"), ("time_to_settlement", "Time to settle, with the target"),
           ("backlog", "Backlog (open cases)"))


class Planner:
    """The widgets and callbacks of one browser session."""

    def __init__(self, results_root: Path | None = None) -> None:
        self.files = scenario_files()
        self.root = results_root or Path(tempfile.mkdtemp(prefix="sim-app-"))
        self.job: Job | None = None
        self.folder: str | None = None
        self.staff_folder: str | None = None
        self.started = 0.0
        self.runs_done = 0
        names = list(self.files)
        first = "fangxing" if "fangxing" in names else names[0]
        self.first = pn.widgets.Select(name="Scenario", options=names, value=first, css_classes=["scenario-a"])
        self.second = pn.widgets.Select(name="Compare with", options=[NONE, *names], value=NONE,
                                        css_classes=["scenario-b"])
        self.staff_box = pn.Column()
        self.staff_inputs: dict[str, pn.widgets.IntInput] = {}
        self.demand = pn.widgets.FloatInput(name="Demand (× arrivals per household)", value=1.0, start=0.05, end=20,
                                            step=0.1, css_classes=["demand"])
        self.target = pn.widgets.FloatInput(name="Target days", value=None, start=0.1, end=3650, step=1,
                                            css_classes=["target-days"])
        self.horizon = pn.widgets.FloatInput(name="Horizon (days)", value=None, start=1, end=3650, step=10,
                                             css_classes=["horizon"])
        self.reps = pn.widgets.IntInput(name="Replications", value=10, start=2, end=500, css_classes=["reps"])
        self.seed = pn.widgets.IntInput(name="Seed", value=None, start=0, css_classes=["seed"])
        self.run_button = pn.widgets.Button(name="Run", button_type="primary", css_classes=["run"])
        self.cancel_button = pn.widgets.Button(name="Cancel", button_type="danger", disabled=True, css_classes=["cancel"])
        self.bar = pn.indicators.Progress(name="progress", value=0, max=100, bar_color="primary", sizing_mode="stretch_width")
        self.status = pn.pane.Markdown("Pick a scenario, change what you want, press **Run**.", css_classes=["status"])
        self.changes = pn.pane.Markdown("", css_classes=["overrides"])
        self.about = pn.Column(sizing_mode="stretch_width")
        self.results = pn.Column(pn.pane.Markdown("No results yet."), sizing_mode="stretch_width", css_classes=["results"])
        self.vary_role = pn.widgets.Select(name="Vary staff of", options=[])
        self.vary_range = pn.widgets.IntRangeSlider(name="from – to (per unit)", start=0, end=20, value=(2, 8))
        self.goal = pn.widgets.FloatInput(name="Share settled within target at least", value=0.8, start=0.0, end=1.0, step=0.05)
        self.staff_button = pn.widgets.Button(name="Search staffing", button_type="primary", css_classes=["staff"])
        self.staffing = pn.Column(pn.pane.Markdown("No search yet."), sizing_mode="stretch_width")
        self.downloads = pn.Column(pn.pane.Markdown("Run first: downloads appear here."), css_classes=["downloads"])
        self.first.param.watch(self._scenario_changed, "value")
        for w in (self.demand, self.target):
            w.param.watch(lambda e: self._show_changes(), "value")
        self.run_button.on_click(lambda e: self._start(run_job, "run"))
        self.staff_button.on_click(lambda e: self._start_staff())
        self.cancel_button.on_click(lambda e: self._cancel())
        self._scenario_changed()

    # ------------------------------------------------------------------ inputs
    def paths(self) -> tuple[str, ...]:
        out = [self.files[self.first.value]]
        if self.second.value != NONE and self.second.value != self.first.value:
            out.append(self.files[self.second.value])
        return tuple(out)

    def inputs(self) -> Inputs:
        return Inputs(self.paths(), {r: int(w.value) for r, w in self.staff_inputs.items() if w.value is not None},
                      float(self.demand.value or 1.0), self.target.value, self.horizon.value, self.reps.value,
                      self.seed.value)

    def _scenario_changed(self, *_: Any) -> None:
        base = load(self.files[self.first.value])
        self.base = base
        self.staff_inputs = {}
        for role, spec in base.data["roles"].items():
            w = pn.widgets.IntInput(name=f"staff per unit: {role}", value=int(spec["staff_per_unit"]), start=0,
                                    end=100000, css_classes=[f"staff-{role}"])
            w.param.watch(lambda e: self._show_changes(), "value")
            self.staff_inputs[role] = w
        self.staff_box.objects = list(self.staff_inputs.values())
        if isinstance(base.data.get("target_days"), (int, float)):
            self.target.value = float(base.data["target_days"])
        self.horizon.value = float(base.data.get("horizon_days") or 365)
        self.vary_role.options = list(self.staff_inputs)
        self.vary_role.value = "grid_worker" if "grid_worker" in self.staff_inputs else next(iter(self.staff_inputs))
        self._show_about()
        self._show_changes()

    def _show_changes(self) -> None:
        ov = self.inputs().overrides(self.base.data)
        if not ov:
            self.changes.object = "**Overrides:** none (the scenario file as written)."
            return
        lines = [f"- `{k}` = **{v:g}** (file: {_get(self.base.data, k)})" if isinstance(v, float) else
                 f"- `{k}` = **{v}** (file: {_get(self.base.data, k)})" for k, v in ov.items()]
        self.changes.object = "**Overrides** (changed from the file):\n" + "\n".join(lines)

    def _show_about(self) -> None:
        items = []
        for path in self.paths():
            loaded = load(path)
            params = views.parameter_frame(loaded)
            items += [pn.pane.Markdown(views.describe_markdown(loaded), sizing_mode="stretch_width"),
                      pn.pane.PNG(io.BytesIO(views.hierarchy_png(loaded)), width=700),
                      pn.pane.Markdown(f"**Figures and their sources:** {views.provenance_counts(params)}"),
                      pn.widgets.Tabulator(params, disabled=True, show_index=False, height=300, pagination=None,
                                           sizing_mode="stretch_width", layout="fit_data_table")]
        self.about.objects = items

    # ------------------------------------------------------------------ jobs
    def _start(self, target: Any, stem: str, *extra: Any) -> None:
        if self.job is not None and self.job.alive():
            return
        out = new_folder(self.root, stem)
        self.job = Job(target, self.inputs(), *extra, out)
        self.kind = stem
        self.started = time.perf_counter()
        self.bar.value = 0
        self.status.object = "Running… (the page stays usable; **Cancel** stops the run)"
        self.run_button.disabled = self.staff_button.disabled = True
        self.cancel_button.disabled = False
        self.poller = pn.state.add_periodic_callback(self._poll, period=250)

    def _start_staff(self) -> None:
        lo, hi = self.vary_range.value
        vary = {f"roles.{self.vary_role.value}.staff_per_unit": list(range(int(lo), int(hi) + 1))}
        self._start(staff_job, "staff", vary, [f"within_target_share>={self.goal.value}"])

    def _finish(self, message: str) -> None:
        self.poller.stop()
        self.run_button.disabled = self.staff_button.disabled = False
        self.cancel_button.disabled = True
        self.status.object = message

    def _poll(self) -> None:
        job = self.job
        if job is None:
            return
        for msg in job.poll():
            if msg[0] == "progress":
                self.bar.value = int(100 * msg[1] / max(msg[2], 1))
            elif msg[0] == "done":
                self.bar.value = 100
                if self.kind == "run":
                    self.folder = msg[1]
                    self._show_results(msg[1])
                else:
                    self.staff_folder = msg[1]
                    self._show_staffing(msg[1])
                self.runs_done += 1
                self._finish(f"Done in {time.perf_counter() - self.started:.1f} s (run {self.runs_done}).")
                self.job = None
                return
            elif msg[0] == "error":
                self._finish(f"**The run failed:** {msg[1]}")
                self.job = None
                return
        if not job.alive():
            self._finish("The run stopped without results.")
            self.job = None

    def _cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.job = None
            self._finish("Cancelled: nothing was written.")
            self.bar.value = 0

    # ------------------------------------------------------------------ results
    def _show_results(self, folder: str) -> None:
        figs = views.figure_files(folder)
        headline = views.headline_frame(folder)
        items: list[Any] = [pn.pane.Markdown("### Headline metrics (mean and 95% interval over replications)"),
                            pn.pane.DataFrame(headline, index=False, sizing_mode="stretch_width",
                                              css_classes=["headline"])]
        diffs = views.differences_frame(folder)
        if diffs is not None:
            items += [pn.pane.Markdown("### Paired differences (common random numbers; * the interval excludes 0)"),
                      pn.pane.DataFrame(diffs, index=False, sizing_mode="stretch_width", css_classes=["differences"])]
        for stem, title in FIGURES:
            if stem in figs:
                items += [pn.pane.Markdown(f"### {title}"), pn.pane.PNG(str(figs[stem]), width=760)]
        util = views.utilisation_png(folder)
        if util is not None:
            items += [pn.pane.Markdown("### Utilisation per role"), pn.pane.PNG(io.BytesIO(util), width=760)]
        self.results.objects = items
        if hasattr(self, "tabs"):
            self.tabs.active = 1
        self._show_downloads(folder)

    def _show_staffing(self, folder: str) -> None:
        import sim

        figs = views.figure_files(folder)
        frontier = sim.read_folder(folder).table("frontier")
        items: list[Any] = []
        if "frontier" in figs:
            items.append(pn.pane.PNG(str(figs["frontier"]), width=760))
        if frontier is not None:
            items.append(pn.widgets.Tabulator(frontier, disabled=True, show_index=False, height=260,
                                              sizing_mode="stretch_width"))
        if hasattr(self, "tabs"):
            self.tabs.active = 2
        self.staffing.objects = items or [pn.pane.Markdown("The search found no points.")]
        self._show_downloads(self.folder or folder, staff=folder)

    def _show_downloads(self, folder: str, staff: str | None = None) -> None:
        from sim.results.excel import workbook_bytes

        def button(label: str, name: str, make: Any, css: str) -> pn.widgets.FileDownload:
            return pn.widgets.FileDownload(callback=lambda: io.BytesIO(make()), filename=name, label=label,
                                           button_type="light", css_classes=[css])

        stem = Path(folder).name
        items = [button("Results folder (zip)", f"{stem}.zip", lambda: views.zip_bytes(folder), "dl-zip"),
                 button("Tables (CSV, zipped)", f"{stem}-tables.zip", lambda: views.csv_zip_bytes(folder), "dl-csv"),
                 button("Tables (Excel)", f"{stem}.xlsx", lambda: workbook_bytes(folder), "dl-xlsx"),
                 button("Report (HTML)", f"{stem}-report.html", lambda: views.report_bytes(folder), "dl-report")]
        if staff or self.staff_folder:
            s = staff or self.staff_folder
            items.append(button("Staffing search (Excel)", f"{Path(s).name}.xlsx", lambda: workbook_bytes(s), "dl-staff"))
        self.downloads.objects = items

    # ------------------------------------------------------------------ layout
    def view(self) -> pn.viewable.Viewable:
        side = pn.Column("## Scenarios", self.first, self.second, "## Changes", self.staff_box, self.demand,
                         self.target, "## Run", self.horizon, self.reps, self.seed,
                         pn.Row(self.run_button, self.cancel_button), self.bar, self.status, self.changes, width=330)
        staffing = pn.Column(pn.pane.Markdown("Find the fewest staff per unit of one role that meet the target "
                                              "(on the lower 95% bound), with the other changes on the left."),
                             self.vary_role, self.vary_range, self.goal, self.staff_button, self.staffing)
        tabs = self.tabs = pn.Tabs(("What it is", self.about), ("Results", self.results), ("Staffing search", staffing),
                       ("Downloads", self.downloads), dynamic=False, sizing_mode="stretch_width")
        self.second.param.watch(lambda e: self._show_about(), "value")
        return pn.Row(side, tabs, sizing_mode="stretch_width")


def _get(data: dict[str, Any], dotted: str) -> Any:
    for key in dotted.split("."):
        data = data.get(key) if isinstance(data, dict) else None
    return data


def build(results_root: Path | None = None) -> pn.viewable.Viewable:
    """The planners' page (one per browser session, or one in a notebook cell)."""
    pn.extension("tabulator", notifications=False)
    return Planner(results_root).view()
