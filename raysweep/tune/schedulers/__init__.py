"""Early stopping for the search: one scheduler per kind of space, registered by option string.

=============== ==================================================================================
``asha``        :class:`~raysweep.tune.schedulers.asha.ASHA`: Ray's ASHA on the emotion metric
                (single-objective spaces)
``pareto_asha`` :class:`~raysweep.tune.schedulers.pareto_asha.ParetoASHA`: successive halving by
                non-dominated rank and crowding distance over (metric max, drift min), with an
                emotion floor (multi-objective spaces)
``fifo``        :class:`~raysweep.tune.schedulers.fifo.FIFO`: no early stopping
=============== ==================================================================================

``study.scheduler: auto`` (the default) is :func:`scheduler_kind`. Every scheduler runs on the
reported ``step`` against the search's :class:`~raysweep.tune.schedulers.fidelity.SearchFidelity`.
All record which trials they stop early and give their state as plain data; pair either with
:class:`~raysweep.tune.schedulers.state.SchedulerStateCallback` so the state survives ``--resume``.

Example::

    fidelity = SearchFidelity(steps=120, eval_every=40)
    scheduler = build_scheduler(scheduler_kind(multi_objective=True), metric="dev_ami", time_attr="step",
                                max_t=fidelity.max_t, grace_period=fidelity.grace_period(2),
                                reduction_factor=2, full_fidelity=fidelity.steps, floor=None)
"""

from __future__ import annotations

from typing import Any

from raysweep.tune.schedulers.asha import ASHA
from raysweep.tune.schedulers.fidelity import SearchFidelity, search_fidelity
from raysweep.tune.schedulers.fifo import FIFO
from raysweep.tune.schedulers.pareto_asha import FLOOR_MARGIN, ParetoASHA, emotion_floor
from raysweep.tune.schedulers.state import SchedulerStateCallback, StatefulScheduler

SCHEDULERS: dict[str, type] = {"asha": ASHA, "pareto_asha": ParetoASHA, "fifo": FIFO}
"""Option string -> scheduler class."""

__all__ = [
    "ASHA",
    "FIFO",
    "FLOOR_MARGIN",
    "SCHEDULERS",
    "ParetoASHA",
    "SchedulerStateCallback",
    "SearchFidelity",
    "StatefulScheduler",
    "build_scheduler",
    "emotion_floor",
    "scheduler_kind",
    "search_fidelity",
]


def scheduler_kind(multi_objective: bool) -> str:
    """The scheduler a space gets: ``pareto_asha`` when it is multi-objective, else ``asha``."""
    return "pareto_asha" if multi_objective else "asha"


def build_scheduler(
    kind: str,
    *,
    metric: str,
    drift: str = "dev_delta_emb",
    time_attr: str = "step",
    max_t: int,
    grace_period: int,
    reduction_factor: float,
    full_fidelity: int | None = None,
    floor: float | None = None,
    floor_from: float | None = None,
) -> Any:
    """The scheduler of option ``kind`` (a key of :data:`SCHEDULERS`) on the emotion ``metric``
    (maximised); ``drift`` (minimised), ``floor`` and ``floor_from`` are for ``pareto_asha`` only, the rungs
    (``grace_period``, ``reduction_factor``) for the ASHAs only."""
    if kind not in SCHEDULERS:
        raise ValueError(f"unknown scheduler {kind!r}; use one of {', '.join(SCHEDULERS)}")
    common = dict(
        time_attr=time_attr,
        max_t=max_t,
        grace_period=grace_period,
        reduction_factor=reduction_factor,
        full_fidelity=full_fidelity,
    )
    if kind == "asha":
        return ASHA(metric=metric, mode="max", **common)
    if kind == "fifo":
        return FIFO(time_attr=time_attr, max_t=max_t)
    return ParetoASHA(metric=metric, drift=drift, floor=floor, floor_from=floor_from, **common)
