"""Stop a training run on its dev metric once it stops improving (the fine-tuning protocol's patience).

:class:`EarlyStopping` watches one reported dev metric (higher is better) across the run's dev
evaluations and says to stop once ``patience`` evaluations in a row have not beaten the best one
(a tie is no improvement). Only rank 0 holds the dev metrics (it scores the whole split), so the
verdict is rank 0's, broadcast to every rank (:meth:`EarlyStopping.agreed`): all ranks leave the loop at
the same step. The worker loop (``train.worker.run_training``) reads it after each evaluation; a
stopped run's last report carries ``stopped_early = 1.0``. Its state is not checkpointed: a restarted
worker group starts counting again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch


@dataclass
class EarlyStopping:
    """Patience on one dev metric (higher is better)."""

    metric: str
    patience: int
    best: float = field(default=-math.inf, init=False)
    since_best: int = field(default=0, init=False)

    @classmethod
    def from_dict(cls, spec: dict[str, Any] | None) -> EarlyStopping | None:
        """``{"metric": ..., "patience": ...}`` (a Train loop config's ``early_stop``), or None."""
        if not spec or spec.get("patience") is None:
            return None
        return cls(metric=str(spec["metric"]), patience=int(spec["patience"]))

    def update(self, metrics: dict[str, Any]) -> bool:
        """Record one evaluation's metrics; whether the run should stop now. An evaluation without a
        finite value of the metric (a rank other than 0) changes nothing."""
        value = metrics.get(self.metric)
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            return False
        if value > self.best:
            self.best, self.since_best = float(value), 0
        else:
            self.since_best += 1
        return self.since_best >= self.patience

    def agreed(self, metrics: dict[str, Any], rank: int, world: int, device: torch.device) -> bool:
        """:meth:`update` on rank 0's metrics, its verdict the same on every rank (one broadcast)."""
        stop = self.update(metrics) if rank == 0 else False
        if world > 1:
            flag = torch.tensor([int(stop)], dtype=torch.int32, device=device)
            torch.distributed.broadcast(flag, src=0)
            stop = bool(flag.item())
        return stop
