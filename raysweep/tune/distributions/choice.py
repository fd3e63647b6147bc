"""``choice``: one of a list of values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from raysweep.tune.distributions.base import Distribution
from raysweep.tune.distributions.checks import check_type, require


@dataclass(frozen=True)
class Choice(Distribution):
    """YAML ``{type: choice, values: [...]}``; Tune ``ray.tune.choice([...])``. Every value is checked."""

    values: tuple[Any, ...]

    type = "choice"
    keys = frozenset({"values"})
    categorical = True

    @classmethod
    def from_spec(cls, key: str, spec: Mapping[str, Any], where: str) -> Choice:
        values = spec.get("values")
        require(
            isinstance(values, list) and bool(values),
            where,
            f"search.{key}.values",
            "is empty or not a list",
            "give a non-empty list",
        )
        return cls(key, tuple(values))

    def check_field(self, default: Any, where: str) -> None:
        for value in self.values:
            check_type(value, default, f"search.{self.key}.values", where)

    def tune(self) -> Any:
        from ray import tune

        return tune.choice(list(self.values))

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "values": list(self.values)}

    def describe(self) -> str:
        return f"choice({', '.join(map(str, self.values))})"

    def points(self) -> list[Any]:
        return list(self.values)

    def contains(self, value: Any) -> bool:
        return any(type(value) is type(v) and value == v for v in self.values)

    def center(self) -> Any:
        return self.values[0]  # a list has no middle that means anything: its first (representative) value
