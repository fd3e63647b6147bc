"""``uniform``: a float drawn uniformly from ``[low, high]``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from raysweep.tune.distributions.continuous import ContinuousDistribution


@dataclass(frozen=True)
class Uniform(ContinuousDistribution):
    """YAML ``{type: uniform, low: A, high: B}``; Tune ``ray.tune.uniform(A, B)``."""

    type = "uniform"

    def tune(self) -> Any:
        from ray import tune

        return tune.uniform(self.low, self.high)

    def points(self) -> list[Any]:
        return [self.low, (self.low + self.high) / 2, self.high]

    def center(self) -> float:
        return (self.low + self.high) / 2
