"""``tlearn``: transfer learning. Fine-tune the encoder with a linear classifier and cross-entropy on
single-label GoEmotions (objective ``ce``, the one training launcher), then export the encoder."""

from __future__ import annotations

import time
from pathlib import Path

from raysweep.config import RetrofitConfig
from raysweep.methods.method import RunContext


def tlearn(cfg: RetrofitConfig, out: str | Path, storage: str | Path, name: str | None = None) -> Path:
    """Train ``cfg`` with the ``ce`` objective on GoEmotions; the exported model folder."""
    from raysweep.export import export_checkpoint
    from raysweep.train.cluster import connect
    from raysweep.train.data import prepare_training_data, share
    from raysweep.train.launch import fit
    from raysweep.train.objectives.ce import ClassifierObjective

    cfg = cfg.replace(loss={"objective": ClassifierObjective.name})
    name = name or f"tlearn-{time.strftime('%Y%m%d-%H%M%S')}"
    connect()
    t0 = time.perf_counter()
    result = fit(cfg, share(prepare_training_data(cfg)), name, str(storage))
    with result.checkpoint.as_directory() as folder:
        return export_checkpoint(
            folder, out, extra={"baseline": "tlearn", "run": name, "wall_s": time.perf_counter() - t0}
        )


def run(ctx: RunContext) -> Path:
    """The method record's ``run``."""
    return tlearn(ctx.cfg, ctx.out, ctx.storage, name=ctx.name)
