"""Combinations of search values that cover a whole space, for checking it before any trial runs."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping
from typing import Any

from raysweep.tune.distributions.base import Distribution

COVERAGE_CAP = 2_000
"""Check the full product of the points when it has at most this many combinations: each costs a
config validation (0.05-0.6 ms), and loading a space must stay well under a second (``full``: 864)."""


def covering_combinations(search: Mapping[str, Distribution], cap: int | None = None) -> Iterator[dict[str, Any]]:
    """Parameter dicts (key -> value) that together exercise every value and relation of ``search``.

    The cartesian product of every distribution's :meth:`~Distribution.points` when it has at most
    ``cap`` (default :data:`COVERAGE_CAP`) combinations, so a rule relating any number of keys
    (``full``'s m x batch size) is checked over every combination the space can sample. A larger space
    gets every pair of keys over all their point combinations, the other keys at their representative
    point (the first): rules relating two searched keys are still covered in full, rules relating three
    or more only partly.
    """
    cap = COVERAGE_CAP if cap is None else cap
    keys = list(search)
    points = [search[k].points() for k in keys]
    if len(keys) < 2 or math.prod(len(p) for p in points) <= cap:
        for combo in itertools.product(*points):
            yield dict(zip(keys, combo, strict=True))
        return
    representative = {k: p[0] for k, p in zip(keys, points, strict=True)}
    for (i, a), (j, b) in itertools.combinations(enumerate(keys), 2):
        for va, vb in itertools.product(points[i], points[j]):
            yield {**representative, a: va, b: vb}
