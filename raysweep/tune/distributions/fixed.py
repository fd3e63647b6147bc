"""``fixed``: one value, not searched (pin a key in a space that inherits a search, or record it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from raysweep.tune.distributions.base import Distribution
from raysweep.tune.distributions.checks import check_type, require


@dataclass(frozen=True)
class Fixed(Distribution):
    """YAML ``{type: fixed, value: X}``; Tune gets the plain value ``X``."""

    value: Any

    type = "fixed"
    keys = frozenset({"value"})
    categorical = True

    @classmethod
    def from_spec(cls, key: str, spec: Mapping[str, Any], where: str) -> Fixed:
        require("value" in spec, where, f"search.{key}.value", "is missing", "write value: X")
        return cls(key, spec["value"])

    def check_field(self, default: Any, where: str) -> None:
        check_type(self.value, default, f"search.{self.key}.value", where)

    def tune(self) -> Any:
        return self.value

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "value": self.value}

    def describe(self) -> str:
        return f"fixed({self.value})"

    def points(self) -> list[Any]:
        return [self.value]

    def contains(self, value: Any) -> bool:
        return type(value) is type(self.value) and value == self.value

    def center(self) -> Any:
        return self.value
