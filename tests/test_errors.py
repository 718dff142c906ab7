"""Every way a scenario can be wrong gives exit status 2 and exact messages: file, line,
key path, what was expected; all problems of a file at once, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sim.cli import main

# A small valid scenario; the line numbers below refer to this text.
BASE = """\
name: t
time_unit: hours
severities: [micro, big]
categories: [any]
households: 1000
arrivals:
  rate_per_household_year: 2
  severity_mix: {micro: 0.8, big: 0.2}
  category_mix: {any: 1.0}
roles:
  head: {staff_per_unit: 1}
  mediator: {staff_per_unit: 2, roster: office}
levels:
  building:
    units: 10
    role: head
    handling: {default: {dist: exponential, mean: 1.0}}
    settle: 0.7
    ceiling: micro
    triage: {dist: fixed, value: 0.5}
    deadline_days: 2
  community:
    units: 1
    role: mediator
    handling: {default: {dist: exponential, mean: 2.0}}
    settle: 0.9
horizon_days: 30
warmup_days: 0
replications: 2
seed: 1
"""


def write(tmp_path: Path, *edits: tuple[str, str], name: str = "s.yaml", text: str = BASE) -> Path:
    """The base scenario with each (old, new) text replaced once."""
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    return f


def errors(capsys, *argv: str) -> list[str]:
    """Run `sim validate` in-process; it must exit 2; return the lines on stderr."""
    assert main(["validate", *argv]) == 2
    return capsys.readouterr().err.strip().splitlines()


def test_base_scenario_is_valid(tmp_path, capsys):
    f = write(tmp_path)
    assert main(["validate", str(f)]) == 0
    assert capsys.readouterr().out.strip() == f"{f}: ok (t)"


# --------------------------------------------------------------------------- YAML
def test_yaml_syntax_error_gives_line_and_column(tmp_path, capsys):
    f = write(tmp_path, ("    settle: 0.7\n", "    settle: [0.7\n"))
    assert errors(capsys, str(f)) == [
        f"{f}:19:12: YAML syntax error: expected ',' or ']', but got ':' (while parsing a flow sequence started at line 18)"]


def test_tab_indentation_is_named(tmp_path, capsys):
    f = write(tmp_path, ("    units: 10\n", "\tunits: 10\n"))
    assert errors(capsys, str(f)) == [
        f"{f}:15:1: YAML syntax error: found character '\\t' that cannot start any token; indent with spaces, not tabs"]


def test_key_written_twice(tmp_path, capsys):
    f = write(tmp_path, ("seed: 1\n", "seed: 1\nhorizon_days: 60\n"))
    assert errors(capsys, str(f)) == [f"{f}:31:1: horizon_days: key written twice (first at line 27); remove one"]


# --------------------------------------------------------------------------- keys and types
def test_unknown_key_with_did_you_mean_and_no_missing_noise(tmp_path, capsys):
    f = write(tmp_path, ("    settle: 0.7\n", "    setle: 0.7\n"))
    assert errors(capsys, str(f)) == [f"{f}:18:5: levels.building.setle: unknown key 'setle'; did you mean 'settle'?"]


def test_unknown_key_inside_a_distribution(tmp_path, capsys):
    f = write(tmp_path, ("{dist: exponential, mean: 2.0}", "{dist: exponential, maen: 2.0}"))
    assert errors(capsys, str(f)) == [
        f"{f}:25:45: levels.community.handling.default.maen: unknown key 'maen'; did you mean 'mean'?"]


def test_unknown_key_without_a_close_match_lists_the_keys(tmp_path, capsys):
    f = write(tmp_path, ("  head: {staff_per_unit: 1}", "  head: {staff_per_unit: 1, colour: red}"))
    assert errors(capsys, str(f)) == [
        f"{f}:11:29: roles.head.colour: unknown key 'colour'; expected one of: staff_per_unit, roster, availability, "
        "hours_per_week, cost_per_year, other_duties, description"]


@pytest.mark.parametrize("old, new, expected", [
    ("households: 1000", "households: many", "5:1: households: expected a whole number (got 'many')"),
    ("    settle: 0.9", "    settle: {micro: often}", "26:14: levels.community.settle.micro: expected a number (got 'often')"),
    ("roster: office}", "roster: night}", "12:33: roles.mediator.roster: expected 'always' or 'office' or a mapping (key: value) (got 'night')"),
    ("horizon_days: 30", "horizon_days: [30]", "27:1: horizon_days: expected a number (got a list of 1)"),
    ("{dist: fixed, value: 0.5}", "{dist: fixd, value: 0.5}",
     "20:5: levels.building.triage: unknown distribution 'fixd'; expected dist: one of exponential, lognormal, gamma, triangular, fixed, empirical"),
])
def test_wrong_types(tmp_path, capsys, old, new, expected):
    f = write(tmp_path, (old, new))
    assert errors(capsys, str(f)) == [f"{f}:{expected}"]


# --------------------------------------------------------------------------- numbers
@pytest.mark.parametrize("old, new, expected", [
    ("rate_per_household_year: 2", "rate_per_household_year: 0",
     "7:3: arrivals.rate_per_household_year: expected a number greater than 0 (got 0)"),
    ("{dist: exponential, mean: 1.0}", "{dist: exponential, mean: -1}",
     "17:45: levels.building.handling.default.mean: expected a number greater than 0 (got -1)"),
    ("households: 1000", "households: 0", "5:1: households: expected a number greater than 0 (got 0)"),
    ("horizon_days: 30", "horizon_days: .inf", "27:1: horizon_days: expected a finite number (got inf)"),
])
def test_zero_or_negative_where_positive_is_needed(tmp_path, capsys, old, new, expected):
    f = write(tmp_path, (old, new))
    assert errors(capsys, str(f)) == [f"{f}:{expected}"]


@pytest.mark.parametrize("old, new, expected", [
    ("    settle: 0.7", "    settle: 1.7", "18:5: levels.building.settle: expected a probability between 0 and 1 (got 1.7)"),
    ("  head: {staff_per_unit: 1}", "  head: {staff_per_unit: 1, availability: -0.1}",
     "11:29: roles.head.availability: expected a probability between 0 and 1 (got -0.1)"),
    ("    settle: 0.9", "    settle: {micro: 0.5, big: 2}", "26:26: levels.community.settle.big: expected a probability between 0 and 1 (got 2)"),
])
def test_probabilities_outside_zero_one(tmp_path, capsys, old, new, expected):
    f = write(tmp_path, (old, new))
    assert errors(capsys, str(f)) == [f"{f}:{expected}"]


def test_mix_must_sum_to_one_within_1e9(tmp_path, capsys):
    f = write(tmp_path, ("{micro: 0.8, big: 0.2}", "{micro: 0.8, big: 0.200001}"))
    assert errors(capsys, str(f)) == [
        f"{f}:8:3: arrivals.severity_mix: mix must sum to 1 (within 1e-09), sums to 1.000001"]
    ok = write(tmp_path, ("{micro: 0.8, big: 0.2}", "{micro: 0.8, big: 0.2000000000001}"), name="ok.yaml")
    assert main(["validate", str(ok)]) == 0


# --------------------------------------------------------------------------- references
def test_levels_roles_and_severities_referenced_but_not_declared(tmp_path, capsys):
    f = write(tmp_path, ("    role: mediator", "    role: mediater"), ("    ceiling: micro", "    ceiling: medium"),
              ("{micro: 0.8, big: 0.2}", "{micro: 0.8, bgi: 0.2}"))
    assert errors(capsys, str(f)) == [
        f"{f}:8:30: arrivals.severity_mix.bgi: 'bgi' is not declared (declared: micro, big)",
        f"{f}:19:5: levels.building.ceiling: 'medium' is not a severity (micro, big)",
        f"{f}:24:5: levels.community.role: role 'mediater' is not declared under roles (declared: head, mediator)",
    ]


def test_level_referenced_by_a_meeting_but_not_declared(tmp_path, capsys):
    f = write(tmp_path, ("seed: 1\n", "seed: 1\nmeetings:\n  weekly: {level: comunity, capacity: 5, settle: 0.5}\n"))
    assert errors(capsys, str(f)) == [f"{f}:32:12: meetings.weekly.level: 'comunity' is not a level (building, community)"]


# --------------------------------------------------------------------------- explicit hierarchy
NAMED = """\
  building:
    units_named:
      - {name: b1, parent: g1}
      - {name: b2, parent: g2}
    role: head
    handling: {default: {dist: exponential, mean: 1.0}}
    settle: 0.7
  grid:
    units_named:
      - {name: g1, parent: c}
      - {name: g2, parent: c}
    role: head
    handling: {default: {dist: exponential, mean: 1.0}}
    settle: 0.7
  community:
    units_named:
      - {name: c}
    role: mediator
    handling: {default: {dist: exponential, mean: 2.0}}
    settle: 0.9
horizon_days: 30
"""


def named(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    text = BASE[: BASE.index("  building:")] + NAMED + BASE[BASE.index("warmup_days"):]
    return write(tmp_path, *edits, text=text)


def test_named_hierarchy_builds(tmp_path, capsys):
    from sim.hierarchy import build_hierarchy
    from sim.scenario import load_scenario

    f = named(tmp_path)
    h = build_hierarchy(load_scenario(f))
    assert h.counts == (2, 2, 1) and h.parents[0].tolist() == [0, 1] and h.parents[1].tolist() == [0, 0]
    assert h.unit_names[0] == ("b1", "b2")
    assert main(["validate", str(f)]) == 0


def test_named_hierarchy_cycle(tmp_path, capsys):
    f = named(tmp_path, ("{name: g1, parent: c}", "{name: g1, parent: b1}"))
    assert errors(capsys, str(f)) == [f"{f}:16:20: levels.building.units_named.0.parent: cycle in the hierarchy: b1 -> g1 -> b1"]


def test_named_hierarchy_several_roots_and_undeclared_parent(tmp_path, capsys):
    f = named(tmp_path, ("{name: g2, parent: c}", "{name: g2}"), ("{name: b2, parent: g2}", "{name: b2, parent: gg1}"))
    assert errors(capsys, str(f)) == [
        f"{f}:17:20: levels.building.units_named.1.parent: parent 'gg1' is not declared at level 'grid'; did you mean 'g1'?",
        f"{f}:24:9: levels.grid.units_named.1: several roots in the hierarchy: 'c' (community), 'g2' (grid); "
        "exactly one unit, at the top level 'community', may have no parent",
    ]


def test_named_hierarchy_parent_at_the_wrong_level(tmp_path, capsys):
    f = named(tmp_path, ("{name: b2, parent: g2}", "{name: b2, parent: c}"))
    assert errors(capsys, str(f)) == [
        f"{f}:17:20: levels.building.units_named.1.parent: parent 'c' is a unit of level 'community', "
        "expected a unit of level 'grid' (the level above)"]


# --------------------------------------------------------------------------- rules and staff
def test_deadline_shorter_than_triage(tmp_path, capsys):
    f = write(tmp_path, ("    deadline_days: 2", "    deadline_days: 0.01"))
    assert errors(capsys, str(f)) == [
        f"{f}:21:5: levels.building.deadline_days: 0.01 days is not longer than the triage time (0.0208333 days)"]


def test_zero_staff_where_cases_are_routed(tmp_path, capsys):
    f = write(tmp_path, ("mediator: {staff_per_unit: 2,", "mediator: {staff_per_unit: 0,"))
    assert errors(capsys, str(f)) == [
        f"{f}:24:5: levels.community.role: role 'mediator' has staff_per_unit 0 but cases are routed to level 'community'"]
    # availability is not rounded (1 x 0.3 is someone on duty part of the time): only 0 leaves nobody
    f = write(tmp_path, ("  head: {staff_per_unit: 1}", "  head: {staff_per_unit: 1, availability: 0}"))
    assert errors(capsys, str(f)) == [
        f"{f}:16:5: levels.building.role: role 'head' never has anyone on duty (staff_per_unit 1 x availability 0 "
        "is 0, or every shift has staff 0) but cases are routed to level 'building'"]


def test_zero_staff_is_fine_where_no_case_can_go(tmp_path, capsys):
    """Building settles everything (no ceiling, no deadline): nobody reaches the community."""
    f = write(tmp_path, ("mediator: {staff_per_unit: 2,", "mediator: {staff_per_unit: 0,"), ("    settle: 0.7", "    settle: 1.0"),
              ("    ceiling: micro\n", ""), ("    triage: {dist: fixed, value: 0.5}\n", ""), ("    deadline_days: 2\n", ""))
    assert main(["validate", str(f)]) == 0


# --------------------------------------------------------------------------- extends and --set
def test_extends_loop_and_missing_parent(tmp_path, capsys):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("extends: b.yaml\nname: a\n")
    b.write_text("# b\nextends: a.yaml\n")
    assert errors(capsys, str(a)) == [f"{b}:2:1: extends: extends loop: a.yaml -> b.yaml -> a.yaml"]
    c = tmp_path / "c.yaml"
    c.write_text("name: c\nextends: base.yaml\n")
    assert errors(capsys, str(c)) == [f"{c}:2:1: extends: parent scenario 'base.yaml' not found (looked for {tmp_path / 'base.yaml'})"]


def test_extends_locates_problems_in_the_file_that_wrote_them(tmp_path, capsys):
    write(tmp_path, name="base.yaml")
    child = tmp_path / "child.yaml"
    child.write_text("extends: base.yaml\nname: child\nlevels:\n  community:\n    settle: 2\n")
    assert errors(capsys, str(child)) == [f"{child}:5:5: levels.community.settle: expected a probability between 0 and 1 (got 2)"]


def test_set_paths_that_do_not_exist_are_all_listed(tmp_path, capsys):
    f = write(tmp_path)
    assert errors(capsys, str(f), "--set", "levels.building.setle=1", "--set", "horizon=3", "--set", "levels.grid.units=2",
                  "--set", "arrivals.severity_mix.micro.x=1", "--set", "seed") == [
        "--set: seed: expected key.path=value",
        "--set: levels.building.setle: no key 'setle' under levels.building; did you mean 'settle'?",
        "--set: horizon: no key 'horizon' under the top; did you mean 'horizon_days'?",
        "--set: levels.grid.units: no key 'grid' under levels; keys there: building, community",
        "--set: arrivals.severity_mix.micro.x: no key 'x' under arrivals.severity_mix.micro: "
        "arrivals.severity_mix.micro is a single value, not a mapping",
    ]


def test_set_may_add_optional_fields_and_its_bad_values_are_attributed(tmp_path, capsys):
    f = write(tmp_path)
    assert main(["validate", str(f), "--set", "levels.community.deadline_days=5"]) == 0  # optional, not in the file
    capsys.readouterr()
    assert errors(capsys, str(f), "--set", "levels.community.settle=1.5") == [
        f"{f} (--set levels.community.settle=1.5): levels.community.settle: expected a probability between 0 and 1 (got 1.5)"]


# --------------------------------------------------------------------------- all at once, run, no traceback
def test_all_problems_of_a_file_at_once(tmp_path, capsys):
    f = write(tmp_path, ("households: 1000", "households: -5"), ("    settle: 0.7", "    setle: 0.7"),
              ("rate_per_household_year: 2", "rate_per_household_year: fast"), ("    settle: 0.9", "    settle: 9"))
    assert errors(capsys, str(f)) == [
        f"{f}:5:1: households: expected a number greater than 0 (got -5)",
        f"{f}:7:3: arrivals.rate_per_household_year: expected a number (got 'fast')",
        f"{f}:18:5: levels.building.setle: unknown key 'setle'; did you mean 'settle'?",
        f"{f}:26:5: levels.community.settle: expected a probability between 0 and 1 (got 9)",
    ]


def test_run_options_are_checked(tmp_path, capsys):
    f = write(tmp_path, ("warmup_days: 0", "warmup_days: 10"))
    assert main(["run", str(f), "--horizon-days", "5", "--quiet"]) == 2
    assert capsys.readouterr().err.strip() == f"{f}: --horizon-days: 5 days is not longer than the scenario's warmup_days (10)"
    with pytest.raises(SystemExit) as exc:
        main(["run", str(f), "--max-open-cases", "0"])
    assert exc.value.code == 2
    assert "argument --max-open-cases: expected a number greater than 0, got 0" in capsys.readouterr().err


def test_compare_lists_the_problems_of_every_file(tmp_path, capsys):
    a = write(tmp_path, ("households: 1000", "households: x"), name="a.yaml")
    b = write(tmp_path, ("    settle: 0.7", "    settle: -1"), name="b.yaml")
    assert main(["compare", str(a), str(b), "--quiet"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"{a}:5:1: households: expected a whole number (got 'x')",
        f"{b}:18:5: levels.building.settle: expected a probability between 0 and 1 (got -1)",
    ]


def test_sim_run_exits_2_without_traceback(tmp_path):
    f = write(tmp_path, ("households: 1000", "households: -5"), ("    settle: 0.7", "    settle: 1.7"))
    proc = subprocess.run([sys.executable, "-m", "sim.cli", "run", str(f), "--quiet"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"{f}:5:1: households: expected a number greater than 0 (got -5)",
        f"{f}:18:5: levels.building.settle: expected a probability between 0 and 1 (got 1.7)",
    ]


# --------------------------------------------------------------------------- hostile input (see also test_hostile_input.py)
def test_an_unknown_key_does_not_hide_the_cross_reference_problems(tmp_path, capsys):
    f = write(tmp_path, ("    role: mediator", "    role: mediater"),
              ("seed: 1\n", "seed: 1\ncolour: red\nmeetings:\n  weekly: {level: comunity, capacity: 5, settle: 0.5}\n"
                            "channels:\n  qr: {share: 0.2, enters_at: gird}\n"))
    assert errors(capsys, str(f)) == [
        f"{f}:24:5: levels.community.role: role 'mediater' is not declared under roles (declared: head, mediator)",
        f"{f}:31:1: colour: unknown key 'colour'; expected one of: name, title, description, time_unit, severities, "
        "categories, households, persons_per_household, grassroots_top, arrivals, roles, levels, meetings, pools, partners, channels, closed_loop, prevention, detection, "
        "collective, court_link, difficulty, outcomes, reopening, target_days, horizon_days, warmup_days, replications, seed, max_open_cases, sources",
        f"{f}:33:12: meetings.weekly.level: 'comunity' is not a level (building, community)",
        f"{f}:35:20: channels.qr.enters_at: 'gird' is not a level (building, community)",
    ]


def test_a_bad_set_path_does_not_hide_bad_set_values(tmp_path, capsys):
    f = write(tmp_path)
    assert errors(capsys, str(f), "--set", "levels.building.setle=1", "--set", "households=-3",
                  "--set", "levels.community.settle=7") == [
        "--set: levels.building.setle: no key 'setle' under levels.building; did you mean 'settle'?",
        f"{f} (--set households=-3): households: expected a number greater than 0 (got -3)",
        f"{f} (--set levels.community.settle=7): levels.community.settle: expected a probability between 0 and 1 (got 7)",
    ]


@pytest.mark.parametrize("old, new, expected", [
    ("name: t", "name: ../escape", "1:1: name: name '../escape' is not allowed: use 1-64 letters, digits, '_', '.' or '-', "
                                   "not starting with '.' or '-'"),
    ("name: t", 'name: "\\0"', "1:1: name: name '\\x00' is not allowed: use 1-64 letters, digits, '_', '.' or '-', "
                                "not starting with '.' or '-'"),
    ("  community:\n", "  ../up:\n", "22:3: levels.../up: name '../up' is not allowed: use 1-64 letters, digits, '_', '.' "
                                     "or '-', not starting with '.' or '-'"),
])
def test_names_that_become_paths_are_restricted(tmp_path, capsys, old, new, expected):
    f = write(tmp_path, (old, new))
    assert errors(capsys, str(f)) == [f"{f}:{expected}"]


@pytest.mark.parametrize("old, new, expected", [
    ("{dist: exponential, mean: 1.0}", "{dist: exponential, mean: 1.0e-300}",
     "17:45: levels.building.handling.default.mean: expected a number of at least 1e-09 (got 1e-300); "
     "a smaller one is below the clock's resolution"),
    ("{dist: exponential, mean: 2.0}", "{dist: gamma, mean: 0.01, sd: 2}",
     "25:16: levels.community.handling.default: sd 2 is more than 100 times the mean 0.01; "
     "the distribution would not have finite draws"),
    ("households: 1000", "households: 10000000000", "5:1: households: expected a number of at most 1e+09 (got 10000000000)"),
    ("horizon_days: 30", "horizon_days: 40000",
     "27:1: horizon_days: 40000 days is more than 36,500 days (a hundred years); pass --allow-large if you really mean it"),
])
def test_values_the_engine_cannot_run_are_refused(tmp_path, capsys, old, new, expected):
    f = write(tmp_path, (old, new))
    assert errors(capsys, str(f)) == [f"{f}:{expected}"]


def test_extends_odd_targets(tmp_path, capsys):
    (tmp_path / "folder").mkdir()
    f = write(tmp_path, ("name: t\n", "name: t\nextends: folder\n"))
    assert errors(capsys, str(f)) == [f"{f}:2:1: extends: parent scenario 'folder' is a folder, not a scenario file "
                                      f"({tmp_path / 'folder'})"]
    f = write(tmp_path, ("name: t\n", 'name: t\nextends: "x\\0y"\n'))
    assert errors(capsys, str(f)) == [f"{f}:2:1: extends: expected the path of a parent scenario file (got 'x\\x00y')"]


def test_huge_numbers_on_the_command_line(tmp_path, capsys):
    f = write(tmp_path)
    assert errors(capsys, str(f), "--set", f"households={10**400}") == [
        "--set: households: value not accepted: a number of 401 characters; at most 100"]
