"""Benchmark: a 1,000-point sweep on a Dask LocalCluster (2 workers) against the local pool.

The sweep: staff x demand (40 grid-worker head counts x 25 arrival rates) over the synthetic
district cut to one 5,000-household community, 60 days, 2 replications a point. It prints

* points per wall second with the local process pool (2 workers) and with Dask (2 workers),
  and their ratio (target >= 0.9);
* the peak resident memory of the process driving each sweep, sampled every 50 ms, against
  its memory before the sweep (flat: points stream to ``OUT/points/`` as they finish);
* resume: a Dask sweep in a child process is killed (scheduler, workers and all) once some
  points are written; the rerun reuses them, and its table equals the local pool's;
* the load average while it ran.

    .venv/bin/python benchmarks/sweep_scale.py [--points 1000] [--out FILE.json]
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


def run_sweep(out: str, executor: str, points: int):
    from sim.experiments.sweep import sweep

    return sweep(str(DISTRICT), grid(points), reps=REPS, seed=1, out=out, workers=2, horizon_days=DAYS,
                 overrides=COMMUNITY, executor=executor)


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover
        return []


def child(out: str, points: int) -> None:
    """Run the Dask sweep in its own process group (the parent kills the group)."""
    run_sweep(out, "dask", points)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=1000)
    ap.add_argument("--out", help="JSON file to write the figures to")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child, args.points)
        return 0
    n = len(grid(args.points)["roles.grid_worker.staff_per_unit"]) * len(grid(args.points)["arrivals.rate_per_household_year"])
    tmp = Path(tempfile.mkdtemp(prefix="sim-sweep-bench."))
    loads = [load_average()]
    try:
        figures: dict[str, Any] = {"points": n, "reps": REPS, "days": DAYS, "cpu_count": os.cpu_count()}
        tables = {}
        for executor in ("local", "dask"):
            table, wall, before, peak = with_peak_memory(lambda ex=executor: run_sweep(str(tmp / ex), ex, args.points))
            tables[executor] = table
            figures[executor] = {"wall_s": wall, "points_per_s": n / wall, "rss_before_mb": before, "rss_peak_mb": peak}
            loads.append(load_average())
            print(f"{executor:<6} {n} points x {REPS} reps: {wall:6.1f} s, {n / wall:6.1f} points/s; driver RSS "
                  f"{before:.0f} MB before, {peak:.0f} MB peak", flush=True)
        figures["dask_over_local"] = figures["dask"]["points_per_s"] / figures["local"]["points_per_s"]
        print(f"Dask / local throughput = {figures['dask_over_local']:.2f} (target >= 0.9)")

        # Resume after the cluster is killed: the child is the client and owns the LocalCluster.
        out = tmp / "killed"
        proc = subprocess.Popen([sys.executable, __file__, "--child", str(out), "--points", str(args.points)],
                                cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        points_dir = out / "points"
        while proc.poll() is None and len(list(points_dir.glob("*.json")) if points_dir.is_dir() else []) < n // 4:
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGKILL)  # the client, the scheduler and both workers
        proc.wait()
        done = len(list(points_dir.glob("*.json")))
        table, wall, _, _ = with_peak_memory(lambda: run_sweep(str(out), "dask", args.points))
        same = table.equals(tables["local"])
        figures["resume"] = {"points_before_kill": done, "rerun_wall_s": wall, "table_equals_local": same}
        loads.append(load_average())
        print(f"resume: killed the Dask sweep with {done} of {n} points written; the rerun finished the other "
              f"{n - done} in {wall:.1f} s; table equal to the local pool's: {same}")
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
