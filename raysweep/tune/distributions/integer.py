"""``int``: a whole number from ``low, low + step, ..., high``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from raysweep.tune.distributions.base import Distribution
from raysweep.tune.distributions.checks import check_numeric_field, is_number, read_bounds, require

MAX_POINTS = 64
"""A grid of at most this many values is checked in full; a longer one at its ends and a few inner values."""
INNER_POINTS = 7


@dataclass(frozen=True)
class IntRange(Distribution):
    """YAML ``{type: int, low: A, high: B[, step: S]}``; Tune ``ray.tune.qrandint(A, B, S)``.

    ``high - low`` must be a multiple of ``step`` (default 1). Optuna, the study's searcher, samples
    ``low, low + step, ..., high``; Ray's own random search samples the multiples of ``step`` in
    ``[low, high]`` instead (the same values when ``low`` is a multiple of ``step``), so :meth:`points`
    covers both.
    """

    low: int
    high: int
    step: int = 1

    type = "int"
    keys = frozenset({"low", "high", "step"})

    @classmethod
    def from_spec(cls, key: str, spec: Mapping[str, Any], where: str) -> IntRange:
        at = f"search.{key}"
        low, high = read_bounds(spec, at, where)
        require(
            float(low).is_integer() and float(high).is_integer(),
            where,
            at,
            "bounds are not integers",
            "use whole numbers",
        )
        step = spec.get("step")
        step = 1 if step is None else step
        require(
            is_number(step) and float(step).is_integer() and step >= 1,
            where,
            f"{at}.step",
            f"{step!r} is not a positive whole number",
            "use e.g. step: 2, or leave it out for 1",
        )
        low, high, step = int(low), int(high), int(step)
        require(
            (high - low) % step == 0,
            where,
            at,
            f"high {high} is not low {low} plus a multiple of step {step}",
            f"use e.g. high: {low + (high - low) // step * step}",
        )
        return cls(key, low, high, step)

    def check_field(self, default: Any, where: str) -> None:
        check_numeric_field(self.type, int, default, f"search.{self.key}", where)

    def tune(self) -> Any:
        from ray import tune

        return tune.qrandint(self.low, self.high, self.step)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "low": self.low, "high": self.high, "step": self.step}

    def describe(self) -> str:
        return f"int({self.low}..{self.high}, step {self.step})"

    def points(self) -> list[Any]:
        optuna_grid = range(self.low, self.high + 1, self.step)
        ray_grid = range(-(-self.low // self.step) * self.step, self.high + 1, self.step)  # multiples of step
        if len(optuna_grid) <= MAX_POINTS:
            return sorted(set(optuna_grid) | set(ray_grid))
        picks: set[int] = set()
        for grid in (optuna_grid, ray_grid):  # the ends and INNER_POINTS evenly spaced inner values of each
            last = len(grid) - 1
            picks.update(grid[i * last // (INNER_POINTS + 1)] for i in range(INNER_POINTS + 2) if grid)
        return sorted(picks)

    def contains(self, value: Any) -> bool:
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            and self.low <= value <= self.high
            and (value - self.low) % self.step == 0
        )

    def center(self) -> int:
        return self.low + (self.high - self.low) // self.step // 2 * self.step
