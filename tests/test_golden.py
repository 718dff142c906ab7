"""Golden results: every scenario and test network gives the stored results bit for bit.

A failure here means a change altered results. If that was meant, regenerate the files with
``.venv/bin/python tests/golden_cases.py`` in the same commit and say why in its message.
"""

from __future__ import annotations

import json

import pytest

from golden_cases import compute, golden_files, golden_path


@pytest.mark.parametrize("path", golden_files(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_results_identical_to_golden(path):
    stored_file = golden_path(path)
    assert stored_file.exists(), f"no golden results for {path.name}: run tests/golden_cases.py"
    stored = json.loads(stored_file.read_text())
    fresh = json.loads(json.dumps(compute(path)))
    assert fresh["horizon_days"] == stored["horizon_days"]
    for new, old in zip(fresh["replications"], stored["replications"], strict=True):
        assert new["metrics"].keys() == old["metrics"].keys(), "metric names changed"
        changed = {k: (old["metrics"][k], v) for k, v in new["metrics"].items() if v != old["metrics"][k]}
        assert not changed, f"replication {new['rep']}: metrics changed (old, new): {changed}"
        assert new["backlog"] == old["backlog"], f"replication {new['rep']}: daily backlog changed"
        assert new["cases"] == old["cases"], f"replication {new['rep']}: per-case rows changed"
    changed = {k: (stored["summary"].get(k), v) for k, v in fresh["summary"].items() if v != stored["summary"].get(k)}
    assert not changed, f"summary changed (old, new): {changed}"
