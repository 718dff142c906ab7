"""Case difficulty: a latent score per case that makes the levels' outcomes depend on each other.

Without it each level's settle uniform is drawn independently, so a case that failed at the
grid is as easy for the community as a fresh one. With it every case draws one standard
normal difficulty ``z`` at arrival (from its own ``difficulty`` stream, shifted by its
severity and category where the scenario says so) and level ``l``'s settle uniform ``u``
(from the level's ``outcome.<level>`` stream, as before) is replaced by a Gaussian copula:

    u' = Phi(w_l * z + sqrt(1 - w_l^2) * Phi^-1(u))

A case settles at a level when ``u' < p`` (the level's stated settle share for its severity).
For a case of average difficulty (no shifts) ``u'`` is still uniform, so every level's
marginal settle share stays the stated one; a hard case (large ``z``) has large ``u'``
everywhere, so cases failing below are harder above. ``w_l`` (``weight``) is the correlation
between the case's difficulty and the level's outcome score; two levels' scores correlate by
``w_l * w_m``. A weight of 0 leaves that level's uniforms untouched (bit for bit), so a
scenario with every weight 0 gives the independent model exactly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Union

from pydantic import Field

from ..scenario.fields import Probability, Strict
from .base import Hooks, Mechanism

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from ..scenario.schema import Scenario
    from .base import DescriptionRow
    from .context import Context, MetricSink

MAX_SHIFT = 5.0  # standard deviations: beyond it a shift only pins the outcome


# --------------------------------------------------------------------------- schema
class Difficulty(Strict):
    """Latent case difficulty: ``weight`` per level (a number for all, or 'default' and level
    names), mean shifts of the difficulty by severity and category (positive: harder)."""

    weight: Union[Probability, dict[str, Probability]]
    by_severity: dict[str, float] = Field(default_factory=dict)
    by_category: dict[str, float] = Field(default_factory=dict)
    description: str = ""

    def weights(self, levels: list[str]) -> list[float]:
        """The weight of each level, bottom first."""
        w = self.weight
        if isinstance(w, dict):
            return [float(w.get(name, w.get("default", 0.0))) for name in levels]
        return [float(w)] * len(levels)


# --------------------------------------------------------------------------- checks and description
def problems(scenario: "Scenario") -> list[str]:
    d = scenario.difficulty
    out: list[str] = []
    if d is None:
        return out
    if isinstance(d.weight, dict):
        for key in d.weight:
            if key != "default" and key not in scenario.levels:
                out.append(f"difficulty.weight.{key}: expected 'default' or a level ({', '.join(scenario.levels)})")
    for path, table, names in (("by_severity", d.by_severity, scenario.severities),
                               ("by_category", d.by_category, scenario.categories)):
        for key, shift in table.items():
            if key not in names:
                out.append(f"difficulty.{path}.{key}: '{key}' is not declared ({', '.join(names)})")
            if not -MAX_SHIFT <= shift <= MAX_SHIFT:
                out.append(f"difficulty.{path}.{key}: {shift:g} is outside [-{MAX_SHIFT:g}, {MAX_SHIFT:g}] standard deviations")
    return out


def describe(scenario: "Scenario") -> list["DescriptionRow"]:
    d = scenario.difficulty
    if d is None:
        return []
    names = scenario.level_names
    ws = ", ".join(f"{n} {w:g}" for n, w in zip(names, d.weights(names)))
    shifts = ", ".join(f"{k} {v:+g}" for k, v in {**d.by_severity, **d.by_category}.items())
    return [("difficulty", "", "every level", f"weight: {ws}" + (f"; shifts: {shifts}" if shifts else ""))]


# --------------------------------------------------------------------------- at arrival
class DifficultyDraw:
    """Turns a block's independent settle uniforms into difficulty-dependent ones (vectorised)."""

    def __init__(self, spec: Difficulty, scenario: "Scenario", rng: "np.random.Generator"):
        import numpy as np

        self.np = np
        self.rng = rng
        self.weights = spec.weights(scenario.level_names)
        self.sev_shift = np.array([spec.by_severity.get(s, 0.0) for s in scenario.severities])
        self.cat_shift = np.array([spec.by_category.get(c, 0.0) for c in scenario.categories])
        self.shifted = bool(spec.by_severity or spec.by_category)

    def apply(self, out: "np.ndarray", severity: "np.ndarray", category: "np.ndarray") -> None:
        """Replace ``out[level]`` (uniforms, one row per level) in place for levels with a weight."""
        from scipy.special import ndtr, ndtri

        np = self.np
        z = self.rng.standard_normal(out.shape[1])
        if self.shifted:
            z = z + self.sev_shift[severity] + self.cat_shift[category]
        for li, w in enumerate(self.weights):
            if w > 0.0:
                out[li] = ndtr(w * z + np.sqrt(1.0 - w * w) * ndtri(out[li]))


# --------------------------------------------------------------------------- runtime
class DifficultyRuntime:
    """Nothing to wire at run time: the difficulty acts on the uniforms drawn at arrival."""

    def __init__(self, scenario: "Scenario", ctx: "Context"):
        pass

    def hooks(self) -> Hooks:
        return Hooks()

    def report(self, sink: "MetricSink", end: float) -> None:
        """No metrics of its own: its effect shows in the engine's shares and times."""


def draw_for(scenario: "Scenario", seed: int, rep: int) -> DifficultyDraw | None:
    """The difficulty of a replication's cases from its own stream, or None when the scenario
    has none or every weight is 0 (the independent model, untouched)."""
    spec = scenario.difficulty
    if spec is None or not any(w > 0.0 for w in spec.weights(scenario.level_names)):
        return None
    from ..streams import stream

    return DifficultyDraw(spec, scenario, stream(seed, rep, "difficulty"))


DIFFICULTY = Mechanism("difficulty", (Difficulty,), used=lambda sc: sc.difficulty is not None, problems=problems,
                       describe=describe, runtime=DifficultyRuntime)
