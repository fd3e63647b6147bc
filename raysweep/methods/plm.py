"""``plm[:POOLING]``: the pre-trained model untouched (:func:`raysweep.baselines.plm.plm`), read out in
the run's pooling (or the one named after ``:``)."""

from __future__ import annotations

from pathlib import Path

from raysweep.baselines.plm import plm
from raysweep.methods.method import RunContext


def run(ctx: RunContext) -> Path:
    return plm(ctx.cfg.model.name, ctx.out, pooling=ctx.cfg.model.pooling)
