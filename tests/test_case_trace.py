"""The per-case trace: one row per level or mechanism visited, and a readable timeline."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from sim.engine.model import VISIT_COLUMNS, single_run
from sim.results import write_cases
from sim.scenario import load_scenario
from sim.results.write import write_visits
from sim.trace import timeline

ROOT = Path(__file__).resolve().parent.parent
ZHONGLOU = ROOT / "scenarios" / "zhonglou.yaml"


def test_no_visits_unless_cases_are_recorded():
    rec = single_run(load_scenario(ZHONGLOU), 3, 0, horizon_days=40.0)
    assert rec.visits is None


def test_every_case_path_ends_where_its_row_says():
    rec = single_run(load_scenario(ZHONGLOU), 3, 0, horizon_days=120.0, record_cases=True)
    cases = pd.DataFrame(rec.cases, columns=["case_id", "arrival_day", "building", "severity", "category", "level",
                                             "outcome", "close_day", "days_to_close"])
    visits = pd.DataFrame(rec.visits, columns=VISIT_COLUMNS)
    assert len(visits) >= (cases["outcome"] != "open").sum()
    by_case = visits.sort_values(["case_id", "step"]).groupby("case_id")
    settled = cases[cases["outcome"] == "settled"].set_index("case_id")
    for cid, row in settled.iterrows():
        last = by_case.get_group(cid).iloc[-1]
        assert last["where"] == row["level"] and last["outcome"] == "settled"
        assert last["end_day"] <= row["close_day"] + 1e-9
    first = by_case.head(1).set_index("case_id")
    assert (first.loc[settled.index, "arrive_day"] == settled["arrival_day"]).all()
    ok = visits.dropna(subset=["start_day"])
    assert (ok["start_day"] >= ok["arrive_day"]).all() and (ok["end_day"] >= ok["start_day"]).all()


def test_off_duty_waits_show_in_the_trace():
    """Zhonglou's departments keep office hours: some hand-overs wait for opening."""
    rec = single_run(load_scenario(ZHONGLOU), 3, 0, record_cases=True)
    visits = pd.DataFrame(rec.visits, columns=VISIT_COLUMNS)
    assert (visits["off_duty_wait_hours"] > 0).any()


def test_timeline_from_a_results_folder(tmp_path: Path):
    spool = tmp_path / "spool"
    rec = single_run(load_scenario(ZHONGLOU), 3, 0, horizon_days=120.0, record_cases=str(spool))
    assert rec.extra["visit_files"]
    out = tmp_path / "results"
    out.mkdir()
    write_cases(out, [rec])
    assert write_visits(out, [rec])
    visits = pd.read_parquet(out / "visits.parquet")
    multi = visits.groupby("case_id")["step"].max()
    cid = int(multi[multi >= 2].index[0])
    text = timeline(out, cid, rep=0)
    assert text.startswith(f"case {cid} (replication 0)")
    assert text.count("handed to") == int(multi[cid]) + 1
    assert "arrives" in text and ("closed:" in text or "still open" in text)
    assert timeline(spool, cid, rep=0).count("handed to") == int(multi[cid]) + 1  # the spooled parts work too
    assert not math.isnan(visits["end_day"].max())
