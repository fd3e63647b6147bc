"""``emo`` and ``scl``: the method's own runs. Train the run's config (SupCon + λ·VSP; SCL is the same
with λ = 0) on the study's shared data, then export the encoder with its head and model card."""

from __future__ import annotations

from pathlib import Path

from raysweep.export import export_checkpoint
from raysweep.methods.method import RunContext
from raysweep.train.launch import fit


def train_and_export(ctx: RunContext) -> Path:
    """Train ``ctx.cfg`` on the study's prepared data (prepared here when there is none) and export it."""
    if ctx.shared_data is not None:
        data = ctx.shared_data(ctx.cfg)
    else:
        from raysweep.train.data import prepare_training_data, share

        data = share(prepare_training_data(ctx.cfg))
    result = fit(ctx.cfg, data, ctx.name, ctx.storage)
    with result.checkpoint.as_directory() as folder:
        return export_checkpoint(folder, ctx.out, extra={"method": ctx.label or "emo", "run": ctx.name})
