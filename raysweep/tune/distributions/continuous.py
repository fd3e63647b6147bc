"""The shared base of the continuous ranges, ``uniform`` and ``loguniform``."""

from __future__ import annotations

from abc import ABC
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from raysweep.tune.distributions.base import D, Distribution
from raysweep.tune.distributions.checks import check_numeric_field, read_bounds


@dataclass(frozen=True)
class ContinuousDistribution(Distribution, ABC):
    """A float range ``[low, high]``, YAML ``{type: TYPE, low: A, high: B}``.

    Subclasses give ``type``, :meth:`tune`, :meth:`points` and :meth:`center`, and may refuse more bounds in
    :meth:`check_bounds`.
    """

    low: float
    high: float

    keys = frozenset({"low", "high"})

    @classmethod
    def from_spec(cls: type[D], key: str, spec: Mapping[str, Any], where: str) -> D:
        at = f"search.{key}"
        low, high = read_bounds(spec, at, where)
        cls.check_bounds(low, high, at, where)
        return cls(key, float(low), float(high))

    @classmethod
    def check_bounds(cls, low: float, high: float, at: str, where: str) -> None:
        """Refuse bounds this range cannot take (``low < high``, both finite, is already checked)."""

    def check_field(self, default: Any, where: str) -> None:
        check_numeric_field(self.type, float, default, f"search.{self.key}", where)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "low": self.low, "high": self.high}

    def describe(self) -> str:
        return f"{self.type}({self.low:g}, {self.high:g})"

    def contains(self, value: Any) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and self.low <= value <= self.high
