"""The ``type:`` string of a search entry -> its distribution class; adding a distribution is one line here."""

from __future__ import annotations

from typing import Any

from raysweep.tune.distributions.base import Distribution
from raysweep.tune.distributions.checks import require
from raysweep.tune.distributions.choice import Choice
from raysweep.tune.distributions.fixed import Fixed
from raysweep.tune.distributions.integer import IntRange
from raysweep.tune.distributions.loguniform import LogUniform
from raysweep.tune.distributions.uniform import Uniform

DISTRIBUTIONS: dict[str, type[Distribution]] = {
    "loguniform": LogUniform,
    "uniform": Uniform,
    "int": IntRange,
    "choice": Choice,
    "fixed": Fixed,
}


def parse_distribution(key: str, spec: Any, where: str) -> Distribution:
    """The distribution of ``search.KEY`` from its YAML mapping ``spec`` (read from file ``where``).

    Raises ``RaysweepError`` with one line, ``WHERE: search.KEY...: problem; fix``. Whether the values
    suit the config field is :meth:`Distribution.check_field`'s business.
    """
    at = f"search.{key}"
    require(isinstance(spec, dict), where, at, "is not a mapping", "write {type: ..., low: ..., high: ...}")
    kind = spec.get("type")
    require(
        isinstance(kind, str) and kind in DISTRIBUTIONS,
        where,
        f"{at}.type",
        f"unknown type {kind!r}",
        f"use one of {', '.join(DISTRIBUTIONS)}",
    )
    return DISTRIBUTIONS[kind].parse(key, spec, where)
