"""Nothing half-written: results folders appear whole or not at all, interrupted or not, and an
existing folder is replaced only with --force."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import TEST_SCENARIOS
from sim.cli import main
from sim.results import atomic_write_json, atomic_write_text

LADDER = str(TEST_SCENARIOS / "ladder.yaml")
FAST = ["--reps", "2", "--horizon-days", "12", "--quiet"]


def leftovers(folder: Path) -> list[str]:
    """Temporary files or folders (dot-names) left beside the results."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_run_out_writes_a_complete_folder(tmp_path, capsys):
    out = tmp_path / "res"
    assert main(["run", LADDER, *FAST, "--out", str(out)]) == 0
    names = {p.name for p in out.iterdir()}
    assert {"summary.json", "summary.csv", "replications.csv", "backlog.csv", "manifest.json"} <= names
    assert json.loads((out / "manifest.json").read_text())["replications"] == 2
    assert leftovers(tmp_path) == [] and leftovers(out) == []


def test_existing_folder_is_not_overwritten_without_force(tmp_path, capsys):
    out = tmp_path / "res"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    assert main(["run", LADDER, *FAST, "--out", str(out)]) == 2
    assert capsys.readouterr().err.strip() == f"sim: {out} already exists; pass --force to replace it"
    assert [p.name for p in out.iterdir()] == ["mine.txt"]
    assert main(["run", LADDER, *FAST, "--out", str(out), "--force"]) == 0
    assert not (out / "mine.txt").exists() and (out / "summary.json").exists()
    assert leftovers(tmp_path) == []


def _interrupt_while_writing(monkeypatch):
    """Make writing the CSV tables raise KeyboardInterrupt (as Ctrl-C would) half-way through the folder."""
    import pandas as pd

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_csv", boom)


def test_interrupt_while_writing_leaves_nothing(tmp_path, capsys, monkeypatch):
    out = tmp_path / "res"
    _interrupt_while_writing(monkeypatch)
    assert main(["run", LADDER, *FAST, "--out", str(out)]) == 130
    assert capsys.readouterr().err.strip() == (
        f"sim: interrupted; results are written only when complete, so {out} was not written (nothing was written there)")
    assert not out.exists() and leftovers(tmp_path) == []


def test_interrupt_while_replacing_keeps_the_old_folder(tmp_path, capsys, monkeypatch):
    out = tmp_path / "res"
    out.mkdir()
    (out / "old.txt").write_text("old results")
    _interrupt_while_writing(monkeypatch)
    assert main(["run", LADDER, *FAST, "--out", str(out), "--force"]) == 130
    assert capsys.readouterr().err.strip().endswith(f"so {out} was not written (the existing folder was left as it was)")
    assert [p.name for p in out.iterdir()] == ["old.txt"] and (out / "old.txt").read_text() == "old results"
    assert leftovers(tmp_path) == []


def test_unwritable_out_is_a_message_not_a_traceback(tmp_path, capsys):
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    assert main(["run", LADDER, *FAST, "--out", str(blocker / "res")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"sim: cannot write {blocker / 'res'}: ") and "Traceback" not in err


def test_atomic_file_write_keeps_the_old_file_when_interrupted(tmp_path, monkeypatch):
    f = tmp_path / "summary.json"
    atomic_write_json(f, {"v": 1})

    def boom(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_text(f, '{"v": 2, "half": ')
    assert json.loads(f.read_text()) == {"v": 1}
    assert leftovers(tmp_path) == []


def test_ctrl_c_during_the_simulation_leaves_nothing(tmp_path):
    """A real SIGINT to `sim run --out` while replications run: exit 130, a message, no folder."""
    out = tmp_path / "res"
    # an overloaded ladder (building utilisation 1.25): the warning printed just before the
    # replications start tells us when to press Ctrl-C; ten years of it take many seconds
    cmd = [sys.executable, "-m", "sim.cli", "run", LADDER, "--set", "arrivals.rate_per_household_year=2.5",
           "--max-open-cases", "10000000", "--reps", "20", "--horizon-days", "3650", "--quiet", "--out", str(out)]
    # Ctrl-C's default action in the child: a shell without job control starts background
    # commands with SIGINT ignored, and Python then installs no KeyboardInterrupt handler
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        first = proc.stderr.readline()
        assert "warning: unstable: arrival rate exceeds capacity at level building" in first
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert "Traceback" not in err
    assert err.strip() == f"sim: interrupted; results are written only when complete, so {out} was not written (nothing was written there)"
    assert not out.exists() and leftovers(tmp_path) == []
