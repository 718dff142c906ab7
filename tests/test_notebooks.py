"""The notebooks run end to end (short runs) in the project's Jupyter kernel, and are stored clean.

Each notebook takes its run length from one code cell tagged ``parameters``; here that cell
gets short values appended (the rest of the notebook is executed unchanged) and the notebook
is executed with nbclient in the ``python3`` kernel installed into ``.venv`` by the Makefile.
A cell that raises fails the test; so does a plotting cell that shows no figure.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"

# Values that keep each notebook to a few seconds: warm-up 30 days + 15 measured days, 2 replications.
QUICK = {
    "01_quickstart.ipynb": "HORIZON_DAYS = 45\nREPS = 2",
    "02_staffing_fangxing_vs_zhaojialou.ipynb": "HORIZON_DAYS = 45\nREPS = 2\nGRID_WORKERS = [2, 6]\nBUILDING_HEADS = [1]",
    "03_write_your_own_scenario.ipynb": "HORIZON_DAYS = 45\nREPS = 2",
    "04_workload_and_staffing.ipynb": "HORIZON_DAYS = 40\nREPS = 2",
}


def _parameter_cell(nb) -> nbformat.NotebookNode:
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, "exactly one cell tagged 'parameters'"
    return cells[0]


def test_every_notebook_is_listed_and_stored_without_outputs():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(QUICK)
    for name in QUICK:
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        nbformat.validate(nb)
        assert nb.metadata["kernelspec"]["name"] == "python3"
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{name}: stored with outputs"
        params = _parameter_cell(nb)
        assert "HORIZON_DAYS" in params.source and "REPS" in params.source


@pytest.mark.parametrize("name", sorted(QUICK))
def test_notebook_runs(name: str):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    cell = _parameter_cell(nb)
    cell.source = f"{cell.source}\n# short run for the tests\n{QUICK[name]}"
    NotebookClient(nb, kernel_name="python3", timeout=300, allow_errors=False,
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    plot_cells = [c for c in nb.cells if c.cell_type == "code" and "plots." in c.source]
    assert plot_cells
    for c in plot_cells:
        images = [o for o in c.outputs if "image/png" in o.get("data", {})]
        assert images, f"{name}: a plotting cell showed no figure:\n{c.source}"


@pytest.mark.parametrize("name", sorted(QUICK))
def test_notebooks_use_only_the_public_api(name):
    """`import sim` and `from sim import plots` only: no private modules, import fallbacks or copied helpers."""
    import re

    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    imports = set(re.findall(r"^\s*(?:from|import) (sim[\w.]*)", code, flags=re.M))
    assert imports <= {"sim"}, imports
    assert set(re.findall(r"from sim import (\w+)", code)) <= {"plots"}
    assert "ImportError" not in code
    import sim

    for attr in set(re.findall(r"\bsim\.(\w+)", code)):
        assert attr in sim.__all__ or attr == "plots", attr
