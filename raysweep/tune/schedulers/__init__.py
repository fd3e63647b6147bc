"""Early stopping for the search: one scheduler per kind of space, registered by option string.

=============== ==================================================================================
``asha``        :class:`~raysweep.tune.schedulers.asha.ASHA`: Ray's ASHA on the emotion metric
                (single-objective spaces)
``pareto_asha`` :class:`~raysweep.tune.schedulers.pareto_asha.ParetoASHA`: successive halving by
                non-dominated rank and crowding distance over (metric max, drift min), with an
                emotion floor (multi-objective spaces)
=============== ==================================================================================

Both record which trials they stop early and give their state as plain data; pair either with
:class:`~raysweep.tune.schedulers.state.SchedulerStateCallback` so the state survives ``--resume``.

Example::

    scheduler = build_scheduler(scheduler_kind(multi_objective=True), metric="dev_ami", max_t=4,
                                grace_period=2, reduction_factor=2, full_fidelity=3, floor=None)
"""

from __future__ import annotations

from typing import Any

from raysweep.tune.schedulers.asha import ASHA
from raysweep.tune.schedulers.pareto_asha import FLOOR_MARGIN, ParetoASHA, emotion_floor
from raysweep.tune.schedulers.state import SchedulerStateCallback, StatefulScheduler

SCHEDULERS: dict[str, type] = {"asha": ASHA, "pareto_asha": ParetoASHA}
"""Option string -> scheduler class."""

__all__ = [
    "ASHA",
    "FLOOR_MARGIN",
    "SCHEDULERS",
    "ParetoASHA",
    "SchedulerStateCallback",
    "StatefulScheduler",
    "build_scheduler",
    "emotion_floor",
    "scheduler_kind",
]


def scheduler_kind(multi_objective: bool) -> str:
    """The scheduler a space gets: ``pareto_asha`` when it is multi-objective, else ``asha``."""
    return "pareto_asha" if multi_objective else "asha"


def build_scheduler(
    kind: str,
    *,
    metric: str,
    drift: str = "dev_delta_emb",
    time_attr: str = "training_iteration",
    max_t: int,
    grace_period: int,
    reduction_factor: float,
    full_fidelity: int | None = None,
    floor: float | None = None,
) -> Any:
    """The scheduler of option ``kind`` (a key of :data:`SCHEDULERS`) on the emotion ``metric``
    (maximised); ``drift`` (minimised) and ``floor`` are for ``pareto_asha`` only."""
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
    return ParetoASHA(metric=metric, drift=drift, floor=floor, **common)
