"""Atomic writes inside one output folder: a file or folder is either complete or absent,
never half-written, never outside the folder being written, and never clobbered by a
second writer.

Every temporary name beside an output folder ``OUT`` carries the pid of the process that
made it (``.OUT.<pid>.*.partial``, ``.OUT.cases.<pid>.*``, ``.OUT.<pid>.old``; the lock
``.OUT.lock`` holds the pid), so the next run on the same folder removes the leftovers of
a run that was killed, and only those whose process is gone.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator


class OutputExists(Exception):
    """The output path exists (and is not resumable) and force was not given, or another
    process is writing it."""


class UnsafePath(ValueError):
    """A path a writer was asked to write that does not lie inside the folder being written."""


def inside(folder: str | Path, path: str | Path) -> Path:
    """``folder / path`` resolved (``path`` is a name inside ``folder``, or absolute), if it lies
    inside ``folder`` (resolved too); else UnsafePath.

    Every writer passes each path it writes through this, so a name that slipped past
    validation (``../escape``, an absolute path, a symlink out) can never write elsewhere.
    """
    root = Path(folder).resolve()
    target = (Path(folder) / path).resolve()
    if target != root and root not in target.parents:
        raise UnsafePath(f"refusing to write {path}: it is not inside the output folder {folder}")
    return target


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | Path, data: bytes, *, root: str | Path | None = None) -> None:
    """Write to a temporary file beside ``path``, flush it to disk, then rename over ``path``
    (which must lie inside ``root`` when given)."""
    path = inside(root, Path(path).absolute()) if root is not None else Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; results are meant to be shared
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str, *, root: str | Path | None = None) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), root=root)


def atomic_write_json(path: str | Path, obj: Any, *, root: str | Path | None = None) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False, default=_json_default) + "\n", root=root)


def _json_default(o: Any) -> Any:
    if hasattr(o, "item"):
        return o.item()
    if isinstance(o, (set, tuple)):
        return list(o)
    return str(o)


# --------------------------------------------------------------------------- leftovers and the lock
def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _lock_path(out: Path) -> Path:
    return out.parent / f".{out.name}.lock"


def _owner(name: str, out_name: str) -> int | None:
    """The pid in a temporary name beside ``out_name`` (None: not one of ours)."""
    m = re.match(rf"\.{re.escape(out_name)}\.(?:cases\.)?(\d+)\.", name)
    return int(m.group(1)) if m else None


def leftovers(out: str | Path, *, pid: int | None = None) -> list[Path]:
    """Temporary files and folders beside ``out`` left by dead processes (or by ``pid``)."""
    out = Path(out).absolute()
    if not out.parent.is_dir():
        return []
    found = []
    for p in out.parent.iterdir():
        owner = _owner(p.name, out.name)
        if owner is not None and (owner == pid if pid is not None else not _alive(owner)):
            found.append(p)
    return sorted(found)


def remove_leftovers(out: str | Path, *, pid: int | None = None) -> list[Path]:
    """Remove the leftovers :func:`leftovers` finds; return them."""
    gone = leftovers(out, pid=pid)
    for p in gone:
        shutil.rmtree(p, ignore_errors=True) if p.is_dir() and not p.is_symlink() else p.unlink(missing_ok=True)
    return gone


@contextmanager
def output_lock(out: str | Path) -> Iterator[Path]:
    """Hold ``.OUT.lock`` (made with O_CREAT|O_EXCL, holding this pid) for a whole command, so
    exactly one process writes ``out`` at a time; a lock whose process is gone is taken over,
    and the leftovers of dead runs beside ``out`` are removed."""
    out = Path(out).absolute()
    made = [d for d in (out.parent, *out.parent.parents) if not d.exists()]  # removed again if left empty
    out.parent.mkdir(parents=True, exist_ok=True)
    lock = _lock_path(out)
    for _ in range(3):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                holder = int(lock.read_text().strip() or 0)
            except (OSError, ValueError):
                holder = 0
            if holder and _alive(holder):
                raise OutputExists(f"{out} is being written by another process (pid {holder}); "
                                   f"wait for it to finish or choose another --out") from None
            lock.unlink(missing_ok=True)  # its process is gone (or it is not a pid yet: take it over)
            continue
        with os.fdopen(fd, "w") as fh:
            fh.write(f"{os.getpid()}\n")
        break
    else:
        raise OutputExists(f"{out} is being written by another process; choose another --out")
    try:
        remove_leftovers(out)
        yield lock
    finally:
        remove_leftovers(out, pid=os.getpid())
        try:
            if int(lock.read_text().strip() or 0) == os.getpid():
                lock.unlink()
        except (OSError, ValueError):
            pass
        for d in made:  # deepest first
            try:
                d.rmdir()
            except OSError:
                break


def temp_beside(out: str | Path, kind: str = "partial") -> Path:
    """A new temporary folder beside ``out`` named for this process (cleaned if it dies)."""
    out = Path(out).absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    if kind == "cases":
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.cases.{os.getpid()}.", dir=out.parent))
    else:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.{os.getpid()}.", suffix=f".{kind}", dir=out.parent))
    os.chmod(tmp, 0o777 & ~_umask())
    return tmp


def replace_with(tmp: Path, out: str | Path, force: bool) -> None:
    """Rename the complete folder ``tmp`` to ``out``. An existing ``out`` (folder or file) is
    replaced only with ``force``, and only now; one that appeared meanwhile is never replaced
    without it."""
    out = Path(out)
    if out.exists() or out.is_symlink():
        if not force:
            raise OutputExists(f"{out} appeared while this run was writing it; the results were not written "
                               f"(pass --force to replace it)")
        old = out.parent / f".{out.name}.{os.getpid()}.old"
        _remove(old)
        os.replace(out, old)
        try:
            os.rename(tmp, out)
        except BaseException:
            os.replace(old, out)
            raise
        _remove(old)
        return
    try:
        os.rename(tmp, out)  # onto a name that does not exist; a non-empty folder there fails
    except OSError as exc:
        if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
            raise OutputExists(f"{out} appeared while this run was writing it; the results were not written "
                               f"(pass --force to replace it)") from None
        raise


def _remove(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    elif p.exists() or p.is_symlink():
        p.unlink(missing_ok=True)


@contextmanager
def atomic_dir(path: str | Path, force: bool = False) -> Iterator[Path]:
    """Yield a temporary folder; on success it replaces ``path`` whole, on failure it vanishes."""
    path = Path(path)
    if (path.exists() or path.is_symlink()) and not force:
        raise OutputExists(f"{path} already exists; pass --force to replace it")
    tmp = temp_beside(path)
    try:
        yield tmp
        replace_with(tmp, path, force)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
