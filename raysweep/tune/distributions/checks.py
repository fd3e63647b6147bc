"""The one-line checks every part of a space file goes through: ``FILE: KEY: problem; fix``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from raysweep.errors import RaysweepError


def require(ok: bool, where: str, key: str, problem: str, fix: str) -> None:
    """Raise ``RaysweepError("WHERE: KEY: PROBLEM; FIX")`` unless ``ok``."""
    if not ok:
        raise RaysweepError(f"{where}: {key}: {problem}; {fix}")


def check_type(value: Any, default: Any, key: str, where: str) -> None:
    """Refuse ``value`` unless it has the type of the config field whose default is ``default``.

    ``None`` on either side passes (optional fields); an int passes for a float field, a bool only for a
    bool field. YAML turns many typos into strings, which this catches.
    """
    if value is None or default is None:
        return
    numeric = (int, float)
    if isinstance(default, bool) or isinstance(value, bool):
        ok = isinstance(value, bool) and isinstance(default, bool)
    elif isinstance(default, numeric):
        ok = isinstance(value, numeric) and (isinstance(value, int) or not isinstance(default, int))
    else:
        ok = isinstance(value, type(default))
    require(
        ok,
        where,
        key,
        f"{value!r} is a {type(value).__name__}, expected {type(default).__name__}",
        f"write a {type(default).__name__} value",
    )


def is_number(value: Any) -> bool:
    """A finite int or float (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return isinstance(value, int) or math.isfinite(value)


def read_bounds(spec: Mapping[str, Any], at: str, where: str) -> tuple[int | float, int | float]:
    """``spec``'s ``low`` and ``high``: finite numbers with ``low < high``."""
    low, high = spec.get("low"), spec.get("high")
    for name, value in (("low", low), ("high", high)):
        require(is_number(value), where, f"{at}.{name}", f"{value!r} is not a number", "write a finite number")
    require(low < high, where, at, f"empty or inverted range [{low}, {high}]", "make low < high")
    return low, high


def check_numeric_field(kind: str, sample: type, default: Any, at: str, where: str) -> None:
    """Refuse a numeric distribution (sampling ``sample`` values) on a field that does not hold them.

    An optional field (default ``None``) passes; an int field needs ``sample`` int; a str or bool
    field takes no numeric distribution.
    """
    if default is None:
        return
    numeric = isinstance(default, (int, float)) and not isinstance(default, bool)
    require(
        numeric and (sample is int or not isinstance(default, int)),
        where,
        at,
        f"{kind} samples {sample.__name__} values but {at.removeprefix('search.')} is a {type(default).__name__}",
        "use type: int" if numeric else "use type: choice",
    )
