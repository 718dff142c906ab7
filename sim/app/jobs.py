"""Work done in a worker process: runs, comparisons and staffing searches writing results folders.

Each job reports progress as ("progress", done, total) and ends with ("done", folder) or
("error", message) on a queue the page polls; cancelling terminates the process.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue as queues
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .inputs import Inputs, load

WORKERS = max(1, min(2, os.cpu_count() or 1))


def _progress(queue: Any, total: int) -> Callable[[int], None]:
    done = [0]

    def advance(n: int = 1) -> None:
        done[0] += n
        queue.put(("progress", done[0], total))

    return advance


def run_job(inputs: Inputs, out: str, queue: Any) -> None:
    """Replications of one scenario (sim.run) or two (sim.compare), the folder and its figures."""
    import sim

    try:
        loaded = [load(p, inputs) for p in inputs.scenarios]
        reps = inputs.reps or loaded[0].scenario.replications
        advance = _progress(queue, reps * len(loaded))
        kw = {"horizon_days": inputs.horizon_days, "workers": WORKERS, "progress": advance, "out": out, "force": True}
        if len(loaded) == 1:
            sim.run(loaded[0], reps, inputs.seed, **kw)
        else:
            sim.compare(loaded, reps, inputs.seed, **kw)
        sim.plot_folder(out)
        queue.put(("done", out))
    except Exception as exc:  # noqa: BLE001  (any failure is shown on the page, not lost in a worker)
        queue.put(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=2)}"))


def staff_job(inputs: Inputs, vary: dict[str, list[int]], targets: list[str], out: str, queue: Any) -> None:
    """A staffing search (sim.staff) on the first scenario with the planner's overrides, and its frontier figure."""
    import sim

    try:
        loaded = load(inputs.scenarios[0], inputs)
        reps = max(2, inputs.reps or loaded.scenario.replications)
        points = 1
        for v in vary.values():
            points *= len(v)
        sim.staff(loaded, vary, targets, reps, inputs.seed, horizon_days=inputs.horizon_days, workers=WORKERS,
                  out=out, progress=_progress(queue, points * reps))
        sim.plot_folder(out)
        queue.put(("done", out))
    except Exception as exc:  # noqa: BLE001  (shown on the page)
        queue.put(("error", f"{type(exc).__name__}: {exc}"))


class Job:
    """A job running in its own process; ``poll()`` gives its messages, ``cancel()`` stops it."""

    def __init__(self, target: Callable[..., None], *args: Any) -> None:
        ctx = mp.get_context("spawn")
        self.queue = ctx.Queue()
        self.process = ctx.Process(target=target, args=(*args, self.queue), daemon=False)
        self.process.start()

    def poll(self) -> list[tuple]:
        msgs = []
        while True:
            try:
                msgs.append(self.queue.get_nowait())
            except queues.Empty:
                return msgs

    def alive(self) -> bool:
        return self.process.is_alive()

    def cancel(self) -> None:
        """Stop the job and the replication processes it started."""
        import psutil

        try:
            children = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            children = []
        for child in children:
            try:
                child.kill()
            except psutil.NoSuchProcess:
                continue
        self.process.kill()
        self.process.join(timeout=5)


def new_folder(root: Path, stem: str) -> str:
    """A fresh results folder path under ``root`` (not created: the API writes it atomically)."""
    root.mkdir(parents=True, exist_ok=True)
    i = 1
    while (root / f"{stem}-{i}").exists():
        i += 1
    return str(root / f"{stem}-{i}")
