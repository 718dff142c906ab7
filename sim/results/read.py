"""The one reader of results folders: what kind a folder is and where its tables are.

``sim plot`` and ``sim report`` both start from :func:`read_folder`; tables are read only
when asked for, so listing a folder costs nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping


class NotResults(FileNotFoundError):
    """A folder that no command of this tool wrote."""


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def read_table(folder: Path, stem: str) -> Any:
    """A table stored as <stem>.parquet, <stem>.csv or <stem>.csv.gz (a pandas DataFrame); None if absent."""
    import pandas as pd

    for suffix, reader in ((".parquet", pd.read_parquet), (".csv", pd.read_csv), (".csv.gz", pd.read_csv)):
        f = folder / f"{stem}{suffix}"
        if f.exists():
            return reader(f)
    return None


@dataclass
class RunFolder:
    """One scenario of a results folder: its resolved data, manifest and the folder of its tables."""

    name: str
    data: dict[str, Any]
    manifest: dict[str, Any]
    folder: Path

    def table(self, stem: str) -> Any:
        return read_table(self.folder, stem)

    def scenario(self) -> Any:
        """The validated scenario the run was made from."""
        from ..scenario.loader import validate_data

        return validate_data(self.data, str(self.folder / "manifest.json"))


@dataclass
class ResultsFolder:
    """A results folder: its kind (run, compare, sweep, staff, sensitivity), manifest and scenarios
    (one per run of a run or compare folder; the base scenario of the other kinds)."""

    path: Path
    kind: str
    manifest: dict[str, Any]
    runs: list[RunFolder]

    def table(self, stem: str) -> Any:
        """A table of the folder itself (sweep, frontier, compare, sensitivity); None if absent."""
        return read_table(self.path, stem)

    def has(self, stem: str) -> bool:
        return any((self.path / f"{stem}{s}").exists() for s in (".parquet", ".csv", ".csv.gz"))

    def first_target(self, frontier: Any) -> tuple[str | None, float | None]:
        """The first target of a staffing search (chosen.json) whose metric is in the frontier table."""
        from ..experiments.staff import Target
        from ..scenario import ScenarioError

        f = self.path / "chosen.json"
        if not f.exists():
            return None, None
        for text in read_json(f).get("targets", []):
            try:
                t = Target.parse(str(text))
            except ScenarioError:
                continue
            if f"{t.metric}.mean" in frontier.columns:
                return t.metric, t.value
        return None, None


def _runs(folder: Path, manifest: Mapping[str, Any]) -> list[RunFolder]:
    if isinstance(manifest.get("scenario"), Mapping):
        return [RunFolder(manifest["scenario"].get("name", folder.name), dict(manifest["scenario"]), dict(manifest), folder)]
    out = []
    names = manifest.get("scenarios") or sorted(p.name for p in folder.iterdir() if (p / "manifest.json").exists())
    for name in names:
        sub = folder / str(name)
        if (sub / "manifest.json").exists():
            m = read_json(sub / "manifest.json")
            if isinstance(m.get("scenario"), Mapping):
                out.append(RunFolder(str(name), dict(m["scenario"]), m, sub))
    return out


def read_folder(folder: str | Path) -> ResultsFolder:
    """Recognise a results folder by its manifest (a folder without one but with a sweep table is a sweep)."""
    path = Path(folder)
    mpath = path / "manifest.json"
    if not path.is_dir():
        raise NotResults(f"{path} is not a folder")
    if not mpath.exists():
        for stem, kind in (("sweep", "sweep"), ("frontier", "staff")):
            if any((path / f"{stem}{s}").exists() for s in (".parquet", ".csv")):
                return ResultsFolder(path, kind, {}, [])
        raise NotResults(f"{path} has no manifest.json: not a results folder of sim run/compare/sweep/staff/sensitivity")
    manifest = read_json(mpath)
    kind = str(manifest.get("kind") or "run")
    return ResultsFolder(path, kind, manifest, _runs(path, manifest))
