"""`sim trace DIR CASE_ID`: one case's path from a run folder, and clean errors for what is not there."""

from __future__ import annotations

import pandas as pd

from conftest import SCENARIOS
from sim.cli import main


def test_trace_prints_the_path_of_a_case_written_by_run(tmp_path, capsys):
    out = tmp_path / "fx"
    assert main(["run", str(SCENARIOS / "fangxing.yaml"), "--reps", "1", "--horizon-days", "40", "--out", str(out),
                 "--quiet", "--json"]) == 0
    capsys.readouterr()
    cases = pd.read_parquet(out / "cases.parquet")
    visits = pd.read_parquet(out / "visits.parquet")
    settled_high = cases[(cases["outcome"] == "settled") & (cases["level"] == "community")].iloc[0]
    cid = int(settled_high["case_id"])
    assert main(["trace", str(out), str(cid)]) == 0
    text = capsys.readouterr().out
    assert f"case {cid} (replication 0)" in text and "arrives" in text
    # one line per level or mechanism visited, in order, ending where the case table says it closed
    steps = visits[visits["case_id"] == cid].sort_values("step")
    assert len(steps) >= 3  # building and grid did not settle it
    assert [ln for ln in text.splitlines() if "handed to" in ln][0].count(str(steps.iloc[0]["where"])) == 1
    assert text.splitlines()[-1].strip().endswith(f"after {settled_high['days_to_close']:.1f} days")
    assert "closed: settled at community" in text


def test_trace_refuses_an_unknown_case_or_folder(tmp_path, capsys):
    out = tmp_path / "fx"
    assert main(["run", str(SCENARIOS / "zhaojialou.yaml"), "--reps", "1", "--horizon-days", "40", "--out", str(out),
                 "--quiet", "--json"]) == 0
    capsys.readouterr()
    assert main(["trace", str(out), "99999999"]) == 2
    assert "not in" in capsys.readouterr().err
    assert main(["trace", str(tmp_path / "nothing"), "1"]) == 2
    assert "no case table" in capsys.readouterr().err
