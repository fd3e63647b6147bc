"""The base class of every search distribution."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from raysweep.tune.distributions.checks import require

D = TypeVar("D", bound="Distribution")


@dataclass(frozen=True)
class Distribution(ABC):
    """What Ray Tune samples one dotted config key (``loss.lam``) from: one entry of a space file's ``search``.

    A distribution is one subclass and one line in :data:`~raysweep.tune.distributions.DISTRIBUTIONS`
    (``type`` string -> class). A subclass is a frozen dataclass whose fields (after ``key``) are its
    parameters, and provides:

    - ``type``: the ``type:`` string of its YAML form; ``keys``: the other YAML keys it takes
      (:meth:`parse` refuses any others before calling :meth:`from_spec`).
    - :meth:`from_spec`: build it from the YAML mapping, refusing a bad one with one line
      (``FILE: search.KEY[.PART]: problem; fix``, see :func:`~raysweep.tune.distributions.checks.require`).
    - :meth:`check_field`: refuse it if its values cannot be of the config field's type.
    - :meth:`tune`: its Ray Tune form; :meth:`to_dict`: its YAML form, which :meth:`parse` loads back
      equal; :meth:`describe`: a short human form for ``--dry-run``.
    - :meth:`points`: finitely many values that cover everything it can sample, for validating a space
      before anything runs; ``points()[0]`` is its representative value.
    - :meth:`contains`: whether a value is one it can sample; :meth:`center`: its middle value (on its
      own scale), which :meth:`value_near` gives for a value it cannot sample.
    - ``categorical``: True when it samples from a finite list of values that :meth:`points` returns
      in full. Only categorical distributions may search a key that changes the prepared data (each
      value needs its own data).
    """

    key: str
    """The dotted config key, ``section.field``."""

    type: ClassVar[str]
    keys: ClassVar[frozenset[str]]
    categorical: ClassVar[bool] = False

    @classmethod
    def parse(cls: type[D], key: str, spec: Mapping[str, Any], where: str) -> D:
        """Build from the YAML mapping ``spec`` (its ``type`` already resolved to ``cls``), refusing unknown keys."""
        at = f"search.{key}"
        allowed = cls.keys | {"type"}
        extra = sorted(set(spec) - allowed, key=str)
        require(
            not extra,
            where,
            f"{at}.{extra[0] if extra else ''}",
            f"is not a key of a {cls.type} distribution",
            f"use {', '.join(sorted(allowed))}",
        )
        return cls.from_spec(key, spec, where)

    @classmethod
    @abstractmethod
    def from_spec(cls: type[D], key: str, spec: Mapping[str, Any], where: str) -> D:
        """Build from the YAML mapping ``spec`` (only ``type`` and ``keys`` in it); raise ``RaysweepError``."""

    @abstractmethod
    def check_field(self, default: Any, where: str) -> None:
        """Raise ``RaysweepError`` if the values cannot be those of a field whose default is ``default``."""

    @abstractmethod
    def tune(self) -> Any:
        """The Ray Tune search-space entry (a ``ray.tune`` domain, or a plain value)."""

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """The YAML form, ``{"type": ..., ...}``, that :meth:`parse` loads back equal."""

    @abstractmethod
    def describe(self) -> str:
        """One short line, e.g. ``loguniform(0.1, 20)``."""

    @abstractmethod
    def points(self) -> list[Any]:
        """Values covering everything this distribution can sample; the first is its representative.

        The config rules are interval and divisibility rules, so for a continuous range its ends and
        an interior point suffice; a discrete one lists every value it can (or enough of them).
        """

    @abstractmethod
    def contains(self, value: Any) -> bool:
        """Whether ``value`` is one this distribution can sample."""

    @abstractmethod
    def center(self) -> Any:
        """The middle of what it samples, on its own scale (a log range: the geometric mean)."""

    def value_near(self, value: Any) -> Any:
        """``value`` when this distribution can sample it, else :meth:`center`: how a point built from
        a config's values (the search's λ = 0 point) stays inside the searched ranges."""
        try:
            inside = self.contains(value)
        except TypeError:  # a value of another type (a string for a float range)
            inside = False
        return value if inside else self.center()
