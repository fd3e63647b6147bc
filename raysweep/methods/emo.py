"""``emo`` and ``scl``: the method's own runs. Train the run's config (SupCon + λ·VSP; SCL is the same
with λ = 0) on the study's shared data, then export the encoder with its head and model card. A final
run whose config a search trial already trained to its end (``ctx.reuse``: the picked trial's own seed)
exports that trial's last checkpoint instead (:mod:`raysweep.train.finished_run`)."""

from __future__ import annotations

from pathlib import Path

from raysweep.methods.method import RunContext


def train_and_export(ctx: RunContext) -> Path:
    """Train ``ctx.cfg`` on the study's prepared data (prepared here when there is none) and export it;
    or export ``ctx.reuse``'s last checkpoint when that run trained ``ctx.cfg`` to its end (its model
    record then says ``reused_run``)."""
    from raysweep.export import export_checkpoint  # torch and transformers: imported where a model is exported
    from raysweep.train.finished_run import finished_checkpoint
    from raysweep.train.launch import fit

    extra = {"method": ctx.label or "emo", "run": ctx.name}
    if ctx.reuse is not None:
        with finished_checkpoint(ctx.storage, ctx.reuse, ctx.cfg) as folder:
            if folder is not None:
                print(
                    f"[raysweep] {extra['method']} seed {ctx.cfg.train.seed}: the same run as {ctx.reuse}, "
                    "which trained this configuration to its end: its last checkpoint exported, not trained again",
                    flush=True,
                )
                return export_checkpoint(folder, ctx.out, extra={**extra, "run": ctx.reuse, "reused_run": ctx.reuse})
    if ctx.shared_data is not None:
        data = ctx.shared_data(ctx.cfg)
    else:
        from raysweep.train.data import prepare_training_data, share

        data = share(prepare_training_data(ctx.cfg))
    result = fit(ctx.cfg, data, ctx.name, ctx.storage)
    with result.checkpoint.as_directory() as folder:
        return export_checkpoint(folder, ctx.out, extra=extra)
