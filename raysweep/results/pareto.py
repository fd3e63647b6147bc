"""Which search trials to keep: the Pareto front of emotion awareness (max) vs Δemb (min), and a
few configurations spread along it (or the single best when the study is single-objective)."""

from __future__ import annotations

from typing import Any

from raysweep.methods.registry import LAMBDA_ZERO
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


FULL_LENGTH = "train.max_steps"
"""The config key a search pins to its full fidelity (``raysweep.tune.study.FULL_LENGTH``)."""


def progress(trial: TrialRecord) -> float:
    """How far a trial trained: its last result's ``step`` (Tune's ``training_iteration`` for a record
    without one; that count restarts when a Train run is restored, the step does not)."""
    result = trial["result"]
    value = result.get("step")
    return float(value if value is not None else result.get("training_iteration", 0) or 0)


def full_fidelity(trials: list[TrialRecord], metric: str) -> list[TrialRecord]:
    """The usable trials that trained their full length: whose last ``step`` reached the full fidelity
    pinned in their config (``train.max_steps``, the final runs' length), so a study none of whose
    trials finished has none. A record without that key (a study from before it was pinned) counts
    the trials that trained as long as the longest one."""
    pool = usable(trials, metric)
    pinned = [t for t in pool if t["config"].get(FULL_LENGTH) is not None]
    if pinned:
        return [t for t in pinned if progress(t) >= float(t["config"][FULL_LENGTH])]
    longest = max((progress(t) for t in pool), default=0.0)
    return [t for t in pool if progress(t) == longest]


def is_lambda_zero(trial: TrialRecord) -> bool:
    """Whether a trial is the search's λ = 0 point (SCL on the method's front)."""
    return trial["config"].get("loss.lam") == 0.0


def reference_drift(full: list[TrialRecord]) -> float | None:
    """The drift of the hypervolume's reference point, from full-fidelity trials ``full``: the λ = 0
    point's dev Δemb (SCL, run first in every multi-objective search; the largest when several ran),
    else the largest dev Δemb among them; None without a drift."""
    drifts = [(is_lambda_zero(t), float(t["result"][DRIFT])) for t in full if t["result"].get(DRIFT) is not None]
    zero = [d for is_zero, d in drifts if is_zero]
    return max(zero or [d for _, d in drifts], default=None)


def hypervolume(trials: list[TrialRecord], metric: str, reference: tuple[float, float]) -> float:
    """The area the front of ``trials`` dominates above ``reference = (metric, drift)``: the box between
    the reference (e.g. PLM's dev metric and the λ = 0 point's drift) and each front point, united.
    Points that do not beat the reference on both objectives add nothing; 0 for an empty front."""
    m_ref, d_ref = reference
    front = [
        (t["result"][DRIFT], t["result"][metric])
        for t in pareto_front(trials, metric)
        if t["result"][metric] > m_ref and t["result"][DRIFT] < d_ref
    ]
    front.sort()
    area = 0.0
    for i, (drift, value) in enumerate(front):
        right = front[i + 1][0] if i + 1 < len(front) else d_ref
        area += (right - drift) * (value - m_ref)
    return float(area)


def matched_pick(trials: list[TrialRecord], metric: str, rule: dict[str, float | str]) -> TrialRecord | None:
    """A full-fidelity trial chosen by a matching rule: ``{"drift_at_most": X}`` the most emotion-aware
    trial whose dev Δemb is at most X; ``{"metric_at_least": Y}`` the least-drifting trial whose dev
    ``metric`` is at least Y (so Emo and SCL can be compared at equal drift or equal awareness). X or Y
    ``scl`` (``methods.registry.LAMBDA_ZERO``) is the full-fidelity λ = 0 point's own figure (the best
    one where several ran), and the λ = 0 points themselves are then not candidates; None when nothing
    matches (or, for ``scl``, no λ = 0 point reached full fidelity)."""
    pool = [t for t in full_fidelity(trials, metric) if t["result"].get(DRIFT) is not None]
    ((kind, bound),) = rule.items()
    if bound == LAMBDA_ZERO:
        zero = [t for t in pool if is_lambda_zero(t)]
        if not zero:
            return None
        pool = [t for t in pool if not is_lambda_zero(t)]
        if kind == "drift_at_most":
            bound = min(t["result"][DRIFT] for t in zero)
        else:
            bound = max(t["result"][metric] for t in zero)
    if kind == "drift_at_most":
        fits = [t for t in pool if t["result"][DRIFT] <= float(bound)]
        return max(fits, key=lambda t: t["result"][metric], default=None)
    fits = [t for t in pool if t["result"][metric] >= float(bound)]
    return min(fits, key=lambda t: t["result"][DRIFT], default=None)


def pick(trials: list[TrialRecord], metric: str, n: int, multi_objective: bool) -> list[TrialRecord]:
    """``n`` trials spread evenly along the front (multi-objective; one: its knee) or the best by ``metric``; the
    ones that reached full fidelity (:func:`full_fidelity`) are preferred over ones stopped early, which
    are picked only when none did."""
    pool = usable(trials, metric)
    if not pool:
        return []
    full = full_fidelity(trials, metric)
    if multi_objective:
        front = pareto_front(full, metric) or pareto_front(pool, metric)
        if front:
            if len(front) <= n:
                return front
            if n == 1:
                return [knee(front, metric)]
            idx = sorted({round(i * (len(front) - 1) / max(n - 1, 1)) for i in range(n)})
            return [front[i] for i in idx]
    return sorted(full or pool, key=lambda t: t["result"][metric], reverse=True)[:n]


def pick_per_model(
    trials: list[TrialRecord],
    metric: str,
    n: int,
    multi_objective: bool,
    matched: list[dict[str, float | str]] | None = None,
    key: str = "model.name",
) -> list[TrialRecord]:
    """:func:`pick` (and each :func:`matched_pick` rule) within each searched model name, so each
    model has its own Emo, SCL and baselines; over all trials when no model name is searched. A trial
    chosen twice is kept once."""
    names: list[str | None] = sorted({str(t["config"][key]) for t in trials if key in t["config"]}) or [None]
    chosen: list[TrialRecord] = []
    for name in names:
        group = trials if name is None else [t for t in trials if str(t["config"].get(key)) == name]
        found = pick(group, metric, n, multi_objective)
        found += [m for m in (matched_pick(group, metric, rule) for rule in matched or []) if m is not None]
        for t in found:
            if t["trial_id"] not in {c["trial_id"] for c in chosen}:
                chosen.append(t)
    return chosen
