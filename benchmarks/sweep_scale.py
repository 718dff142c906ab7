"""Benchmark: a 1,000-point sweep on a Dask LocalCluster (2 workers) against the local pool.

The sweep: staff x demand (40 grid-worker head counts x 25 arrival rates) over the synthetic
district cut to one 5,000-household community, 60 days, 2 replications a point. It prints

* points per wall second with the local process pool (2 workers) and with Dask (2 workers,
  the LocalCluster's start included), and their ratio (target >= 0.9); with ``--rounds 2`` the
  order alternates (local, dask, dask, local) and the ratio is that of the summed wall times;
* the peak resident memory of the process driving each sweep (each sweep runs in a fresh
  process; VmRSS sampled every 50 ms) against its memory before the sweep, at ``--points`` and
  at ``--small`` points (default 250): flat memory means the peak does not grow with the points;
* resume: a Dask sweep in a child process is killed (scheduler, workers and all) once a
  quarter of the points are written; the rerun reuses them, and its table equals the local pool's;
* the load average while it ran.

    .venv/bin/python benchmarks/sweep_scale.py [--points 1000] [--small 250] [--rounds 1] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DISTRICT = ROOT / "scenarios" / "synthetic_district.yaml"
COMMUNITY = ["households=5000", "levels.street.per_parent=1", "levels.community.per_parent=1",
             "levels.grid.per_parent=10", "warmup_days=0"]
DAYS, REPS = 60.0, 2


def grid(points: int) -> dict[str, list[Any]]:
    """About ``points`` points: 40 staffing levels x demand levels."""
    rates = max(1, points // 40)
    return {"roles.grid_worker.staff_per_unit": list(range(3, 43)),
            "arrivals.rate_per_household_year": [round(0.04 + 0.01 * i, 3) for i in range(rates)]}


def n_points(points: int) -> int:
    g = grid(points)
    return len(g["roles.grid_worker.staff_per_unit"]) * len(g["arrivals.rate_per_household_year"])


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return float(line.split()[1]) / 1024.0
    return float("nan")  # pragma: no cover - not Linux


def with_peak_memory(fn: Callable[[], Any]) -> tuple[Any, float, float, float]:
    """(result, wall seconds, RSS before in MB, peak RSS during in MB) of fn()."""
    peak, stop = [rss_mb()], threading.Event()
    before = peak[0]

    def sample() -> None:
        while not stop.wait(0.05):
            peak[0] = max(peak[0], rss_mb())

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    t0 = time.perf_counter()
    try:
        out = fn()
    finally:
        wall = time.perf_counter() - t0
        stop.set()
        th.join()
    return out, wall, before, max(peak[0], rss_mb())


def run_sweep(out: str, executor: str, points: int, per_task: int | None = None) -> Any:
    from sim.experiments.sweep import sweep

    extra = {} if per_task is None else {"points_per_task": per_task}  # None: the sweep's default (and older versions)
    return sweep(str(DISTRICT), grid(points), reps=REPS, seed=1, out=out, workers=2, horizon_days=DAYS,
                 overrides=COMMUNITY, executor=executor, **extra)


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover
        return []


def finished(points_dir: Path) -> int:
    """Finished point files (this version's .parquet or an older version's .json)."""
    if not points_dir.is_dir():
        return 0
    return sum(1 for f in points_dir.iterdir() if f.suffix in (".parquet", ".json") and not f.name.startswith("."))


def child(out: str, executor: str, points: int, report: str | None, per_task: int | None = None) -> None:
    """One sweep in this fresh process; with ``report``, its wall time and memory go there as JSON."""
    import pandas  # noqa: F401  (imported before the 'before' figure, as the driver of any sweep would have)

    import sim.experiments.sweep  # noqa: F401

    _, wall, before, peak = with_peak_memory(lambda: run_sweep(out, executor, points, per_task))
    if report:
        Path(report).write_text(json.dumps({"wall_s": wall, "rss_before_mb": before, "rss_peak_mb": peak}))


def per_task_args(per_task: int | None) -> list[str]:
    return [] if per_task is None else ["--points-per-task", str(per_task)]


def timed_child(tmp: Path, name: str, executor: str, points: int, per_task: int | None = None) -> dict[str, Any]:
    report = tmp / f"{name}.json"
    subprocess.run([sys.executable, __file__, "--child", str(tmp / name), "--executor", executor, "--points", str(points),
                    "--report", str(report), *per_task_args(per_task)], cwd=ROOT, check=True)
    fig = json.loads(report.read_text())
    n = n_points(points)
    fig.update({"points": n, "points_per_s": n / fig["wall_s"], "load_after": load_average()})
    print(f"{executor:<6} {n:5d} points x {REPS} reps: {fig['wall_s']:6.1f} s, {fig['points_per_s']:5.2f} points/s; "
          f"driver RSS {fig['rss_before_mb']:.0f} MB before, {fig['rss_peak_mb']:.0f} MB peak "
          f"(+{fig['rss_peak_mb'] - fig['rss_before_mb']:.0f}); load {fig['load_after']}", flush=True)
    return fig


def table(folder: Path) -> Any:
    import pandas as pd

    return pd.read_parquet(folder / "sweep.parquet")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=1000)
    ap.add_argument("--small", type=int, default=250, help="the smaller sweep for memory growth (0: skip)")
    ap.add_argument("--rounds", type=int, default=1, help="1: local then dask; 2: local, dask, dask, local")
    ap.add_argument("--no-resume", action="store_true", help="skip the kill-and-resume check")
    ap.add_argument("--points-per-task", type=int, default=None,
                    help="points in one task, for both executors (default: the sweep's own default)")
    ap.add_argument("--out", help="JSON file to write the figures to")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--executor", default="dask", help=argparse.SUPPRESS)
    ap.add_argument("--report", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child, args.executor, args.points, args.report, args.points_per_task)
        return 0
    n = n_points(args.points)
    tmp = Path(tempfile.mkdtemp(prefix="sim-sweep-bench."))
    loads = [load_average()]
    print(f"load average (1, 5, 15 min) at the start: {loads[0]} on {os.cpu_count()} CPUs", flush=True)
    try:
        figures: dict[str, Any] = {"points": n, "reps": REPS, "days": DAYS, "cpu_count": os.cpu_count(), "runs": [],
                                   "points_per_task": args.points_per_task}
        order = ["local", "dask"] + (["dask", "local"] if args.rounds >= 2 else [])
        wall = {"local": 0.0, "dask": 0.0}
        for k, executor in enumerate(order):
            fig = timed_child(tmp, f"{executor}{k}", executor, args.points, args.points_per_task)
            figures["runs"].append({"executor": executor, **fig})
            wall[executor] += fig["wall_s"]
        figures["dask_over_local"] = wall["local"] / wall["dask"]
        same = all(table(tmp / f"{ex}{k}").equals(table(tmp / "local0")) for k, ex in enumerate(order))
        figures["tables_equal"] = same
        print(f"Dask / local throughput = {figures['dask_over_local']:.2f} (target >= 0.9); "
              f"every table equal: {same}", flush=True)
        if args.small:
            small = {ex: timed_child(tmp, f"small-{ex}", ex, args.small, args.points_per_task) for ex in ("local", "dask")}
            figures["small"] = small
            for ex in ("local", "dask"):
                big = [r for r in figures["runs"] if r["executor"] == ex][0]
                print(f"{ex:<6} driver peak RSS {small[ex]['rss_peak_mb']:.0f} MB at {small[ex]['points']} points, "
                      f"{big['rss_peak_mb']:.0f} MB at {n} points")

        if not args.no_resume:
            # Resume after the cluster is killed: the child is the client and owns the LocalCluster.
            out = tmp / "killed"
            proc = subprocess.Popen([sys.executable, __file__, "--child", str(out), "--executor", "dask",
                                     "--points", str(args.points), *per_task_args(args.points_per_task)],
                                    cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            points_dir = out / "points"
            while proc.poll() is None and finished(points_dir) < n // 4:
                time.sleep(0.2)
            os.killpg(proc.pid, signal.SIGKILL)  # the client, the scheduler and both workers
            proc.wait()
            done = finished(points_dir)
            fig = timed_child(tmp, "killed", "dask", args.points, args.points_per_task)
            same = table(out).equals(table(tmp / "local0"))
            figures["resume"] = {"points_before_kill": done, "rerun_wall_s": fig["wall_s"], "table_equals_local": same}
            print(f"resume: killed the Dask sweep with {done} of {n} points written; the rerun finished the other "
                  f"{n - done} in {fig['wall_s']:.1f} s; table equal to the local pool's: {same}")
        loads.append(load_average())
        figures["load_average"] = loads
        print(f"load average (1, 5, 15 min): {loads[0]} ... {loads[-1]} on {os.cpu_count()} CPUs")
        if args.out:
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            Path(args.out).write_text(json.dumps(figures, indent=2))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
