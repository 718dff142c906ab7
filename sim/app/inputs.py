"""What a planner changed on the page, as scenario overrides and run settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios"


def scenario_files(folder: Path = SCENARIO_DIR) -> dict[str, str]:
    """Scenario name (file stem) -> path, for every runnable scenario file of ``scenarios/``."""
    return {p.stem: str(p) for p in sorted(folder.glob("*.yaml"))}


@dataclass(frozen=True)
class Inputs:
    """One run as the page asks for it: the scenarios and every value the planner changed."""

    scenarios: tuple[str, ...]  # file paths, one or two
    staff: dict[str, int] = field(default_factory=dict)  # role -> staff per unit
    demand: float = 1.0  # multiplier on arrivals.rate_per_household_year
    target_days: float | None = None
    horizon_days: float | None = None
    reps: int | None = None
    seed: int | None = None

    def overrides(self, data: dict[str, Any]) -> dict[str, Any]:
        """Dotted overrides for one scenario's resolved data: only values that differ from the file."""
        out: dict[str, Any] = {}
        roles = data.get("roles", {})
        for role, n in self.staff.items():
            if role in roles and roles[role].get("staff_per_unit") != n:
                out[f"roles.{role}.staff_per_unit"] = int(n)
        if self.demand != 1.0:
            out["arrivals.rate_per_household_year"] = float(data["arrivals"]["rate_per_household_year"]) * self.demand
        if self.target_days is not None and self.target_days != data.get("target_days"):
            out["target_days"] = float(self.target_days)
        return out


def load(path: str, inputs: Inputs | None = None) -> Any:
    """The LoadedScenario of a file with the planner's overrides applied."""
    import sim

    base = sim.load(path)
    return sim.load(path, inputs.overrides(base.data)) if inputs is not None else base
