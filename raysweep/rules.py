"""The valid range of every value a user can set, stated once beside the field it constrains.

A config or settings dataclass declares each field with :func:`ranged` (bounds, finiteness, an
optional ``None``) or :func:`one_of` (a fixed set of option strings), and a hint on how to fix a bad
value; :func:`check_fields` then checks every field of an instance against its type annotation and
its rule and raises one :class:`~raysweep.errors.RaysweepError` line naming the field, the problem
and the fix. Relations between fields (m dividing the batch, say) stay in the dataclass's own
``validate``. The CLIs build these dataclasses from their flags, and search spaces check every value
a distribution can take, so the same rule holds at every edge::

    @dataclass
    class LossConfig:
        tau: float = ranged(0.1, gt=0, label="loss.tau (τ)", fix="use a temperature τ > 0, e.g. 0.1")
"""

from __future__ import annotations

import functools
import math
import types
import typing
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from raysweep.errors import RaysweepError


@dataclass(frozen=True)
class Rule:
    """Bounds (``ge``/``gt``/``le``/``lt``), allowed ``choices`` and the message parts of one field."""

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    choices: tuple[str, ...] | None = None
    noun: str = "value"
    """What a choice is called in the message: ``unknown head 'x'``."""
    label: str | None = None
    """How the field is named in messages (default ``section.field``)."""
    fix: str = ""

    def problem(self, value: Any) -> str | None:
        """Why ``value`` breaks the rule, or None."""
        if value is None:
            return None
        if self.choices is not None:
            return None if value in self.choices else f"unknown {self.noun} {value!r}"
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        if not math.isfinite(value):
            return f"{value} is not a finite number"
        if self.gt is not None and not value > self.gt:
            return f"{value} is not positive" if self.gt == 0 else f"{value} is not above {self.gt:g}"
        if self.ge is not None and not value >= self.ge:
            return f"{value} is negative" if self.ge == 0 else f"{value} is below {self.ge:g}"
        if self.lt is not None and not value < self.lt:
            return f"{value} is not below {self.lt:g}"
        if self.le is not None and not value <= self.le:
            return f"{value} is above {self.le:g}"
        return None

    def hint(self) -> str:
        if self.fix:
            return self.fix
        if self.choices is not None:
            return f"use one of {', '.join(self.choices)}"
        parts = [f"> {self.gt:g}" if self.gt is not None else "", f">= {self.ge:g}" if self.ge is not None else ""]
        parts += [f"< {self.lt:g}" if self.lt is not None else "", f"<= {self.le:g}" if self.le is not None else ""]
        return "use a value " + " and ".join(p for p in parts if p)


def ranged(default: Any, *, fix: str = "", label: str | None = None, **bounds: float) -> Any:
    """A dataclass field with numeric bounds (``ge``, ``gt``, ``le``, ``lt``); NaN and ±inf are refused."""
    return field(default=default, metadata={"rule": Rule(fix=fix, label=label, **bounds)})


def one_of(default: Any, choices: tuple[str, ...], noun: str, fix: str = "", label: str | None = None) -> Any:
    """A dataclass field whose value is one of ``choices`` (or None, when the type allows it)."""
    return field(default=default, metadata={"rule": Rule(choices=choices, noun=noun, fix=fix, label=label)})


def listed(default_factory: Any) -> Any:
    """A list field (its items are checked against the annotation's item type)."""
    return field(default_factory=default_factory)


@functools.cache
def _field_hints(cls: type) -> tuple[tuple[Any, Any], ...]:
    hints = typing.get_type_hints(cls)
    return tuple((f, hints.get(f.name, Any)) for f in fields(cls))


def check_fields(obj: Any, section: str) -> None:
    """Check every field of dataclass ``obj`` against its annotation and its :class:`Rule`."""
    for f, expected in _field_hints(type(obj)):
        value = getattr(obj, f.name)
        rule: Rule = f.metadata.get("rule", Rule())
        key = rule.label or f"{section}.{f.name}"
        if not type_matches(value, expected):
            raise RaysweepError(
                f"{key}: {value!r} is a {type(value).__name__}, expected {type_name(expected)}; "
                f"write it as {type_name(expected)}"
            )
        problem = rule.problem(value)
        if problem is None and isinstance(value, list):
            problem = next((p for p in (rule.problem(v) for v in value) if p), None)
        if problem:
            raise RaysweepError(f"{key}: {problem}; {rule.hint()}")


def type_matches(value: Any, expected: Any) -> bool:
    """``isinstance`` for the annotations the config uses: int (not bool), float (int too), str,
    bool, ``X | None``, unions and ``list[X]``."""
    if expected is Any:
        return True
    origin = typing.get_origin(expected)
    if origin in (typing.Union, types.UnionType):
        return any(type_matches(value, arg) for arg in typing.get_args(expected))
    if expected is type(None):
        return value is None
    if origin is list:
        (item,) = typing.get_args(expected) or (Any,)
        return isinstance(value, list) and all(type_matches(v, item) for v in value)
    if expected is bool:
        return isinstance(value, bool)
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if expected is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, expected) if isinstance(expected, type) else True


def type_name(expected: Any) -> str:
    origin = typing.get_origin(expected)
    if origin in (typing.Union, types.UnionType):
        names = [type_name(a) for a in typing.get_args(expected) if a is not type(None)]
        return " or ".join(names) + (" or null" if type(None) in typing.get_args(expected) else "")
    if origin is list:
        (item,) = typing.get_args(expected) or (Any,)
        return f"list of {type_name(item)}"
    return getattr(expected, "__name__", str(expected))


def defaults(cls: type) -> dict[str, Any]:
    """Each field's default (``MISSING`` for a required one), for messages and generators."""
    out: dict[str, Any] = {}
    for f in fields(cls):
        if f.default is not MISSING:
            out[f.name] = f.default
        elif f.default_factory is not MISSING:
            out[f.name] = f.default_factory()
        else:
            out[f.name] = MISSING
    return out
