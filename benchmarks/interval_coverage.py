"""Coverage of the replication confidence intervals on a known case (the study in docs/validation.md).

The known case: tests/scenarios/mm1.yaml, an M/M/1 queue at utilisation 0.5 started empty. After
the warm-up, the number of open cases at the horizon has the stationary geometric distribution
with mean rho / (1 - rho) = 1: a strongly right-skewed output, the hard case for intervals over
few replications. For each replication count n, many independent experiments of n replications
each are run and the share of intervals containing the true mean is counted, for the plain
Student t interval and for the skewness-corrected interval the tool reports.

    .venv/bin/python benchmarks/interval_coverage.py [--experiments 400] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--experiments", type=int, default=400)
    p.add_argument("--reps", type=int, nargs="+", default=[3, 5, 10, 20])
    p.add_argument("--out", default=None, help="folder for coverage.json (default: print only)")
    args = p.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from sim import load_scenario
    from sim.engine.model import single_run
    from sim.experiments.stats import interval, t_interval

    sc = load_scenario(ROOT / "tests" / "scenarios" / "mm1.yaml")
    horizon = sc.warmup_days + 5.0
    true_mean = 1.0  # rho / (1 - rho) at rho = 0.5
    rows = []
    t0 = time.perf_counter()
    for n in args.reps:
        hits_t = hits_c = 0
        for e in range(args.experiments):
            values = [single_run(sc, 1_000_000 + e, r, horizon_days=horizon).metrics["open_cases_end"] for r in range(n)]
            _, lo, hi, _ = t_interval(values)
            hits_t += lo <= true_mean <= hi
            _, lo, hi, _ = interval(values, lower=0.0)
            hits_c += lo <= true_mean <= hi
        rows.append({"replications": n, "experiments": args.experiments, "t_coverage": hits_t / args.experiments,
                     "corrected_coverage": hits_c / args.experiments})
        print(f"n={n:3d}: plain t {hits_t / args.experiments:.3f}   corrected {hits_c / args.experiments:.3f}", flush=True)
    doc = {"case": "mm1 open_cases_end (geometric, mean 1)", "nominal": 0.95, "rows": rows,
           "seconds": round(time.perf_counter() - t0, 1)}
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / "coverage.json").write_text(json.dumps(doc, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
