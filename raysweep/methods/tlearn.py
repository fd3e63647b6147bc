"""``tlearn``: transfer learning, the encoder fine-tuned with cross-entropy on GoEmotions
(:func:`raysweep.baselines.tlearn.tlearn`)."""

from __future__ import annotations

from pathlib import Path

from raysweep.baselines.tlearn import tlearn
from raysweep.methods.method import RunContext


def run(ctx: RunContext) -> Path:
    return tlearn(ctx.cfg, ctx.out, ctx.storage, name=ctx.name)
