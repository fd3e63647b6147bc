"""A Train run that already trained a configuration to its end, found again by its name: a study's
final run of the picked configuration with the search trial's own seed is that trial, step for step
(the same config, data, seed and sampler order), so its last checkpoint is exported instead of
training the same run twice.

A run counts as finished when its last report says so (``train.worker``): ``step == steps_total``, or
``stopped_early`` by its own early-stopping rule; never one that a scheduler stopped (ASHA's early
rungs) or that diverged. The checkpoint's stored config must equal the asked one, field for field, or
nothing is reused. On a CPU the reused model is the one a re-run trains, bit for bit (tested); on a GPU
a re-run differs by its kernels' non-determinism only. Written by hand: Ray keeps the checkpoint and
its metrics (``ray.train.Result.from_path``) but does not know that two runs are the same.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from typing import Any

from raysweep.config import RetrofitConfig
from raysweep.models.checkpoint import load_config

log = logging.getLogger(__name__)

__all__ = ["finished_checkpoint", "ran_to_end"]


def ran_to_end(metrics: dict[str, Any]) -> bool:
    """Whether a run's last reported ``metrics`` are its own end: every planned step taken (or its own
    early stopping), and not diverged."""
    if metrics.get("diverged") or not isinstance(metrics.get("step"), (int, float)):
        return False
    if metrics.get("stopped_early"):
        return True
    total = metrics.get("steps_total")
    return isinstance(total, (int, float)) and metrics["step"] >= total > 0


@contextlib.contextmanager
def finished_checkpoint(storage: str, name: str, cfg: RetrofitConfig) -> Iterator[str | None]:
    """The last checkpoint folder of Train run ``name`` under ``storage`` when that run ran ``cfg`` to
    its end (:func:`ran_to_end`), else None (with the reason logged); the folder is valid inside the
    ``with`` block (downloaded there from remote storage)."""
    from ray.train import Result

    try:
        result = Result.from_path(f"{storage.rstrip('/')}/{name}")
    except (RuntimeError, OSError, ValueError) as err:
        log.info("no finished run %s to reuse: %s", name, err)
        yield None
        return
    if result.checkpoint is None or not ran_to_end(result.metrics or {}):
        log.info("run %s did not run to its end: trained again", name)
        yield None
        return
    with result.checkpoint.as_directory() as folder:
        if load_config(folder) != json.loads(json.dumps(cfg.to_dict())):  # as the checkpoint stored it
            log.info("run %s trained another configuration: trained again", name)
            yield None
        else:
            yield str(folder)
