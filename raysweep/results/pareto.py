"""Which search trials to keep: the Pareto front of emotion awareness (max) vs Δemb (min), and a
few configurations spread along it (or the single best when the study is single-objective)."""

from __future__ import annotations

from typing import Any

from raysweep.results.records import TrialRecord

DRIFT = "dev_delta_emb"


def usable(trials: list[TrialRecord], metric: str) -> list[TrialRecord]:
    """Trials that reported the metric and did not diverge."""
    return [t for t in trials if t["result"].get(metric) is not None and not t["result"].get("diverged")]


def pareto_front(trials: list[TrialRecord], metric: str) -> list[TrialRecord]:
    """Non-dominated trials (higher ``metric``, lower Δemb), sorted by Δemb."""
    points = [t for t in usable(trials, metric) if t["result"].get(DRIFT) is not None]
    front = []
    for t in points:
        a, d = t["result"][metric], t["result"][DRIFT]
        dominated = any(
            o["result"][metric] >= a and o["result"][DRIFT] <= d and (o["result"][metric] > a or o["result"][DRIFT] < d)
            for o in points
        )
        if not dominated:
            front.append(t)
    return sorted(front, key=lambda t: t["result"][DRIFT])


def knee(front: list[TrialRecord], metric: str) -> TrialRecord:
    """The front's point nearest the ideal (best metric, least drift), both min-max scaled over the front."""

    def scaled(key: str, t: dict[str, Any]) -> float:
        values = [f["result"][key] for f in front]
        span = max(values) - min(values)
        return (t["result"][key] - min(values)) / span if span > 0 else 0.0

    return min(front, key=lambda t: (1 - scaled(metric, t)) ** 2 + scaled(DRIFT, t) ** 2)


def pick(trials: list[TrialRecord], metric: str, n: int, multi_objective: bool) -> list[TrialRecord]:
    """``n`` trials spread evenly along the front (multi-objective; one: its knee) or the best by ``metric``; the
    ones that completed every evaluation step are preferred over ones ASHA stopped early."""
    pool = usable(trials, metric)
    if not pool:
        return []
    longest = max(t["result"].get("training_iteration", 0) or 0 for t in pool)
    full = [t for t in pool if (t["result"].get("training_iteration", 0) or 0) == longest]
    if multi_objective:
        front = pareto_front(full, metric) or pareto_front(pool, metric)
        if front:
            if len(front) <= n:
                return front
            if n == 1:
                return [knee(front, metric)]
            idx = sorted({round(i * (len(front) - 1) / max(n - 1, 1)) for i in range(n)})
            return [front[i] for i in idx]
    return sorted(full, key=lambda t: t["result"][metric], reverse=True)[:n]


def pick_per_model(
    trials: list[TrialRecord], metric: str, n: int, multi_objective: bool, key: str = "model.name"
) -> list[TrialRecord]:
    """:func:`pick` within each searched model name (a space that searches ``model.name`` gets picks
    for every model, so each has its own Emo, SCL and baselines); :func:`pick` when none is searched."""
    names = sorted({str(t["config"][key]) for t in trials if key in t["config"]})
    if not names:
        return pick(trials, metric, n, multi_objective)
    return [
        p
        for name in names
        for p in pick([t for t in trials if str(t["config"].get(key)) == name], metric, n, multi_objective)
    ]
