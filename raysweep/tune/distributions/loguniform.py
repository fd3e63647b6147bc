"""``loguniform``: a positive float whose logarithm is drawn uniformly (learning rates, λ, τ)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from raysweep.tune.distributions.checks import require
from raysweep.tune.distributions.continuous import ContinuousDistribution


@dataclass(frozen=True)
class LogUniform(ContinuousDistribution):
    """YAML ``{type: loguniform, low: A, high: B}`` with ``0 < A < B``; Tune ``ray.tune.loguniform(A, B)``."""

    type = "loguniform"

    @classmethod
    def check_bounds(cls, low: float, high: float, at: str, where: str) -> None:
        require(low > 0, where, f"{at}.low", f"{low} <= 0 for a log scale", "use low > 0 or type: uniform")

    def tune(self) -> Any:
        from ray import tune

        return tune.loguniform(self.low, self.high)

    def points(self) -> list[Any]:
        return [self.low, math.sqrt(self.low * self.high), self.high]  # the ends and the middle on the log scale

    def center(self) -> float:
        return math.sqrt(self.low * self.high)
