"""The sequential staffing search gives the exhaustive search's answer with fewer replications,
skips points monotonicity decides, and reuses cached replications across runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_staff_optimiser import mmc_scenario

from sim.experiments.selection import looks, screen
from sim.experiments.staff import Target, staff
from sim.scenario import validate_data

VARY = {"roles.clerk.staff_per_unit": list(range(3, 8)), "roles.officer.staff_per_unit": list(range(1, 6))}
TARGETS = ["wait_hours.front<=0.25", "wait_hours.back<=0.3"]


@pytest.fixture(scope="module")
def two_stations():
    return validate_data(mmc_scenario(two_stations=True))


@pytest.fixture(scope="module")
def exhaustive(two_stations):
    return staff(two_stations, VARY, TARGETS, reps=6, seed=5, horizon_days=20, search="exhaustive")


def test_sequential_search_gives_the_exhaustive_answer_with_fewer_replications(two_stations, exhaustive, tmp_path: Path) -> None:
    full, full_pick = exhaustive
    assert len(full) == 25 and full_pick is not None
    frontier, chosen = staff(two_stations, VARY, TARGETS, reps=6, seed=5, horizon_days=20, cache=tmp_path)
    assert chosen == full_pick  # same point, same full-replication figures (common random numbers)
    ran = frontier.attrs["replications_run"]
    assert ran < 0.5 * 25 * 6
    assert len(frontier) < 25  # monotonicity decided the other points without running them
    row = frontier[frontier["chosen"]].iloc[0]
    assert row["reps"] == 6
    # every point run agrees with the exhaustive verdict, whatever replications it used
    merged = frontier.merge(full, on=list(VARY), suffixes=("", "_full"))
    assert (merged["feasible"] == merged["feasible_full"]).all()
    # and every point cheaper than the chosen one is infeasible in the exhaustive search
    assert not full[full["cost"] < chosen["cost"]]["feasible"].any()


def test_cached_replications_are_reused_by_a_rerun(two_stations, tmp_path: Path) -> None:
    first, pick = staff(two_stations, VARY, TARGETS, reps=6, seed=5, horizon_days=20, cache=tmp_path)
    # one file per replication the search ran (the planner's baseline and neighbour points, evaluated at full
    # replications beside the search, keep one file per point directly under points/)
    files = [f for f in (tmp_path / "points").rglob("*.json") if f.parent != tmp_path / "points"]
    assert len(files) == first.attrs["replications_run"] > 0
    again, pick2 = staff(two_stations, VARY, TARGETS, reps=6, seed=5, horizon_days=20, cache=tmp_path)
    assert again.attrs["replications_run"] == 0 and pick2 == pick
    assert again.drop(columns=[]).equals(first)
    # another seed is another set of replications
    other, _ = staff(two_stations, VARY, TARGETS, reps=6, seed=6, horizon_days=20, cache=tmp_path)
    assert other.attrs["replications_run"] > 0


def test_screening_rules_out_clear_misses_and_keeps_doubtful_points() -> None:
    t = [Target.parse("share>=0.9")]
    assert screen(t, {"share": [0.5, 0.52, 0.49, 0.51]}, 0.01) == "infeasible"
    assert screen(t, {"share": [0.99, 0.98, 0.99, 0.985]}, 0.01) == "feasible"
    assert screen(t, {"share": [0.88, 0.93, 0.91, 0.89]}, 0.01) == "more"
    assert screen(t, {"share": [0.99, 0.98, 0.99, 0.985], "unstable": [0, 1, 0, 0]}, 0.01) == "infeasible"
    w = [Target.parse("wait<=2")]
    assert screen(w, {"wait": [5.0, 5.5, 4.8, 5.1]}, 0.01) == "infeasible"
    assert screen(w, {"wait": [0.5, 0.6, 0.4, 0.55]}, 0.01) == "feasible"
    assert looks(10) == [4, 8, 10] and looks(3) == [3] and looks(20, 5) == [5, 10, 20]


def test_when_the_most_staff_misses_a_target_two_points_settle_the_search(two_stations) -> None:
    frontier, chosen = staff(two_stations, VARY, ["wait_hours.front<=-1"], reps=6, seed=5, horizon_days=20)
    assert chosen is None
    # the cheapest point, then the dearest: nothing else is run
    assert sorted(tuple(r) for r in frontier[list(VARY)].itertuples(index=False)) == [(3, 1), (7, 5)]
    assert frontier.attrs["replications_run"] <= 2 * 6
