"""Benchmark: the README's two-role staffing search against one 10-replication run, in one process.

Runs, in interleaved rounds (so both see the same machine load), the commands

    sim run scenarios/fangxing.yaml --reps 10 --workers 2
    sim staff scenarios/fangxing.yaml --vary roles.grid_worker.staff_per_unit=2..10 \\
        --vary roles.community_mediator.staff_per_unit=4..12 --target "within_target_share>=0.9" \\
        --cost roles.grid_worker.staff_per_unit=90000 --cost roles.community_mediator.staff_per_unit=110000 --workers 2

(the search with no cache, so every round runs its replications afresh), optionally the same
search with the earlier full-replication marginal analysis (``--search marginal``, the
"before" figure), and prints the median wall times, the ratio search / run (target <= 5) and
the machine's load average while it ran.

    .venv/bin/python benchmarks/staffing.py [--rounds 3] [--before] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FANGXING = "scenarios/fangxing.yaml"
SEARCH = ["--vary", "roles.grid_worker.staff_per_unit=2..10", "--vary", "roles.community_mediator.staff_per_unit=4..12",
          "--target", "within_target_share>=0.9", "--cost", "roles.grid_worker.staff_per_unit=90000",
          "--cost", "roles.community_mediator.staff_per_unit=110000", "--workers", "2"]


def sim_command() -> list[str]:
    exe = Path(sys.executable).with_name("sim")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "sim.cli"]


def commands(before: bool) -> dict[str, list[str]]:
    sim = sim_command()
    out = {"run_10_reps": sim + ["run", FANGXING, "--reps", "10", "--workers", "2"],
           "staff_search": sim + ["staff", FANGXING, *SEARCH, "--quiet", "--json"]}
    if before:
        out["staff_marginal_full_reps"] = sim + ["staff", FANGXING, *SEARCH, "--search", "marginal", "--quiet", "--json"]
    return out


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover - not available on this platform
        return []


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--before", action="store_true", help="also time the full-replication marginal analysis")
    ap.add_argument("--out", help="JSON file to write the figures to")
    args = ap.parse_args(argv)
    cmds = commands(args.before)
    walls: dict[str, list[float]] = {k: [] for k in cmds}
    loads = [load_average()]
    answers = {}
    for r in range(args.rounds):
        order = list(cmds) if r % 2 == 0 else list(reversed(cmds))
        for name in order:
            t0 = time.perf_counter()
            proc = subprocess.run(cmds[name], cwd=ROOT, capture_output=True, text=True, check=False)
            walls[name].append(time.perf_counter() - t0)
            if proc.returncode not in (0, 1):
                print(proc.stderr, file=sys.stderr)
                return 1
            if name.startswith("staff"):
                doc = json.loads(proc.stdout)
                answers[name] = {"chosen": doc["chosen"], "points": len(doc["frontier"]),
                                 "reps_run": sum(row.get("reps", 10) for row in doc["frontier"])}
            loads.append(load_average())
    med = {k: statistics.median(v) for k, v in walls.items()}
    result = {"rounds": args.rounds, "wall_s": walls, "median_wall_s": med, "cpu_count": os.cpu_count(),
              "ratio_search_over_run": med["staff_search"] / med["run_10_reps"], "answers": answers,
              "load_average": loads}
    if args.before:
        result["ratio_before_over_run"] = med["staff_marginal_full_reps"] / med["run_10_reps"]
    print(f"sim run --reps 10 --workers 2      median {med['run_10_reps']:6.2f} s  {walls['run_10_reps']}")
    print(f"sim staff (sequential search)      median {med['staff_search']:6.2f} s  "
          f"ratio to the run {result['ratio_search_over_run']:.2f} (target <= 5)")
    if args.before:
        print(f"sim staff --search marginal        median {med['staff_marginal_full_reps']:6.2f} s  "
              f"ratio to the run {result['ratio_before_over_run']:.2f}")
    for name, a in answers.items():
        print(f"  {name}: chosen {a['chosen'] and {k: v for k, v in a['chosen'].items() if 'staff' in k}}, "
              f"{a['points']} points, {a['reps_run']} replications")
    print(f"load average (1, 5, 15 min) while running: {loads[0]} ... {loads[-1]} on {os.cpu_count()} CPUs")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
