"""The Optuna samplers a study can search with, registered by option string (``study.sampler``).

========== ==========================================================================================
``tpe``    :class:`optuna.samplers.TPESampler` (multi-objective: MOTPE), ``n_startup_trials`` a third of
           the trials, between 2 and 10 (good at tens of trials)
``nsga2``  :class:`optuna.samplers.NSGAIISampler`, a population of ``num_samples / 2`` between 4 and
           50 (multi-objective only; long studies)
``random`` :class:`optuna.samplers.RandomSampler` (the baseline every model-based sampler should beat)
========== ==========================================================================================

Each entry is the Optuna class and how its arguments follow from the study's seed and trial count.

Example::

    sampler = build_sampler("tpe", seed=0, num_samples=10)   # TPESampler(seed=0, n_startup_trials=3)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

SAMPLERS: dict[str, tuple[str, Callable[[int, int], dict[str, Any]]]] = {
    "tpe": ("TPESampler", lambda seed, n: {"seed": seed, "n_startup_trials": min(10, max(2, n // 3))}),
    "nsga2": ("NSGAIISampler", lambda seed, n: {"seed": seed, "population_size": max(4, min(n // 2, 50))}),
    "random": ("RandomSampler", lambda seed, n: {"seed": seed}),
}
"""Option string -> (the class's name in ``optuna.samplers``, its arguments from ``(seed, num_samples)``)."""


def build_sampler(kind: str, *, seed: int, num_samples: int) -> Any:
    """The Optuna sampler of option ``kind`` (a key of :data:`SAMPLERS`) for a study of ``num_samples``
    trials seeded with ``seed``."""
    import optuna

    if kind not in SAMPLERS:
        raise ValueError(f"unknown sampler {kind!r}; use one of {', '.join(SAMPLERS)}")
    name, arguments = SAMPLERS[kind]
    return getattr(optuna.samplers, name)(**arguments(seed, num_samples))
