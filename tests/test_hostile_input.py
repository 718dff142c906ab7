"""Hostile and broken scenario input: every generated input must end in a clear message with
exit status 2 (or a valid run), never a traceback, a hang, a memory blow-up or a write outside
the output folder.

Each class of the issue gets generated inputs (hypothesis, bounded and derandomised) run
through ``sim.cli.main`` in-process. A module-wide tally counts the inputs tried, the clean
outcomes and the others; it is printed at the end (``pytest -s``) and must show none unclean.
"""

from __future__ import annotations

import copy
import os
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.experiments.executors import SchedulerAddressError, check_scheduler_address
from sim.scenario import ScenarioError, load_scenario
from sim.scenario import limits
from test_fuzz_scenarios import LADDER

SECONDS_PER_INPUT = 10.0  # a hostile input must be refused (or run) quickly: no hang
FEW = settings(max_examples=12, deadline=None, derandomize=True,
               suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

VALID = {
    "name": "h", "time_unit": "hours", "severities": ["micro", "big"], "categories": ["any"], "households": 1000,
    "arrivals": {"rate_per_household_year": 2, "severity_mix": {"micro": 0.8, "big": 0.2}, "category_mix": {"any": 1.0}},
    "roles": {"head": {"staff_per_unit": 1}, "mediator": {"staff_per_unit": 2, "roster": "office"}},
    "levels": {
        "building": {"units": 10, "role": "head", "handling": {"default": {"dist": "exponential", "mean": 1.0}},
                     "settle": 0.7, "ceiling": "micro", "triage": {"dist": "fixed", "value": 0.5}, "deadline_days": 2},
        "community": {"units": 1, "role": "mediator", "handling": {"default": {"dist": "gamma", "mean": 2.0, "sd": 1.0}},
                      "settle": 0.9},
    },
    "horizon_days": 3, "warmup_days": 0, "replications": 1, "seed": 1,
}


@pytest.fixture(scope="module")
def tally() -> Iterator[Counter]:
    counts: Counter = Counter()
    yield counts
    print(f"\nhostile inputs: {counts['tried']} tried, {counts['clean']} clean, {counts['not clean']} not clean")
    assert counts["not clean"] == 0


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("hostile")


def scenario_file(folder: Path, data: Any, name: str = "s.yaml") -> Path:
    f = folder / name
    f.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return f


def text_file(folder: Path, text: str | bytes, name: str = "s.yaml") -> Path:
    f = folder / name
    if isinstance(text, bytes):
        f.write_bytes(text)
    else:
        f.write_text(text, encoding="utf-8")
    return f


def cli(tally: Counter, capsys, *argv: str, expect: int | None = None) -> tuple[int, str]:
    """Run the CLI in-process; it must exit 0 or 2 (2 with a message), without a traceback,
    within SECONDS_PER_INPUT. Returns (exit status, stderr)."""
    tally["tried"] += 1
    t0 = time.perf_counter()
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse refusing an option
        code = exc.code
    except BaseException:
        tally["not clean"] += 1
        raise
    elapsed = time.perf_counter() - t0
    err = capsys.readouterr().err
    clean = code in (0, 2) and "Traceback" not in err and elapsed < SECONDS_PER_INPUT and (code == 0 or err.strip())
    tally["clean" if clean else "not clean"] += 1
    assert clean, (argv[:3], code, elapsed, err[-500:])
    if expect is not None:
        assert code == expect, err[-500:]
    return code, err


# --------------------------------------------------------------------------- names that become paths
UNSAFE_NAMES = ["../escape", "..", ".", "a/b", "/etc", "\0", "x\0y", ".hidden", "-rf", "a\\b", "", " ", "a" * 65,
                "名字", "a\nb", "C:\\x", "~", "a b"]


@FEW
@given(name=st.one_of(st.sampled_from(UNSAFE_NAMES), st.text(max_size=70)),
       where=st.sampled_from(["name", "levels", "roles"]))
def test_names_are_safe_file_names_or_refused(tally, capsys, folder, name, where):
    data = copy.deepcopy(VALID)
    if where == "name":
        data["name"] = name
    elif where == "levels":
        data["levels"] = {name if k == "community" else k: v for k, v in data["levels"].items()}
    else:
        data["roles"][name] = data["roles"].pop("mediator")
        data["levels"]["community"]["role"] = name
    safe = limits.NAME_PATTERN.fullmatch(name) is not None
    try:
        f = scenario_file(folder, data)
    except UnicodeEncodeError:  # a lone surrogate cannot even be saved
        return
    code, err = cli(tally, capsys, "validate", str(f))
    assert code == (0 if safe else 2), err
    if not safe:
        assert "is not allowed: use 1-64 letters" in err or "YAML" in err


@pytest.mark.parametrize("name", ["../escape", "..", ".", "a/b", "/tmp/abs", "\0"])
def test_compare_never_writes_outside_its_folder(tally, capsys, tmp_path, name):
    a = scenario_file(tmp_path, VALID, "a.yaml")
    b = scenario_file(tmp_path, {**VALID, "name": name}, "b.yaml")
    out = tmp_path / "out" / "results"
    before = set(tmp_path.rglob("*"))
    code, err = cli(tally, capsys, "compare", str(a), str(b), "--out", str(out), "--reps", "1", "--quiet", expect=2)
    assert f"{b}:1:1: name: name {name!r}" in err
    assert set(tmp_path.rglob("*")) == before  # nothing written anywhere


def test_every_shipped_scenario_has_safe_names():
    root = Path(__file__).resolve().parents[1]
    for f in [*(root / "scenarios").glob("*.yaml"), *(root / "tests" / "scenarios").glob("*.yaml")]:
        load_scenario(f)


# --------------------------------------------------------------------------- deep or recursive YAML
@FEW
@given(depth=st.integers(limits.MAX_DEPTH, 5_000), style=st.sampled_from(["flow-list", "flow-map", "block", "mixed"]))
def test_deep_nesting_is_refused_with_the_line(tally, capsys, folder, depth, style):
    if style == "flow-list":
        body = "description: " + "[" * depth + "]" * depth + "\n"
    elif style == "flow-map":
        body = "description: " + "{a: " * depth + "1" + "}" * depth + "\n"
    elif style == "block":
        body = "description:\n" + "".join(" " * (i + 1) + f"k{i}:\n" for i in range(depth))
    else:
        body = "description:\n" + "".join(" " * (i + 1) + ("- " if i % 2 else f"k{i}:") + "\n" for i in range(depth))
    f = text_file(folder, "name: x\n" + body)
    code, err = cli(tally, capsys, "validate", str(f), expect=2)
    assert f"nested more than {limits.MAX_DEPTH} levels deep" in err or "YAML syntax error" in err
    assert err.startswith(f"{f}:")


def test_the_issue_reproductions_of_deep_yaml(tally, capsys, tmp_path):
    f = text_file(tmp_path, "name: x\ndescription: " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert cli(tally, capsys, "validate", str(f), expect=2)[1] == f"{f}:2:113: nested more than 100 levels deep\n"
    f = text_file(tmp_path, "name: x\ndescription:\n" + "".join(" " * (i + 1) + f"k{i}:\n" for i in range(3000)))
    assert cli(tally, capsys, "validate", str(f), expect=2)[1] == f"{f}:102:101: nested more than 100 levels deep\n"


RECURSIVE = ["a: &a [*a]\n", "a: &a {b: *a}\n", "a: &a [1, [2, *a]]\n", "a: &a\n  b: &b\n    c: [*a]\n",
             "name: x\nlevels: &l {b: {x: *l}}\n"]


@pytest.mark.parametrize("text", RECURSIVE)
def test_recursive_aliases_are_refused(tally, capsys, tmp_path, text):
    f = text_file(tmp_path, text)
    assert "(a recursive alias)" in cli(tally, capsys, "validate", str(f), expect=2)[1]


@FEW
@given(width=st.integers(2, 12), levels=st.integers(2, 12))
def test_alias_bombs_stay_small(tally, capsys, folder, width, levels):
    lines = ['a0: &a0 ["lol"]']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    f = text_file(folder, "name: x\n" + "\n".join(lines) + "\n")
    expanded = sum(width ** i for i in range(levels + 1))
    code, err = cli(tally, capsys, "validate", str(f), expect=2)
    if expanded > limits.MAX_ALIAS_VALUES or width * levels > limits.MAX_ALIASES:
        assert "aliases expand to more than" in err or "aliases (*name)" in err
    else:  # small enough to read: the keys are simply not scenario keys
        assert "unknown key" in err or "is this a scenario file" in err


def test_a_one_kilobyte_alias_bomb_stays_small(tally, capsys, tmp_path):
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    f = text_file(tmp_path, "\n".join(lines) + "\n")
    assert f.stat().st_size < 1024
    tracemalloc.start()
    try:
        err = cli(tally, capsys, "validate", str(f), expect=2)[1]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert err == f"{f}:6:10: aliases expand to more than {limits.MAX_ALIAS_VALUES:,} values\n"
    assert peak < 50e6


# --------------------------------------------------------------------------- numbers
HUGE_INTS = st.one_of(st.integers(10, 6_000).map(lambda k: 10**k), st.sampled_from([2**63, 2**64, 10**9 + 1]))
ODD_FLOATS = st.sampled_from(["1.0e-300", "1.0e+300", "5.0e-324", "1.0e-10", "1.0e+10", ".inf", "-.inf", ".nan", "-0.0",
                              "1.0e-9", "1.0e+9"])
INT_PATHS = ["households", "roles.head.staff_per_unit", "levels.building.units", "seed", "replications", "max_open_cases"]
FLOAT_PATHS = ["levels.building.handling.default.mean", "levels.community.handling.default.mean",
               "levels.community.handling.default.sd", "levels.building.triage.value", "levels.building.deadline_days",
               "arrivals.rate_per_household_year", "horizon_days", "target_days"]


@FEW
@given(path=st.sampled_from(INT_PATHS), value=HUGE_INTS)
def test_huge_integers_are_refused(tally, capsys, folder, path, value):
    f = scenario_file(folder, VALID)
    code, err = cli(tally, capsys, "validate", str(f), "--set", f"{path}={value}")
    assert code == 2 and ("at most" in err or "characters" in err or "more than" in err), err


def _runs_if_valid(tally, capsys, f: Path, *sets: str) -> None:
    """validate ok => a short run is ok too (nothing the validator passes may crash the engine)."""
    argv = [x for s in sets for x in ("--set", s)]
    code, err = cli(tally, capsys, "validate", str(f), *argv)
    if code == 0:
        sc = load_scenario(f, list(sets))
        if sc.arrivals.rate_per_household_year * sc.households / 365 * 2 < 50_000:
            cli(tally, capsys, "run", str(f), *argv, "--reps", "1", "--horizon-days", "2", "--quiet", "--json", expect=0)


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(path=st.sampled_from(FLOAT_PATHS), value=ODD_FLOATS)
def test_extreme_floats_are_refused_or_run(tally, capsys, folder, path, value):
    _runs_if_valid(tally, capsys, scenario_file(folder, VALID), f"{path}={value}")


@pytest.mark.parametrize("sets", [
    ["levels.building.handling.default.mean=1e-300"],
    ["levels.community.handling.default={dist: gamma, mean: 1.0e-300, sd: 2}"],
    ["levels.community.handling.default={dist: lognormal, mean: 1.0, sd: 1.0e+6}"],
    ["levels.community.handling.default={dist: gamma, mean: 1.0e-9, sd: 1.0e-7}"],
    ["levels.community.handling.default={dist: triangular, low: 0, mode: 1.0e+300, high: 1.0e+301}"],
    ["households=" + "9" * 5000],
])
def test_the_issue_reproductions_of_numbers(tally, capsys, tmp_path, sets):
    _runs_if_valid(tally, capsys, scenario_file(tmp_path, VALID), *sets)


# --------------------------------------------------------------------------- run size
@pytest.mark.parametrize("argv, message", [
    (["--set", "horizon_days=1.0e+15"], "horizon_days: expected a number of at most 1e+07"),
    (["--set", "horizon_days=100000"], "horizon_days: 100000 days is more than 36,500 days"),
    (["--horizon-days", "1e9"], "--horizon-days: 1e+09 days is more than 36,500 days"),
    (["--reps", "1000000000"], "--reps: 1,000,000,000 replications is more than 10,000"),
    (["--set", "households=900000000", "--set", "arrivals.rate_per_household_year=100"], "cases per replication"),
    (["--reps", "9000", "--set", "horizon_days=30000"], "cases in 9,000 replications"),
])
def test_run_size_limits(tally, capsys, tmp_path, argv, message):
    f = scenario_file(tmp_path, VALID)
    code, err = cli(tally, capsys, "run", str(f), *argv, "--quiet", expect=2)
    assert message in err and ("--allow-large" in err or "at most 1e+07" in err)


def test_allow_large_lifts_the_run_size_limits(tally, capsys, tmp_path):
    f = scenario_file(tmp_path, {**VALID, "horizon_days": 40_000, "replications": 20_000})
    assert "--allow-large" in cli(tally, capsys, "validate", str(f), expect=2)[1]
    cli(tally, capsys, "validate", str(f), "--allow-large", expect=0)
    quiet = {**VALID, "households": 10, "arrivals": {**VALID["arrivals"], "rate_per_household_year": 0.01}}
    small = scenario_file(tmp_path, quiet, "small.yaml")
    assert "--allow-large" in cli(tally, capsys, "run", str(small), "--horizon-days", "40000", "--quiet", expect=2)[1]
    cli(tally, capsys, "run", str(small), "--horizon-days", "40000", "--allow-large", "--quiet", "--json", expect=0)


# --------------------------------------------------------------------------- extends
@FEW
@given(depth=st.integers(2, 1_000))
def test_long_extends_chains(tally, capsys, folder, depth):
    sub = folder / f"chain{depth}"
    sub.mkdir(exist_ok=True)
    scenario_file(sub, VALID, "f0.yaml")
    for i in range(1, depth):
        text_file(sub, f"extends: f{i - 1}.yaml\nseed: {i}\n", f"f{i}.yaml")
    code, err = cli(tally, capsys, "validate", str(sub / f"f{depth - 1}.yaml"))
    assert code == (0 if depth <= limits.MAX_EXTENDS else 2)
    if code:
        assert f"more than {limits.MAX_EXTENDS} files in the extends: chain" in err


def test_extends_to_odd_places(tally, capsys, tmp_path):
    (tmp_path / "folder").mkdir()
    os.symlink(tmp_path / "loop1", tmp_path / "loop2")
    os.symlink(tmp_path / "loop2", tmp_path / "loop1")
    passwd = text_file(tmp_path, "root:x:0:0:root:/root:/bin/bash\nsecret:x:1:1::/home/secret:/bin/sh\n", "passwd")
    keys = text_file(tmp_path, "PRIVATE_TOKEN: abc123\nOTHER_SECRET: zzz\n", "env.yaml")
    cases = {"loop1": "cannot be opened: symbolic link loop", "x\0y": "expected the path of a parent scenario file",
             "folder": "is a folder, not a scenario file", "/dev/null": "is not a regular file",
             str(passwd): "expected a mapping of keys at the top, got text; is this a scenario file?",
             str(keys): "none of its 2 top-level keys is a scenario key; is this a scenario file?",
             "missing.yaml": "not found"}
    for target, message in cases.items():
        f = text_file(tmp_path, f"extends: {yaml.safe_dump(target, default_style=chr(34)).strip()}\nname: x\n", "child.yaml")
        err = cli(tally, capsys, "validate", str(f), expect=2)[1]
        assert message in err, (target, err)
        assert "secret" not in err.lower() and "PRIVATE_TOKEN" not in err


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/urandom", "/proc/self/mem"])
def test_devices_are_not_read(tally, capsys, tmp_path, target):
    if not os.path.exists(target):
        pytest.skip(f"no {target}")
    f = text_file(tmp_path, f"extends: {target}\nname: x\n")
    said = ("not a regular file", "cannot read the file")  # /proc files pass for regular files of size 0
    assert any(s in cli(tally, capsys, "validate", str(f), expect=2)[1] for s in said)
    assert any(s in cli(tally, capsys, "validate", target, expect=2)[1] for s in said)


def test_oversized_and_undecodable_files(tally, capsys, tmp_path):
    big = text_file(tmp_path, "name: x\ndescription: '" + "a" * (limits.MAX_FILE_BYTES + 10) + "'\n", "big.yaml")
    assert "bytes; at most 5,000,000" in cli(tally, capsys, "validate", str(big), expect=2)[1]
    bad = text_file(tmp_path, b"name: x\ndescription: \xff\xfe\n", "bad.yaml")
    assert cli(tally, capsys, "validate", str(bad), expect=2)[1] == (
        f"{bad}:2: not UTF-8 text (byte 0xff cannot be decoded); save the file as UTF-8\n")


# --------------------------------------------------------------------------- mutated files
@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_bytes_of_a_scenario(tally, capsys, folder, data):
    raw = bytearray(yaml.safe_dump(LADDER, sort_keys=False).encode())
    for _ in range(data.draw(st.integers(1, 6))):
        i = data.draw(st.integers(0, len(raw) - 1))
        op = data.draw(st.sampled_from(["flip", "insert", "delete"]))
        byte = data.draw(st.sampled_from(list(b"[]{}&*!|>:-#'\"\\\t\n\x00\xff ?%@`,") + [0xC3, 0xA9]))
        if op == "flip":
            raw[i] = byte
        elif op == "insert":
            raw[i:i] = bytes([byte]) * data.draw(st.integers(1, 300))
        else:
            del raw[i:i + data.draw(st.integers(1, 40))]
    f = text_file(folder, bytes(raw), "mutated.yaml")
    cli(tally, capsys, "validate", str(f))


# --------------------------------------------------------------------------- Dask addresses
@FEW
@given(address=st.one_of(st.text(max_size=40), st.sampled_from(["garbage", "tcp://[::1", "tcp://host:99999", "tcp://h:0",
                                                               "http://h:1", "tcp://h:8786/x", "tcp://:8786"])))
def test_scheduler_addresses_are_checked_up_front(tally, capsys, folder, address):
    bad = text_file(folder, "name: x\nhouseholds: -1\n", "bad.yaml")
    try:
        check_scheduler_address(address)
        valid = True
    except SchedulerAddressError:
        valid = False
    code, err = cli(tally, capsys, "run", str(bad), "--scheduler", address, "--quiet", expect=2)
    assert err.startswith("sim: --scheduler") != valid


@FEW
@given(port=st.integers(-10, 200_000))
def test_scheduler_ports(port):
    ok = 1 <= port <= 65535
    try:
        check_scheduler_address(f"tcp://127.0.0.1:{port}")
        assert ok
    except SchedulerAddressError as exc:
        assert not ok and "1-65535" in str(exc) or "port" in str(exc)


def test_executor_local_with_a_scheduler_is_refused(tally, capsys, tmp_path):
    f = scenario_file(tmp_path, VALID)
    err = cli(tally, capsys, "run", str(f), "--executor", "local", "--scheduler", "tcp://127.0.0.1:8786", expect=2)[1]
    assert err == "sim: --executor local runs on this machine and cannot use --scheduler; use --executor dask (or leave --executor out)\n"


# --------------------------------------------------------------------------- text that cannot be written
@FEW
@given(prefix=st.text(max_size=5), surrogate=st.integers(0xD800, 0xDFFF), key=st.sampled_from(["title", "description",
                                                                                                  "roles.head.description"]))
def test_unwritable_text_is_refused_at_validation(tally, folder, prefix, surrogate, key):
    tally["tried"] += 1
    f = scenario_file(folder, VALID)
    with pytest.raises(ScenarioError) as exc:
        load_scenario(f, {key: prefix + chr(surrogate)})
    assert any(p.path == key and "cannot be written as UTF-8" in p.message for p in exc.value.problems)
    tally["clean"] += 1


def test_undecodable_command_line_text(tally, capsys, tmp_path):
    f = scenario_file(tmp_path, VALID)
    err = cli(tally, capsys, "validate", str(f), "--set", "title=caf\udce9", expect=2)[1]
    assert err == "--set: title: value not accepted: character '\\udce9' at position 3 is not valid text\n"


# --------------------------------------------------------------------------- mechanisms at extreme values
DESK = {"handling": {"default": {"dist": "fixed", "value": 1}}, "settle": 0.5}
MECHANISMS = [
    {"meetings": {"m": {"level": "community", "capacity": 10**30, "settle": 0.5}}},
    {"meetings": {"m": {"level": "community", "capacity": 5, "settle": 0.5, "duration_hours": 1e300}}},
    {"pools": {"p": {"level": "building", "staff": {"head": 10**30}, **DESK}}},
    {"partners": {"p": {"level": "building", "staff": 10**30, **DESK}}},
    {"partners": {"p": {"level": "building", "staff": 1, "cost_per_year": 1e300, **DESK}}},
    {"partners": {"p": {"level": "building", "staff": 1, "handling": {"default": {"dist": "gamma", "mean": 1, "sd": 5e-324}},
                        "settle": 0.5}}},
    {"closed_loop": {"respond_days": {"community": 1e-300}}},
    {"closed_loop": {"report_back_days": 1e300}},
    {"channels": {"../qr": {"share": 0.5, "enters_at": "community"}}},
    {"meetings": {"a/b": {"level": "community", "capacity": 5, "settle": 0.5}}},
]


@pytest.mark.parametrize("extra", MECHANISMS)
def test_mechanisms_at_extreme_values_are_refused_or_run(tally, capsys, tmp_path, extra):
    f = scenario_file(tmp_path, {**VALID, **extra})
    _runs_if_valid(tally, capsys, f)


# --------------------------------------------------------------------------- option values that would be silently accepted
def _commands_taking(option: str) -> list[str]:
    """Every command whose parser has ``option`` (read from the parser, so a new command is covered too)."""
    from sim.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction")
    return [name for name, p in sub.choices.items() if any(option in a.option_strings for a in p._actions)]


BAD_OPTION_VALUES = [(opt, bad, cmd) for opt, bads in (("--workers", ["-1", "-7", "x", "1.5"]),
                                                       ("--retries", ["-1", "x"]),
                                                       ("--out", ["", " "]))
                     for cmd in _commands_taking(opt) for bad in bads]


@pytest.mark.parametrize("option,bad,command", BAD_OPTION_VALUES)
def test_bad_workers_retries_and_out_are_refused_by_every_command(tally, capsys, tmp_path, option, bad, command):
    assert {"run", "compare", "sweep", "staff", "sensitivity", "plot", "report"} <= set(_commands_taking("--out"))
    _, err = cli(tally, capsys, command, str(LADDER), f"{option}={bad}", expect=2)
    assert f"argument {option}: expected" in err
