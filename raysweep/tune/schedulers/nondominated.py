"""Non-dominated sorting and crowding distance (Deb et al. 2002, NSGA-II): pure functions on points
whose every objective is minimised.

A point ``a`` dominates ``b`` when it is no worse in every objective and better in at least one. The
fronts partition the points: front 0 holds the points no other point dominates, front 1 those left
non-dominated once front 0 is removed, and so on. Within a front, the crowding distance of a point
is the sum over objectives of the gap between its two neighbours along that objective, scaled by the
front's span in it; the two ends of each objective get ``inf``. A larger distance means a lonelier
point, so ordering by (front, -crowding distance) keeps the front and spreads along it.

>>> points = [(0.0, 1.0), (1.0, 0.0), (0.5, 0.5), (1.0, 1.0)]
>>> nondominated_fronts(points)
[[0, 1, 2], [3]]
>>> crowded_order(points)  # both ends of front 0, its middle, then the dominated point
[0, 1, 2, 3]
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Point = Sequence[float]


def dominates(a: Point, b: Point) -> bool:
    """Whether ``a`` dominates ``b`` (every objective minimised): no worse anywhere, better somewhere."""
    return all(x <= y for x, y in zip(a, b, strict=True)) and any(x < y for x, y in zip(a, b, strict=True))


def nondominated_fronts(points: Sequence[Point]) -> list[list[int]]:
    """The indices of ``points`` by front (Deb's fast non-dominated sort, O(n²) comparisons), best
    front first, each front's indices ascending. Equal points never dominate each other, so they
    share a front."""
    n = len(points)
    beats: list[list[int]] = [[] for _ in range(n)]  # beats[i]: the points i dominates
    beaten_by = [0] * n  # how many points dominate i
    for i in range(n):
        for j in range(i + 1, n):
            if dominates(points[i], points[j]):
                beats[i].append(j)
                beaten_by[j] += 1
            elif dominates(points[j], points[i]):
                beats[j].append(i)
                beaten_by[i] += 1
    fronts: list[list[int]] = []
    current = [i for i in range(n) if beaten_by[i] == 0]
    while current:
        fronts.append(sorted(current))
        following = []
        for i in current:
            for j in beats[i]:
                beaten_by[j] -= 1
                if beaten_by[j] == 0:
                    following.append(j)
        current = following
    return fronts


def crowding_distances(points: Sequence[Point], front: Sequence[int]) -> dict[int, float]:
    """The NSGA-II crowding distance of every index in ``front`` (indices into ``points``).

    For each objective the front is sorted by it (ties keep index order); the first and the last get
    ``inf``, every other point adds ``(next - previous) / (max - min)`` (nothing when the span is 0).
    A front of one or two points is all ends: ``inf`` each.
    """
    distance = {i: 0.0 for i in front}
    if len(front) <= 2:
        return {i: math.inf for i in front}
    for m in range(len(points[front[0]])):
        along = sorted(front, key=lambda i: points[i][m])
        distance[along[0]] = distance[along[-1]] = math.inf
        span = points[along[-1]][m] - points[along[0]][m]
        if span <= 0:
            continue
        for previous, here, following in zip(along, along[1:], along[2:], strict=False):
            distance[here] += (points[following][m] - points[previous][m]) / span
    return distance


def crowded_order(points: Sequence[Point]) -> list[int]:
    """Every index of ``points``, best first: by front, then by crowding distance (larger first),
    then by index (earlier first), NSGA-II's crowded-comparison order made total."""
    order: list[int] = []
    for front in nondominated_fronts(points):
        distance = crowding_distances(points, front)
        order += sorted(front, key=lambda i: (-distance[i], i))
    return order
