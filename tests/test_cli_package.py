"""The CLI package: one declaration of shared arguments, an explicit command list, `sim metrics`,
tables that fit 120 columns, the results-folder manifest, and a start-up that loads nothing heavy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sim import catalogue
from sim.cli import COMMANDS, build_parser, main

ROOT = Path(__file__).resolve().parents[1]
LADDER = str(ROOT / "tests" / "scenarios" / "ladder.yaml")
QUICK = ["--reps", "2", "--horizon-days", "40", "--quiet"]

# every command that takes each shared option, with the arguments it needs besides
SEEDED = {"run": [LADDER], "compare": [LADDER], "sweep": [LADDER, "--grid", "roles.grid_staff.staff_per_unit=1,2"],
          "staff": [LADDER, "--vary", "roles.grid_staff.staff_per_unit=1..2", "--target", "within_target_share>=0.5"],
          "sensitivity": [LADDER, "--assumptions"], "reps": [LADDER, "--metric", "cases_arrived"],
          "warmup": [LADDER], "analytic": [LADDER]}


def _refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


def _subparser(command: str):
    return build_parser()._subparsers._group_actions[0].choices[command]  # noqa: SLF001 - the parser as built


BAD_VALUES = [("--seed", "-1"), ("--workers", "-1"), ("--horizon-days", "0"), ("--reps", "0")]
CASES = [(c, o, v) for c in sorted(SEEDED) for o, v in BAD_VALUES if o in _subparser(c)._option_string_actions]  # noqa: SLF001


def test_every_seeded_command_takes_the_shared_options():
    assert {c for c, o, _ in CASES if o == "--seed"} == set(SEEDED)
    assert {c for c, o, _ in CASES if o == "--reps"} == set(SEEDED) - {"reps"}  # reps searches for the number


@pytest.mark.parametrize("command,option,value", CASES)
def test_shared_options_are_validated_alike_by_every_command(command, option, value, capsys):
    err = _refused([command, *SEEDED[command], option, value], capsys)
    assert option in err and value in err


@pytest.mark.parametrize("argv", [["run", LADDER, "--out", ""], ["sweep", LADDER, "--grid", "roles.grid_staff.staff_per_unit=1", "--retries", "-1"]])
def test_empty_out_and_negative_retries_are_refused(argv, capsys):
    _refused(argv, capsys)


def test_commands_are_listed_explicitly_and_each_has_a_parser():
    parser = build_parser()
    names = list(parser._subparsers._group_actions[0].choices)  # noqa: SLF001
    assert len(names) == len(COMMANDS)
    for required in ("run", "compare", "validate", "describe", "metrics", "sweep", "staff", "sensitivity", "reps",
                     "warmup", "analytic", "plot", "report"):
        assert required in names


def test_metrics_lists_the_whole_catalogue_within_120_columns():
    proc = subprocess.run([sys.executable, "-m", "sim.cli", "metrics"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert max(len(line) for line in lines) <= 120
    text = " ".join(lines)
    for entry in catalogue.METRICS:
        assert entry.pattern.split("<")[0].rstrip(".") in text


def test_metrics_of_a_scenario_are_the_names_a_run_reports(capsys):
    from sim import load_scenario, metric_names

    assert main(["metrics", LADDER, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["metric"] for r in rows] == metric_names(load_scenario(LADDER))
    assert all(r["meaning"] != "(not in the catalogue)" for r in rows)
    assert main(["metrics", "--headline", "--json"]) == 0
    headline = json.loads(capsys.readouterr().out)
    assert headline and all(r["headline"] for r in headline)
    assert len(headline) == sum(e.headline for e in catalogue.METRICS)


def test_compare_table_of_two_scenarios_fits_120_columns_when_piped(tmp_path):
    other = tmp_path / "other.yaml"
    other.write_text(f"extends: {LADDER}\nname: other_ladder\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "sim.cli", "compare", LADDER, str(other), *QUICK, "--all"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert max(len(line) for line in proc.stdout.splitlines()) <= 120
    assert "other_ladder − " in proc.stdout


def test_tables_show_headline_metrics_unless_asked(capsys):
    from sim import load_scenario, metric_names

    names = metric_names(load_scenario(LADDER))
    assert main(["run", LADDER, *QUICK]) == 0
    default = capsys.readouterr().out
    assert main(["run", LADDER, *QUICK, "--metrics", "wait_hours.*"]) == 0
    waits = capsys.readouterr().out
    shown = [n for n in names if catalogue.is_headline(n)]
    assert catalogue.short_label(shown[0]) in default
    assert "more metrics" in default  # the rest is announced, not silently dropped
    assert "arrived" not in waits and catalogue.short_label("wait_hours.building") in waits


def test_run_api_writes_the_folder_the_cli_writes(tmp_path):
    import sim
    from sim.results import FORMAT_VERSION, OutputExists, read_folder

    result = sim.run(LADDER, reps=2, horizon_days=40, out=tmp_path / "api")
    folder = read_folder(tmp_path / "api")
    assert folder.kind == "run" and folder.manifest["format_version"] == FORMAT_VERSION
    assert (tmp_path / "api" / "cases.parquet").exists()
    assert main(["run", LADDER, "--reps", "2", "--horizon-days", "40", "--quiet", "--out", str(tmp_path / "cli")]) == 0
    for name in ("summary.csv", "replications.csv", "backlog.csv"):
        assert (tmp_path / "api" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes()
    assert not list(tmp_path.glob(".*cases*"))  # the case spool is gone
    with pytest.raises(OutputExists):
        sim.run(LADDER, reps=2, horizon_days=40, out=tmp_path / "api")
    assert result.summary.equals(sim.run(LADDER, reps=2, horizon_days=40).summary)


def test_compare_takes_an_executor_and_writes_every_kind_in_the_manifest(tmp_path):
    import sim
    from sim.experiments.executors import SerialExecutor
    from sim.results import read_folder

    other = tmp_path / "other.yaml"
    other.write_text(f"extends: {LADDER}\nname: other_ladder\n", encoding="utf-8")
    res = sim.compare([LADDER, other], reps=2, horizon_days=40, executor=SerialExecutor(), out=tmp_path / "cmp")
    folder = read_folder(tmp_path / "cmp")
    assert folder.kind == "compare" and [r.name for r in folder.runs] == res.names
    assert all(r.manifest["kind"] == "run" and r.manifest["format_version"] == 1 for r in folder.runs)
    wide = res.wide_table()
    assert list(wide.columns) == ["metric", res.names[0], res.names[1], f"{res.names[1]} − {res.names[0]}"]


def test_no_module_level_default_executor():
    from sim.experiments import executors

    assert not hasattr(executors, "set_default") and not hasattr(executors, "_DEFAULT")


def _loaded_modules(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", f"{code}\nimport sys; print(' '.join(sys.modules))"],
                         capture_output=True, text=True, cwd=ROOT, check=True).stdout
    return set(out.split())


def test_start_up_loads_nothing_heavy():
    cli = _loaded_modules("import sim.cli; sim.cli.build_parser()")
    assert not cli & {"pandas", "scipy", "simpy", "numpy", "pydantic", "rich"}
    api = _loaded_modules("from sim import run")
    assert not api & {"pandas", "scipy", "scipy.stats"}


def test_metrics_command_does_not_load_scenarios_or_the_engine():
    code = "import sys; from sim.cli import main; main(['metrics', '--json'])"
    loaded = _loaded_modules(code)
    assert not loaded & {"sim.scenario", "simpy", "pandas", "sim.engine"}


def test_sweep_table_fits_120_columns_with_whole_headers():
    proc = subprocess.run([sys.executable, "-m", "sim.cli", "sweep", LADDER, "--grid", "roles.grid_staff.staff_per_unit=1,2",
                           "--grid", "roles.building_staff.staff_per_unit=1,2", "--grid", "levels.grid.deadline_days=2,3",
                           *QUICK], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert max(len(line) for line in lines) <= 120
    header = next(line for line in lines if "grid_staff" in line)
    assert "building_staff" in header and "grid.deadline_days" in header and "…" not in proc.stdout
    assert catalogue.short_label("within_target_share") in header  # service metrics come first
    body = [line for line in lines if line.startswith("│")]
    assert len(body) == 8  # one line per point: no cell wraps


def test_every_kind_of_folder_states_kind_and_format_and_is_read_by_plot_and_report(tmp_path):
    import sim
    from sim.results import FORMAT_VERSION, read_folder

    sim.sweep(LADDER, {"roles.grid_staff.staff_per_unit": [1, 2]}, reps=2, horizon_days=40, out=tmp_path / "sweep")
    sim.staff(LADDER, ["roles.grid_staff.staff_per_unit=1..2"], ["within_target_share>=0.5"], reps=2, horizon_days=40,
              out=tmp_path / "staff")
    for kind in ("sweep", "staff"):
        folder = read_folder(tmp_path / kind)
        assert (folder.kind, folder.manifest["format_version"]) == (kind, FORMAT_VERSION)
        assert folder.runs and folder.runs[0].name == "ladder"  # the base scenario, for the report's model section
    assert [p.name for p in sim.plot_folder(tmp_path / "staff")] == ["frontier.png"]
    assert main(["report", str(tmp_path / "staff"), "--format", "md", "--no-figures"]) == 0
    assert main(["plot", str(tmp_path / "nothing")]) == 2
