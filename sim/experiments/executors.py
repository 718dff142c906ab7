"""Executors: map a picklable function over tasks, locally or on a Dask cluster.

Every executor returns results in task order, whatever order the tasks finish in, so a
result never depends on the number or kind of workers. ``on_result(i, value)`` is called in
the calling process as each task finishes (a sweep writes finished points from it); with
``keep_results=False`` a result is handed to ``on_result`` and then dropped, not kept in the
outcome, so the caller's memory does not grow with the number of tasks.

* ``serial``: in this process (``workers <= 1``).
* ``local``: a :class:`concurrent.futures.ProcessPoolExecutor`. If a worker process dies
  (``BrokenProcessPool``: killed, out of memory, ``os._exit``), the pool is rebuilt and the
  unfinished tasks are retried; once a pool has broken twice, the remaining tasks run one per
  fresh pool so that a task that always kills its worker is found and reported on its own.
* ``dask``: a ``dask.distributed`` client on ``scheduler`` (an address), or on a
  ``LocalCluster`` started for the session when no address is given. The scheduler
  reschedules tasks whose worker died; imports are lazy so ``sim --help`` stays quick.

A task that raises an ordinary exception is not retried (it would raise again); it is
reported as a :class:`Failure` with the exception.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

EXECUTORS = ("local", "dask")
DEFAULT_RETRIES = 2


@dataclass
class Failure:
    """Why one task produced no result."""

    index: int
    reason: str
    exception: BaseException | None = None
    attempts: int = 1


@dataclass
class MapOutcome:
    """Results in task order (``None`` where a task failed) and the failures by task index."""

    results: list[Any]
    failures: dict[int, Failure] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures


class TasksFailed(RuntimeError):
    """Some tasks failed even after retries; ``failures`` says which and why."""

    def __init__(self, failures: dict[int, Failure], describe: Callable[[int], str] | None = None):
        self.failures = failures
        lines = [f"{describe(i) if describe else f'task {i}'}: {f.reason}" for i, f in sorted(failures.items())]
        super().__init__(f"{len(failures)} task(s) failed:\n" + "\n".join(lines))


def resolve_workers(workers: int | None) -> int:
    """``0`` or ``None`` means one worker per CPU core."""
    if not workers:
        return max(1, os.cpu_count() or 1)
    return max(1, int(workers))


# --------------------------------------------------------------------------- scheduler addresses
SCHEDULER_SCHEMES = ("tcp", "tls", "inproc", "ucx")
_HOST = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_.-]{0,252})")


class SchedulerAddressError(ValueError):
    """A Dask scheduler address that cannot be right; said before any connection is tried."""


def check_scheduler_address(address: str) -> str:
    """The address unchanged if it is ``[scheme://]host:port`` with a scheme Dask knows
    (tcp, tls, inproc, ucx) and a port 1-65535; else SchedulerAddressError saying why.
    Checked up front: Dask raises tracebacks on malformed addresses and waits 30 s on bad ports."""
    def bad(why: str) -> SchedulerAddressError:
        shown = address if len(address) <= 80 else address[:75] + "..."
        return SchedulerAddressError(f"--scheduler {shown!r}: {why}; expected an address like tcp://host:8786")

    if not isinstance(address, str) or not address.strip():
        raise SchedulerAddressError("--scheduler: expected an address like tcp://host:8786 (got nothing)")
    scheme, sep, rest = address.partition("://")
    if not sep:
        scheme, rest = "tcp", address
    if scheme not in SCHEDULER_SCHEMES:
        raise bad(f"unknown scheme '{scheme}' (expected one of {', '.join(SCHEDULER_SCHEMES)})")
    if scheme == "inproc":
        if not rest or not rest.isprintable():
            raise bad("an inproc address needs a name")
        return address
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(f"//{rest}")
        host, port = parts.hostname, parts.port
    except ValueError as exc:  # "Invalid IPv6 URL", "Port out of range 0-65535", a port that is not a number
        raise bad(str(exc).replace("0-65535", "1-65535")) from None
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        raise bad("only host and port may be given")
    if not host:
        raise bad("no host")
    if ":" not in host and _HOST.fullmatch(host) is None:
        raise bad(f"'{host}' is not a host name or IP address")
    if port is None:
        raise bad("no port")
    if not 1 <= port <= 65535:
        raise bad(f"port {port} is outside 1-65535")
    return address


# --------------------------------------------------------------------------- executors
class Executor:
    """Maps a function over items; subclasses say where the work runs."""

    workers: int = 1

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], *,
            on_result: Callable[[int, Any], None] | None = None, keep_results: bool = True) -> MapOutcome:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class SerialExecutor(Executor):
    """Runs tasks one after another in this process."""

    def map(self, fn, items, *, on_result=None, keep_results=True):
        out = MapOutcome([None] * len(items))
        for i, item in enumerate(items):
            try:
                value = fn(item)
            except Exception as exc:  # reported, not retried: it would fail again
                out.failures[i] = Failure(i, f"{type(exc).__name__}: {exc}", exc)
                continue
            _deliver(out, i, value, on_result, keep_results)
        return out


class LocalExecutor(Executor):
    """A local process pool that survives workers dying (see the module docstring)."""

    def __init__(self, workers: int = 2, retries: int = DEFAULT_RETRIES):
        self.workers = resolve_workers(workers)
        self.retries = retries

    def map(self, fn, items, *, on_result=None, keep_results=True):
        if self.workers <= 1 or len(items) <= 1:
            return SerialExecutor().map(fn, items, on_result=on_result, keep_results=keep_results)
        deliver = (lambda i, v: _deliver(out, i, v, on_result, keep_results))
        out = MapOutcome([None] * len(items))
        attempts = {i: 0 for i in range(len(items))}
        alone = {i: 0 for i in range(len(items))}
        pending = list(range(len(items)))
        # Shared pool: the first run and, if it broke, one rebuild for every unfinished task.
        for _ in range(2 if self.retries else 1):
            if not pending:
                break
            for i in pending:
                attempts[i] += 1
            pending = self._run_batch(fn, items, pending, out, deliver, self.workers)
        # Still breaking: run each remaining task alone, so the one that kills its worker is known.
        for i in pending:
            while True:
                if alone[i] >= self.retries:
                    out.failures[i] = Failure(i, f"worker process died on each of {attempts[i]} attempts "
                                                 f"(BrokenProcessPool; {alone[i]} of them running alone)",
                                              attempts=attempts[i])
                    break
                attempts[i] += 1
                alone[i] += 1
                if not self._run_batch(fn, items, [i], out, deliver, 1):
                    break
        return out

    def _run_batch(self, fn, items, batch, out: MapOutcome, deliver, workers: int) -> list[int]:
        """Run a batch in a fresh pool; return the indices left unfinished because the pool broke.
        A finished future is dropped as soon as its result is delivered (it holds the result)."""
        from concurrent.futures import ProcessPoolExecutor, as_completed
        from concurrent.futures.process import BrokenProcessPool

        pool = ProcessPoolExecutor(max_workers=min(workers, len(batch)), initializer=die_with_parent,
                                   initargs=(os.getpid(),))
        died: list[int] = []
        try:
            futures = {pool.submit(fn, items[i]): i for i in batch}
            for fut in as_completed(futures):
                i = futures.pop(fut)
                try:
                    value = fut.result()
                except BrokenProcessPool:
                    died.append(i)
                    continue
                except Exception as exc:
                    out.failures[i] = Failure(i, f"{type(exc).__name__}: {exc}", exc)
                    continue
                finally:
                    del fut
                deliver(i, value)
                del value
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return sorted(died)


def _deliver(out: MapOutcome, i: int, value: Any, on_result: Callable[[int, Any], None] | None,
             keep: bool) -> None:
    """Keep a task's result in the outcome (unless ``keep`` is False) and hand it to ``on_result``."""
    if keep:
        out.results[i] = value
    if on_result:
        on_result(i, value)


def die_with_parent(parent: int) -> None:
    """Worker initializer: end this worker when the process that started it dies (even by SIGKILL),
    so no orphan keeps computing and holding memory. On Linux the kernel sends SIGKILL
    (``prctl(PR_SET_PDEATHSIG)``); elsewhere a daemon thread watches the parent pid."""
    import sys
    import threading

    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)

    def watch() -> None:
        import time

        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


class DaskExecutor(Executor):
    """A ``dask.distributed`` client; starts a LocalCluster when no scheduler address is given."""

    def __init__(self, scheduler: str | Any | None = None, workers: int = 2, retries: int = DEFAULT_RETRIES):
        from dask.distributed import Client, LocalCluster

        self.retries = retries
        self._cluster = None
        if scheduler is None:
            import dask

            self.workers = resolve_workers(workers)
            # Every task is independent: hand them all to the workers at once (no queue on the
            # scheduler), so a worker never waits a round trip to the scheduler between tasks,
            # which costs most on a busy machine where the scheduler shares the cores.
            with dask.config.set({"distributed.scheduler.worker-saturation": float("inf")}):
                self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                             dashboard_address=None)
            self.client = Client(self._cluster)
        elif isinstance(scheduler, str):
            self.client = Client(check_scheduler_address(scheduler))
        else:  # an existing Client or cluster object
            self.client = scheduler if hasattr(scheduler, "map") else Client(scheduler)
        self._own_client = not (scheduler is not None and not isinstance(scheduler, str) and hasattr(scheduler, "map"))
        self.workers = max(1, sum(self.client.nthreads().values()))  # task slots on the cluster

    def map(self, fn, items, *, on_result=None, keep_results=True):
        from dask.distributed import as_completed

        out = MapOutcome([None] * len(items))
        if not items:
            return out
        # A task whose worker dies is rescheduled by the scheduler itself (up to the
        # distributed.scheduler.allowed-failures setting, then KilledWorker); ``retries`` here
        # re-runs tasks that raised, which only helps with transient faults on remote machines.
        # A finished future is released as soon as its result is delivered, so neither this
        # process nor the workers keep results that are already handled.
        futures = self.client.map(fn, list(items), pure=False, retries=self.retries)
        pending = {f.key: (i, f) for i, f in enumerate(futures)}
        done = as_completed(futures)
        del futures
        try:
            for fut in done:
                i, _ = pending.pop(fut.key)
                if fut.status == "error":
                    exc = fut.exception()
                    out.failures[i] = Failure(i, f"{type(exc).__name__}: {exc}", exc)
                    fut.release()
                    continue
                value = fut.result()
                fut.release()
                del fut
                _deliver(out, i, value, on_result, keep_results)
                del value
        except BaseException:
            self.client.cancel([f for _, f in pending.values()])
            raise
        return out

    def close(self) -> None:
        if self._own_client:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(kind: str | None = None, workers: int = 1, scheduler: str | Any | None = None,
                  retries: int = DEFAULT_RETRIES) -> Executor:
    """The executor for ``kind`` ('local' or 'dask'; None: local, or Dask when a scheduler is given)."""
    if isinstance(scheduler, str):
        check_scheduler_address(scheduler)
    if scheduler is not None and kind == "local":
        raise ValueError("the local executor cannot use a Dask scheduler; use kind 'dask'")
    if scheduler is not None and kind is None:
        kind = "dask"
    if kind == "dask":
        return DaskExecutor(scheduler, workers=workers, retries=retries)
    if kind not in (None, "local"):
        raise ValueError(f"unknown executor {kind!r}; expected one of {', '.join(EXECUTORS)}")
    return LocalExecutor(workers, retries=retries) if resolve_workers(workers) > 1 else SerialExecutor()


@contextmanager
def executor_session(executor: Executor | str | None = None, workers: int = 1, scheduler: str | Any | None = None,
                     retries: int = DEFAULT_RETRIES) -> Iterator[Executor]:
    """Use a given executor as is, or make one for the block and close it afterwards."""
    if isinstance(executor, Executor):
        yield executor
        return
    ex = make_executor(executor, workers, scheduler, retries)
    try:
        yield ex
    finally:
        ex.close()


def map_tasks(fn: Callable[[Any], Any], items: Sequence[Any], *, workers: int = 1, executor: Executor | str | None = None,
              scheduler: str | Any | None = None, retries: int = DEFAULT_RETRIES,
              on_result: Callable[[int, Any], None] | None = None, keep_results: bool = True) -> MapOutcome:
    """Map ``fn`` over ``items`` with the chosen executor; results in item order."""
    with executor_session(executor, workers, scheduler, retries) as ex:
        return ex.map(fn, items, on_result=on_result, keep_results=keep_results)
