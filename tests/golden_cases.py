"""Golden results: the stored summaries that guard refactoring.

Every scenario in ``scenarios/`` and every test network in ``tests/scenarios/`` is run with a
fixed seed and a short horizon; the per-replication metrics, the daily backlog, a digest of
the per-case rows and the summary with its intervals are stored in ``tests/golden/NAME.json``.
``tests/test_golden.py`` checks them bit for bit. A change meant to alter results regenerates
them in the same commit (``python tests/golden_cases.py``) and says why in its message.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"
SEED = 20261201
REPS = 3


def golden_files() -> list[Path]:
    """Every scenario of the project and every test network, in a fixed order."""
    return sorted((ROOT / "scenarios").glob("*.yaml")) + sorted((ROOT / "tests" / "scenarios").glob("*.yaml"))


def horizon_for(scenario: Any) -> float:
    """Short runs: 180 days after the warm-up (30 for the million-household district)."""
    extra = 30.0 if scenario.households > 200_000 else 180.0
    return min(scenario.horizon_days, scenario.warmup_days + extra)


def _exact(x: Any) -> Any:
    """Floats as their repr (exact round trip, NaN included); other values unchanged."""
    if isinstance(x, float):
        return repr(x)
    return x


def case_digest(rows: list[tuple[Any, ...]] | None) -> str:
    h = hashlib.sha256()
    for row in rows or []:
        h.update(repr(tuple(_exact(v) for v in row)).encode())
    return h.hexdigest()


def compute(path: Path) -> dict[str, Any]:
    """The golden record of one scenario file."""
    from sim import load_scenario, run

    scenario = load_scenario(path)
    horizon = horizon_for(scenario)
    result = run(scenario, REPS, SEED, horizon_days=horizon, record_cases=True)
    reps = []
    for r in result.records:
        reps.append({"rep": r.rep, "metrics": {k: _exact(float(v)) for k, v in r.metrics.items()},
                     "backlog": list(r.backlog), "cases": case_digest(r.cases)})
    summary = {row.metric: [_exact(float(row.mean)), _exact(float(row.ci_low)), _exact(float(row.ci_high))]
               for row in result.summary.itertuples()}
    return {"file": str(path.relative_to(ROOT)), "seed": SEED, "reps": REPS, "horizon_days": horizon,
            "replications": reps, "summary": summary}


def golden_path(path: Path) -> Path:
    return GOLDEN / (str(path.relative_to(ROOT).with_suffix(".json")).replace("/", "__"))


def main() -> int:
    GOLDEN.mkdir(exist_ok=True)
    for path in golden_files():
        golden_path(path).write_text(json.dumps(compute(path), indent=1, ensure_ascii=False) + "\n")
        print(f"wrote {golden_path(path).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
