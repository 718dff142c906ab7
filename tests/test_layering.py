"""Layering: reading and validating a scenario needs neither the engine nor SimPy.

Data flows one way (YAML -> validated scenario -> model -> records): ``sim.scenario`` and the
mechanisms' schema sections it imports must not pull in the model. Each check runs in a
fresh interpreter, so modules imported by other tests cannot hide a violation.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import SCENARIOS

FORBIDDEN = ("simpy", "sim.engine")


def _modules_after(code: str) -> set[str]:
    """The modules loaded by ``code`` in a fresh interpreter."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def _forbidden(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == f or m.startswith(f + ".") for f in FORBIDDEN))


@pytest.mark.parametrize("code", [
    "import sim.scenario",
    "import sim.mechanisms",
    "import sim.rosters",
    "import sim.hierarchy",
    f"from sim.scenario import load_scenario\nload_scenario({str(SCENARIOS / 'fangxing.yaml')!r})",
])
def test_scenarios_load_and_validate_without_the_engine(code):
    modules = _modules_after(code)
    assert "sim.scenario.schema" in modules  # the code ran
    assert _forbidden(modules) == []


def test_an_invalid_scenario_is_refused_without_the_engine():
    """Every check runs, hierarchy and staff included, and still nothing of the engine loads."""
    code = (f"from sim.scenario import load_scenario, ScenarioError\n"
            f"try:\n    load_scenario({str(SCENARIOS / 'fangxing.yaml')!r}, {{'levels.building.units': 10**7}})\n"
            f"except ScenarioError:\n    pass\nelse:\n    raise SystemExit('not refused')")
    assert _forbidden(_modules_after(code)) == []


def test_the_check_sees_a_violation():
    """The test has teeth: the model does import SimPy and the engine."""
    assert {"simpy", "sim.engine", "sim.engine.model"} <= set(_forbidden(_modules_after("import sim.engine.model")))
