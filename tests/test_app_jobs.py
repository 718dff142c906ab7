"""The app's inputs and jobs without a browser: overrides only for changed values, a run in a worker
process gives the API's numbers, and cancelling stops it without writing a results folder."""

from __future__ import annotations

import json
import time
from pathlib import Path

import sim
from sim.app.inputs import Inputs, scenario_files
from sim.app.jobs import Job, run_job

ROOT = Path(__file__).resolve().parents[1]
FANGXING = str(ROOT / "scenarios" / "fangxing.yaml")


def test_overrides_are_only_the_changed_values():
    data = sim.load(FANGXING).data
    same = Inputs((FANGXING,), {"grid_worker": 6, "building_head": 1}, 1.0, 7.0)
    assert same.overrides(data) == {}
    changed = Inputs((FANGXING,), {"grid_worker": 8}, 1.5, 10.0)
    rate = data["arrivals"]["rate_per_household_year"]  # the file's (calibrated) rate
    assert changed.overrides(data) == {"roles.grid_worker.staff_per_unit": 8,
                                       "arrivals.rate_per_household_year": rate * 1.5, "target_days": 10.0}
    assert "fangxing" in scenario_files() and "defaults" not in scenario_files()


def _wait(job: Job, timeout: float = 120.0) -> list[tuple]:
    msgs: list[tuple] = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        msgs += job.poll()
        if any(m[0] in ("done", "error") for m in msgs):
            return msgs
        time.sleep(0.1)
    raise AssertionError(f"job did not finish: {msgs}")


def test_a_job_gives_the_api_numbers(tmp_path):
    inputs = Inputs((FANGXING,), {"grid_worker": 4}, 1.2, None, 40.0, 2, 11)
    out = tmp_path / "run-1"
    msgs = _wait(Job(run_job, inputs, str(out)))
    assert msgs[-1] == ("done", str(out)), msgs
    assert [m[1] for m in msgs if m[0] == "progress"] == [1, 2]
    shown = json.loads((out / "summary.json").read_text())["metrics"]["within_target_share"]["mean"]
    rate = sim.load(FANGXING).data["arrivals"]["rate_per_household_year"]
    loaded = sim.load(FANGXING, {"roles.grid_worker.staff_per_unit": 4, "arrivals.rate_per_household_year": rate * 1.2})
    assert shown == sim.run(loaded, 2, 11, horizon_days=40.0).metric("within_target_share")["mean"]
    assert (out / "plots" / "funnel.png").exists()


def test_cancel_stops_the_job_and_writes_nothing(tmp_path):
    out = tmp_path / "run-1"
    job = Job(run_job, Inputs((FANGXING,), reps=50, horizon_days=365.0), str(out))
    deadline = time.time() + 60
    while not any(m[0] == "progress" for m in job.poll()) and time.time() < deadline:
        time.sleep(0.1)
    job.cancel()
    assert not job.alive()
    time.sleep(0.5)
    assert not out.exists()
