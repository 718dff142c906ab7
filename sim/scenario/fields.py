"""Building blocks of the scenario schema: probabilities, distributions and rosters.

Each distribution carries its own mean, inverse CDF and description, so the engine, the
stability estimate and the report ask the distribution rather than switch on its type. This
module imports pydantic only; numpy and scipy are imported when a distribution is sampled.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    WrapValidator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from . import limits

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np


def _probability(value: Any, handler: Any) -> float:
    """Say 'a probability between 0 and 1' rather than pydantic's bare bound."""
    try:
        return handler(value)
    except ValidationError as exc:
        if all(e["type"] in ("less_than_equal", "greater_than_equal") for e in exc.errors()):
            raise PydanticCustomError("probability", "expected a probability between 0 and 1") from None
        raise


Probability = Annotated[float, Field(ge=0.0, le=1.0), WrapValidator(_probability)]


def _not_tiny(value: float) -> float:
    if value < limits.MIN_DURATION_MEAN:
        raise ValueError(f"expected a number of at least {limits.MIN_DURATION_MEAN:g} (got {value:g}); "
                         "a smaller one is below the clock's resolution")
    return value


# Bounds where the engine's arithmetic stays finite (beyond them a run overflows or yields NaN).
Duration = Annotated[float, Field(ge=0, le=limits.MAX_DURATION)]  # in the scenario's time unit
PositiveDuration = Annotated[float, Field(gt=0, le=limits.MAX_DURATION)]
MeanDuration = Annotated[float, Field(gt=0, le=limits.MAX_DURATION), AfterValidator(_not_tiny)]  # means and sds
Days = Annotated[float, Field(gt=0, le=limits.MAX_DAYS)]
NonNegativeDays = Annotated[float, Field(ge=0, le=limits.MAX_DAYS)]
Staff = Annotated[int, Field(ge=0, le=limits.MAX_STAFF)]
PositiveStaff = Annotated[int, Field(gt=0, le=limits.MAX_STAFF)]
Money = Annotated[float, Field(ge=0, le=limits.MAX_MONEY)]


def _check_spread(mean: float, sd: float) -> None:
    """Gamma and lognormal quantiles stay finite only for a bounded coefficient of variation."""
    if sd / mean > limits.MAX_CV:
        raise ValueError(f"sd {sd:g} is more than {limits.MAX_CV:g} times the mean {mean:g}; "
                         "the distribution would not have finite draws")
MIX_TOLERANCE = 1e-9
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Strict(BaseModel):
    """Base model: unknown keys are errors, models are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# --------------------------------------------------------------------------- distributions
def _num(x: float) -> str:
    return f"{x:.4g}"


class _Dist(Strict):
    """What every distribution offers: its mean, quantiles of uniforms, and a description."""

    def expected(self) -> float:  # pragma: no cover - every subclass overrides it
        """The mean, in the distribution's own unit."""
        raise NotImplementedError

    def quantiles(self, u: "np.ndarray") -> "np.ndarray":  # pragma: no cover
        """Quantiles at uniforms ``u`` in [0, 1) (inverse transform keeps common random numbers aligned)."""
        raise NotImplementedError

    def describe(self, unit: str = "") -> str:  # pragma: no cover
        """A short description, e.g. ``lognormal, mean 2 h, sd 1``."""
        raise NotImplementedError

    def inverse_cdf(self, u: "np.ndarray", scale: float = 1.0) -> "np.ndarray":
        """Quantiles at uniforms ``u``, multiplied by ``scale`` (for example hours per time unit)."""
        return self.quantiles(u) * scale


class Exponential(_Dist):
    dist: Literal["exponential"]
    mean: MeanDuration = Field(description="Mean.")

    def expected(self) -> float:
        return self.mean

    def quantiles(self, u: "np.ndarray") -> "np.ndarray":
        import numpy as np

        return -self.mean * np.log1p(-u)

    def describe(self, unit: str = "") -> str:
        return f"exponential, mean {_num(self.mean)}{_u(unit)}"


class LogNormal(_Dist):
    dist: Literal["lognormal"]
    mean: MeanDuration = Field(description="Mean.")
    sd: MeanDuration = Field(description="Standard deviation.")

    @model_validator(mode="after")
    def _spread(self) -> "LogNormal":
        _check_spread(self.mean, self.sd)
        return self

    def expected(self) -> float:
        return self.mean

    def quantiles(self, u: "np.ndarray") -> "np.ndarray":
        import numpy as np
        from scipy import special

        s2 = math.log1p((self.sd / self.mean) ** 2)
        mu = math.log(self.mean) - s2 / 2.0
        return np.exp(mu + math.sqrt(s2) * special.ndtri(u))

    def describe(self, unit: str = "") -> str:
        return f"lognormal, mean {_num(self.mean)}{_u(unit)}, sd {_num(self.sd)}"


class Gamma(_Dist):
    dist: Literal["gamma"]
    mean: MeanDuration = Field(description="Mean.")
    sd: MeanDuration = Field(description="Standard deviation.")

    @model_validator(mode="after")
    def _spread(self) -> "Gamma":
        _check_spread(self.mean, self.sd)
        return self

    def expected(self) -> float:
        return self.mean

    def quantiles(self, u: "np.ndarray") -> "np.ndarray":
        from scipy import special

        shape = (self.mean / self.sd) ** 2
        return (self.sd**2 / self.mean) * special.gammaincinv(shape, u)

    def describe(self, unit: str = "") -> str:
        return f"gamma, mean {_num(self.mean)}{_u(unit)}, sd {_num(self.sd)}"


class Triangular(_Dist):
    dist: Literal["triangular"]
    low: Duration = Field(description="Lowest value.")
    mode: Duration = Field(description="Most likely value.")
    high: PositiveDuration = Field(description="Highest value.")

    @model_validator(mode="after")
    def _ordered(self) -> "Triangular":
        if not (self.low <= self.mode <= self.high) or self.low == self.high:
            raise ValueError("triangular needs low <= mode <= high and low < high")
        return self

    def expected(self) -> float:
        return (self.low + self.mode + self.high) / 3.0

    def quantiles(self, u: "np.ndarray") -> "np.ndarray":
        import numpy as np

        a, c, b = self.low, self.mode, self.high
        fc = (c - a) / (b - a)
        return np.where(u < fc, a + np.sqrt(u * (b - a) * (c - a)), b - np.sqrt((1.0 - u) * (b - a) * (b - c)))

    def describe(self, unit: str = "") -> str:
        return f"triangular {_num(self.low)}/{_num(self.mode)}/{_num(self.high)}{_u(unit)}"


class Fixed(_Dist):
    dist: Literal["fixed"]
    value: Duration = Field(description="The value every draw takes.")

    def expected(self) -> float:
        return self.value

    def quantiles(self, u: "np.ndarray") -> "np.ndarray":
        import numpy as np

        return np.full_like(u, self.value, dtype=float)

    def describe(self, unit: str = "") -> str:
        return f"fixed {_num(self.value)}{_u(unit)}"


class Empirical(_Dist):
    dist: Literal["empirical"]
    values: list[Duration] = Field(min_length=1, description="Values drawn from with equal chance.")

    def expected(self) -> float:
        return sum(self.values) / len(self.values)

    def quantiles(self, u: "np.ndarray") -> "np.ndarray":
        import numpy as np

        vals = np.asarray(self.values, dtype=float)
        return vals[np.minimum((u * len(vals)).astype(np.int64), len(vals) - 1)]

    def describe(self, unit: str = "") -> str:
        return f"empirical, {len(self.values)} values, mean {_num(self.expected())}{_u(unit)}"


def _u(unit: str) -> str:
    return {"hours": " h", "days": " d"}.get(unit, f" {unit}" if unit else "")


DIST_NAMES = ("exponential", "lognormal", "gamma", "triangular", "fixed", "empirical")

Distribution = Annotated[
    Union[Exponential, LogNormal, Gamma, Triangular, Fixed, Empirical],
    Field(discriminator="dist"),
]


# --------------------------------------------------------------------------- rosters
class Shift(Strict):
    """Staff on duty on the given weekdays between start and end hour (end may pass midnight)."""

    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = Field(min_length=1, description="Days of the week of this shift.")
    start: Annotated[float, Field(ge=0, lt=24)] = Field(description="Start hour (0-24). Unit: hours of the day.")
    end: Annotated[float, Field(gt=0, le=48)] = Field(description="End hour; past 24 runs into the next day. Unit: hours of the day.")
    staff: Staff | None = Field(None, description="People on this shift; defaults to the role's staff_per_unit.")

    @model_validator(mode="after")
    def _order(self) -> "Shift":
        if self.end <= self.start:
            raise ValueError("shift end must be after its start (use end > 24 for night shifts)")
        return self


class Roster(Strict):
    shifts: list[Shift] = Field(min_length=1, description="The shifts of a week.")


RosterSpec = Union[Literal["always", "office"], Roster]

# Office hours are an assumption of the tool: Monday to Friday, 09:00-17:00.
OFFICE_SHIFTS = Roster(
    shifts=[Shift(days=["mon", "tue", "wed", "thu", "fri"], start=9.0, end=17.0)]
)
