"""The figures: each plot function on a small result draws one series per scenario (or sweep
line), with labelled axes and values taken from the tables; `sim plot` writes its PNGs for run,
compare and sweep folders."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.container import BarContainer, ErrorbarContainer
from matplotlib.figure import Figure

from conftest import TEST_SCENARIOS, tiny
from sim import plots, run
from sim.cli import main as sim_main
from sim.experiments.compare import CompareResult
from sim.hierarchy import build_hierarchy
from sim.scenario import load_scenario_full, validate_data

LADDER = TEST_SCENARIOS / "ladder.yaml"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SHORT = {"horizon_days": 16, "warmup_days": 4}  # a few hundred cases per replication: fast


def _ladder(name: str, **over) -> object:
    return load_scenario_full(LADDER, {"name": name, **SHORT, **over}).scenario


@pytest.fixture(scope="module")
def runs():
    """Two ladder variants with recorded cases; a target of 3 hours so the ECDF crosses it."""
    a = run(_ladder("ladder_a", target_days=0.125), reps=3, seed=11, record_cases=True)
    b = run(_ladder("ladder_b", target_days=0.125, **{"roles.community_staff.staff_per_unit": 2}), reps=3, seed=11,
            record_cases=True)
    return [a, b]


def _labels_ok(ax) -> None:
    assert ax.get_xlabel().strip() and ax.get_ylabel().strip()


def _series(ax) -> list:
    return [ln for ln in ax.get_lines() if not ln.get_label().startswith("_")]


# --------------------------------------------------------------------------- funnel
def test_funnel_has_a_segment_per_level_and_a_bar_per_scenario(runs):
    fig = plots.settlement_funnel(CompareResult(runs))
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert [c.get_label() for c in bars] == ["building", "grid", "community", "unresolved"]
    assert all(len(c) == 2 for c in bars)
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert any("ladder_a" in n for n in names) and any("ladder_b" in n for n in names)
    assert ax.get_xlabel() and "share" in ax.get_xlabel()
    # widths are the mean shares over replications (first bar = first scenario, drawn at the top)
    reps = runs[0].replications
    assert bars[0][0].get_width() == pytest.approx(reps["settled_share.building"].mean())
    assert bars[1][0].get_x() == pytest.approx(reps["settled_share.building"].mean())
    # one CI per boundary between settled segments, per scenario
    assert sum(isinstance(c, ErrorbarContainer) for c in ax.containers) == 2 * 3


def test_funnel_sums_levels_above_the_third():
    rng = np.random.default_rng(1)
    shares = rng.dirichlet([5, 4, 3, 1, 1, 0.5], size=4)
    cols = ["settled_share.building", "settled_share.grid", "settled_share.community", "settled_share.street",
            "settled_share.district", "unresolved_share"]
    df = pd.DataFrame(shares, columns=cols)
    ax = plots.settlement_funnel({"five_levels": df}).axes[0]
    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert [c.get_label() for c in bars][3] == "above community (street, district)"
    assert bars[3][0].get_width() == pytest.approx((df["settled_share.street"] + df["settled_share.district"]).mean())
    assert len(bars) == 5


def test_funnel_draws_mechanisms_after_their_level():
    rng = np.random.default_rng(2)
    cols = ["settled_share.building", "settled_share.community", "settled_share.meeting.weekly",
            "settled_share.pool.centre", "unresolved_share"]
    df = pd.DataFrame(rng.dirichlet([5, 3, 1, 1, 0.5], size=3), columns=cols)
    ax = plots.settlement_funnel({"m": df}, mechanisms={"meeting.weekly": "community"}).axes[0]
    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert [c.get_label() for c in bars] == ["building", "community", "community: weekly meeting", "centre pool", "unresolved"]
    assert bars[2][0].get_x() == pytest.approx((df["settled_share.building"] + df["settled_share.community"]).mean())
    assert bars[3][0].get_width() == pytest.approx(df["settled_share.pool.centre"].mean())


# --------------------------------------------------------------------------- time to settlement
def test_ecdf_one_curve_per_scenario_equal_to_within_target_share_at_the_target(runs):
    fig = plots.time_to_settlement(runs)
    ax = fig.axes[0]
    curves = _series(ax)
    assert len(curves) == 2
    assert curves[0].get_label().startswith("ladder_a")
    _labels_ok(ax)
    assert ax.get_xscale() == "log"
    target = 0.125
    assert any(np.allclose(ln.get_xdata(), target) for ln in ax.get_lines() if ln.get_label().startswith("_"))
    for curve, r in zip(curves, runs):
        x, y = np.asarray(curve.get_xdata()), np.asarray(curve.get_ydata())
        at = y[np.flatnonzero(np.isclose(x, target))[0]]
        # the curve is over closed cases: the closed-only share (within_target_share counts open cases too)
        assert at == pytest.approx(r.metric("within_target_share_closed")["mean"], abs=1e-9)
        assert np.all(np.diff(y) >= -1e-12) and y[-1] <= 1.0


def test_ecdf_without_case_rows_draws_quantile_points(runs):
    ax = plots.time_to_settlement({r.scenario.name: r.replications for r in runs}, target_days=0.125).axes[0]
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == 2
    points = dict(zip(bars[0].lines[0].get_xdata(), bars[0].lines[0].get_ydata()))
    assert len(points) == 3
    r = runs[0]
    assert r.metric("days_to_settle.p50")["mean"] in points and r.metric("days_to_settle.p90")["mean"] in points
    assert points[0.125] == pytest.approx(r.metric("within_target_share")["mean"])


# --------------------------------------------------------------------------- backlog
def test_backlog_mean_line_and_band_per_scenario(runs):
    ax = plots.backlog_over_time(runs).axes[0]
    lines = _series(ax)
    assert len(lines) == 2
    _labels_ok(ax)
    bl = runs[0].backlog()
    mean = bl.groupby("day")["open_cases"].mean()
    assert np.allclose(lines[0].get_ydata(), mean.to_numpy())
    assert len(ax.collections) >= 2  # two CI bands
    assert any("warm-up" in t.get_label() for t in ax.patches)
    per = plots.backlog_over_time(runs, households=True).axes[0]
    assert np.allclose(_series(per)[0].get_ydata(), mean.to_numpy() * 1000 / runs[0].scenario.households)


# --------------------------------------------------------------------------- sweeps and frontier
def _sweep_table() -> pd.DataFrame:
    rows = []
    for g in (2, 4, 6):
        for b in (1, 2):
            for metric, mean in (("utilisation.grid_worker", 0.9 / g), ("utilisation.building_head", 0.2 / b),
                                 ("within_target_share", 1 - 0.3 / g)):
                rows.append({"roles.grid_worker.staff_per_unit": g, "roles.building_head.staff_per_unit": b,
                             "metric": metric, "mean": mean, "ci_low": mean - 0.02, "ci_high": mean + 0.02, "n": 5})
    return pd.DataFrame(rows)


def test_utilisation_panel_per_role_line_per_other_parameter():
    sweep = _sweep_table()
    fig = plots.utilisation_vs_staff(sweep)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 2
    for ax in axes:
        bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
        assert len(bars) == 2  # building heads 1 and 2
        assert ax.get_xlabel() == "grid worker: staff per unit"
        assert "utilisation" in ax.get_ylabel()
    y = [c for c in axes[0].containers if isinstance(c, ErrorbarContainer)][0].lines[0].get_ydata()
    assert np.allclose(y, [0.9 / 2, 0.9 / 4, 0.9 / 6])
    with pytest.raises(ValueError):
        plots.utilisation_vs_staff(sweep, x="roles.nobody.staff_per_unit")


def test_metric_vs_parameter_draws_the_requirement_on_share_panels_only():
    sweep = _sweep_table()
    fig = plots.metric_vs_parameter(sweep, ["within_target_share", "utilisation.grid_worker"],
                                    x="roles.building_head.staff_per_unit", reference={"within_target_share": 0.9})
    a, b = fig.axes[:2]
    assert a.get_xlabel() == "building head: staff per unit"
    assert len([c for c in a.containers if isinstance(c, ErrorbarContainer)]) == 3  # grid workers 2, 4, 6
    assert any(np.allclose(ln.get_ydata(), 0.9) for ln in a.get_lines())
    assert not any(np.allclose(ln.get_ydata(), 0.9) for ln in b.get_lines())


def _frontier_table() -> pd.DataFrame:
    g = np.array([2, 3, 4, 5, 6])
    mean = np.array([0.80, 0.88, 0.93, 0.95, 0.96])
    t = pd.DataFrame({"roles.grid_worker.staff_per_unit": g, "cost": g * 9 * 80_000.0,
                      "within_target_share.mean": mean, "within_target_share.ci_low": mean - 0.03})
    t["feasible"] = t["within_target_share.ci_low"] >= 0.9
    t["chosen"] = False
    t.loc[t.index[t["feasible"]][0], "chosen"] = True
    return t


def test_frontier_marks_feasible_points_and_the_chosen_one():
    t = _frontier_table()
    ax = plots.staffing_frontier(t, target=0.9).axes[0]
    _labels_ok(ax)
    by_label = {c.get_label(): c for c in ax.collections}
    assert len(by_label["meets the requirement"].get_offsets()) == int(t["feasible"].sum())
    assert len(by_label["does not meet the requirement"].get_offsets()) == int((~t["feasible"]).sum())
    star = by_label["chosen: cheapest that meets it"].get_offsets()
    chosen = t[t["chosen"]].iloc[0]
    assert np.allclose(star, [[chosen["cost"], chosen["within_target_share.mean"]]])
    assert any("grid worker: staff per unit = 4" in tx.get_text() for tx in ax.texts)


def test_frontier_for_an_upper_bound_target_draws_whiskers_up():
    t = pd.DataFrame({"roles.grid_worker.staff_per_unit": [2, 4], "cost": [1.0, 2.0], "days_to_settle.p90.mean": [9.0, 5.0],
                      "days_to_settle.p90.ci_high": [10.0, 6.0], "feasible": [False, True], "chosen": [False, True]})
    ax = plots.staffing_frontier(t, target=7.0).axes[0]
    segs = ax.collections[0].get_segments()
    assert all(s[0][1] > s[1][1] for s in segs)  # from the upper bound down to the mean
    assert "days" in ax.get_ylabel()


# --------------------------------------------------------------------------- hierarchy
def test_hierarchy_layers_with_a_large_level_summarised():
    data = tiny()
    data["levels"] = {"building": {**data["levels"]["building"], "units": 30},
                      "grid": {"units": 3, "role": "head", "handling": {"default": {"dist": "fixed", "value": 1.0}}, "settle": 0.5},
                      "community": data["levels"]["community"]}
    h = build_hierarchy(validate_data(data))
    fig = plots.hierarchy(h, max_units=12)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["building", "grid", "community"]
    texts = [t.get_text() for t in ax.texts]
    assert any(t.startswith("30 buildings") for t in texts)
    assert any("10 buildings per grid" in t for t in texts)
    drawn = sum(len(c.get_offsets()) for c in ax.collections if hasattr(c, "get_offsets"))
    assert drawn == 3 + 1  # the grids and the community; the 30 buildings are one box
    assert ax.get_ylabel()
    with_meeting = plots.hierarchy(h, mechanisms={"meeting.weekly": "grid"}).axes[0]
    assert any(t.get_text().startswith("3 grids") and "+ weekly meeting" in t.get_text() for t in with_meeting.texts)
    # with a higher limit the buildings are drawn one by one
    ax2 = plots.hierarchy(h.graph, max_units=50).axes[0]
    assert sum(len(c.get_offsets()) for c in ax2.collections if hasattr(c, "get_offsets")) == 30 + 3 + 1


# --------------------------------------------------------------------------- sim plot
def _pngs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.png"))}


def _ok_png(blob: bytes) -> bool:
    return blob.startswith(PNG_MAGIC) and len(blob) > 5_000


def test_sim_plot_run_and_compare_folders(tmp_path, capsys):
    sets = [f"--set={k}={v}" for k, v in SHORT.items()] + ["--set=target_days=0.125"]
    run_dir = tmp_path / "run"
    assert sim_main(["run", str(LADDER), "--reps", "2", "--quiet", "--out", str(run_dir), *sets]) == 0
    assert sim_main(["plot", str(run_dir)]) == 0
    files = _pngs(run_dir / "plots")
    assert set(files) == {"funnel.png", "time_to_settlement.png", "backlog.png", "hierarchy.png"}
    assert all(_ok_png(b) for b in files.values())
    assert str(run_dir / "plots" / "funnel.png") in capsys.readouterr().out

    variant = tmp_path / "ladder_b.yaml"
    variant.write_text(f"extends: {LADDER.as_posix()}\nname: ladder_b\nroles:\n  community_staff: {{staff_per_unit: 2}}\n")
    cmp_dir = tmp_path / "cmp"
    assert sim_main(["compare", str(LADDER), str(variant), "--reps", "2", "--quiet", "--out", str(cmp_dir), *sets]) == 0
    out = tmp_path / "figs"
    assert sim_main(["plot", str(cmp_dir), "--out", str(out)]) == 0
    files = _pngs(out)
    assert {"funnel.png", "time_to_settlement.png", "backlog.png", "hierarchy_ladder.png", "hierarchy_ladder_b.png"} <= set(files)
    assert all(_ok_png(b) for b in files.values())


def test_sim_plot_sweep_folder_and_bad_folder(tmp_path):
    d = tmp_path / "sweep"
    d.mkdir()
    _sweep_table().to_csv(d / "sweep.csv", index=False)
    _frontier_table().to_csv(d / "frontier.csv", index=False)
    (d / "chosen.json").write_text(json.dumps({"targets": ["within_target_share>=0.9"]}))
    assert sim_main(["plot", str(d)]) == 0
    files = _pngs(d / "plots")
    assert set(files) == {"utilisation.png", "service.png", "frontier.png"}
    assert all(_ok_png(b) for b in files.values())
    empty = tmp_path / "empty"
    empty.mkdir()
    assert sim_main(["plot", str(empty)]) == 2
    assert sim_main(["plot", str(tmp_path / "missing")]) == 2


def test_labels_and_mechanisms_come_from_the_catalogue():
    from sim import catalogue

    assert plots.metric_label("wait_hours.pool.centre") == catalogue.axis_label("wait_hours.pool.centre")
    assert "(hours)" in plots.metric_label("wait_hours.grid")
    fx = load_scenario_full(LADDER.parents[2] / "scenarios" / "fangxing.yaml").scenario
    levels = plots.mechanism_levels(fx)
    expected = {f"meeting.{k}": m.level for k, m in fx.meetings.items()} | {f"pool.{k}": p.level for k, p in fx.pools.items()}
    assert levels == expected and fx.channels  # channels settle nothing: not drawn beside a level


def test_sweep_panels_clip_to_the_catalogue_bounds_and_draw_fractions_as_percent():
    rows = [{"roles.grid_worker.staff_per_unit": g, "metric": m, "mean": v, "ci_low": v - 0.3, "ci_high": v + 0.3, "n": 3}
            for g in (1, 2) for m, v in (("within_target_share", 0.9), ("wait_hours.grid", 0.2))]
    share, wait = plots.metric_vs_parameter(pd.DataFrame(rows), ["within_target_share", "wait_hours.grid"]).axes[:2]
    assert share.get_ylim()[0] >= 0 and share.get_ylim()[1] < 1.05  # the interval reaches 1.2
    assert wait.get_ylim()[0] == 0  # hours are never negative, even when the interval is
    assert "%" in share.yaxis.get_major_formatter()(0.5, 0) and "%" not in wait.yaxis.get_major_formatter()(0.5, 0)
