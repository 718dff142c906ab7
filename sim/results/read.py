"""The one reader of results folders: what kind a folder is and where its tables are.

``sim plot`` and ``sim report`` both start from :func:`read_folder`; tables are read only
when asked for, so listing a folder costs nothing.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping


class NotResults(FileNotFoundError):
    """A folder that no command of this tool wrote."""


class DamagedResults(NotResults):
    """A results folder whose manifest or tables are not what was written (corrupt, truncated, missing)."""


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def read_manifest(path: Path) -> dict[str, Any]:
    """A manifest.json as a mapping; DamagedResults naming the file when it cannot be one."""
    try:
        doc = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise DamagedResults(f"{path} is damaged: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise DamagedResults(f"{path} is damaged: not valid JSON (line {exc.lineno}, column {exc.colno}: "
                             f"{exc.msg})") from None
    except OSError as exc:
        raise DamagedResults(f"{path} cannot be read: {exc.strerror or exc}") from None
    if not isinstance(doc, dict):
        raise DamagedResults(f"{path} is damaged: expected a JSON object, found {type(doc).__name__}")
    return doc


def verify_files(folder: Path, manifest: Mapping[str, Any]) -> list[str]:
    """Check every file the manifest records (size and sha256) against the folder; raise
    DamagedResults naming each file that is missing or differs. Returns notes (a folder written
    before files were recorded is read unchecked, with a note)."""
    from .write import sha256

    files = manifest.get("files")
    if files is None:
        return [f"{folder}: written by an older version that recorded no checksums; its tables are read unchecked"]
    if not isinstance(files, Mapping):
        raise DamagedResults(f"{folder / 'manifest.json'} is damaged: 'files' is not a mapping")
    problems = []
    for name, rec in files.items():
        f = folder / str(name)
        if "/" in str(name) or str(name).startswith(".") or not isinstance(rec, Mapping):
            problems.append(f"{f}: not a file this tool records")
        elif not f.is_file():
            problems.append(f"{f} is missing")
        elif f.stat().st_size != rec.get("bytes") or sha256(f) != rec.get("sha256"):
            problems.append(f"{f} is damaged or truncated: {f.stat().st_size:,} bytes, its checksum differs from "
                            f"the one recorded when it was written ({rec.get('bytes', '?'):,} bytes"
                            f"{', ' + format(rec['rows'], ',') + ' rows' if 'rows' in rec else ''})")
    if problems:
        raise DamagedResults("the results folder is damaged:\n  " + "\n  ".join(problems))
    return []


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
    notes: list[str] = field(default_factory=list)

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


def _runs(folder: Path, manifest: Mapping[str, Any], notes: list[str]) -> list[RunFolder]:
    if isinstance(manifest.get("scenario"), Mapping):
        return [RunFolder(manifest["scenario"].get("name", folder.name), dict(manifest["scenario"]), dict(manifest), folder)]
    out = []
    names = manifest.get("scenarios") or sorted(p.name for p in folder.iterdir() if (p / "manifest.json").exists())
    if not isinstance(names, list):
        raise DamagedResults(f"{folder / 'manifest.json'} is damaged: 'scenarios' is not a list")
    for name in names:
        sub = folder / str(name)
        if sub.resolve().parent != folder.resolve():
            raise DamagedResults(f"{folder / 'manifest.json'} is damaged: {name!r} is not a sub-folder name")
        if (sub / "manifest.json").exists():
            m = read_manifest(sub / "manifest.json")
            notes += verify_files(sub, m)
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
    manifest = read_manifest(mpath)
    kind = str(manifest.get("kind") or "run")
    notes = verify_files(path, manifest)
    runs = _runs(path, manifest, notes)
    for note in notes:
        logging.getLogger("sim.results").warning("note: %s", note)
    return ResultsFolder(path, kind, manifest, runs, notes)
