"""The search's fidelity in optimiser steps: how long a search trial trains when nothing stops it,
which must be how long the final runs train, and the rungs in the same unit.

A final run re-trains a pick with the pick's own configuration, so it trains as many steps as the
pick's trial could: ``min(steps_per_epoch * epochs, max_steps)``, ``steps_per_epoch`` being the
training rows over the global batch. A front read off trials stopped at a fraction of that length
does not predict the finals' drift, so :func:`search_fidelity` works that length out for every
configuration the search can sample and refuses a space whose configurations train for different
lengths (one full fidelity for every trial, equal to every final run's). The study then pins
``train.max_steps`` to that length in every trial's config (so the picks and the final runs carry it)
and runs the schedulers on the reported ``step``, which a Train run restored from its checkpoint
continues, where ``training_iteration`` (Tune's count of results) starts again at 1.

The rungs are in steps too: ``study.asha_grace_period`` counts evaluations, so the first milestone
is ``asha_grace_period * eval_every`` steps (an evaluation lands on every milestone), and a result at
``steps`` is at full fidelity (no decision is taken there); ``max_t`` is one past it, so no scheduler
stops a trial that is finishing anyway.

>>> f = SearchFidelity(steps=120, eval_every=40)
>>> f.grace_period(2), f.max_t
(80, 121)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from raysweep.errors import RaysweepError


@dataclass(frozen=True)
class SearchFidelity:
    """Full fidelity of a search: ``steps`` per trial (every final run's length), evaluations every
    ``eval_every`` steps."""

    steps: int
    eval_every: int

    @property
    def max_t(self) -> int:
        """The schedulers' ``max_t``: one step past full fidelity."""
        return self.steps + 1

    def grace_period(self, evaluations: int) -> int:
        """The first rung, in steps: ``evaluations`` evaluations, at most full fidelity."""
        return max(1, min(evaluations * self.eval_every, self.steps))


def training_length(cfg: Any, train_rows: int) -> tuple[int, int]:
    """``(steps, eval_every)`` of a run of ``cfg`` (a ``RetrofitConfig``) on ``train_rows`` rows, as the
    Train worker counts them: ``steps_per_epoch = train_rows // batch_size``, ``steps =
    min(steps_per_epoch * epochs, max_steps)``, ``eval_every`` its own or once per epoch."""
    per_epoch = train_rows // cfg.sampler.batch_size
    steps = per_epoch * cfg.train.epochs
    if cfg.train.max_steps is not None:
        steps = min(steps, cfg.train.max_steps)
    return steps, cfg.train.eval_every or per_epoch


def search_fidelity(
    configs: Iterable[tuple[dict[str, Any], Any]], train_rows: Callable[[Any], int], where: str
) -> SearchFidelity:
    """The one full fidelity of every ``(params, cfg)`` pair (what a search can sample, and its
    config), ``train_rows(cfg)`` the rows it trains on; a ``RaysweepError`` naming two of them when
    they train for different lengths, with the fix (one ``train.max_steps`` that every one reaches)."""
    seen: dict[int, tuple[dict[str, Any], int]] = {}
    every: list[int] = []
    for params, cfg in configs:
        steps, eval_every = training_length(cfg, train_rows(cfg))
        seen.setdefault(steps, (params, eval_every))
        every.append(eval_every)
    if not seen:
        raise RaysweepError(f"{where}: search: no configuration to train; give at least one search key")
    if len(seen) > 1:
        (short, (a, _)), (long, (b, _)) = min(seen.items()), max(seen.items())
        raise RaysweepError(
            f"{where}: search: trials would train for different lengths ({short} steps with {_named(a)}, {long} "
            f"with {_named(b)}), so the search has no one full fidelity equal to the final runs' length; set "
            f"base.train.max_steps to at most {short} (and do not search the training length)"
        )
    steps = next(iter(seen))
    eval_every = min(every)
    if steps < 1:
        raise RaysweepError(f"{where}: search: a trial would train 0 steps; use more data or a smaller batch_size")
    return SearchFidelity(steps=steps, eval_every=min(eval_every, steps))


def _named(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items()) or "the base config"
