"""``mtl``: multi-task learning. Emotion cross-entropy on GoEmotions and the downstream task's
cross-entropy trained jointly (objective ``mtl``, ``train/objectives/mtl.py``), then the encoder exported."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import TYPE_CHECKING

from raysweep.config import RetrofitConfig
from raysweep.errors import RaysweepError
from raysweep.methods.method import RunContext

if TYPE_CHECKING:  # torch and transformers: imported where MTL trains, not where the registry is read
    from raysweep.data.tasks import Task
    from raysweep.train.objectives.mtl import MTLTrainingData


def mtl_training_data(cfg: RetrofitConfig, task: Task, task_weight: float = 1.0) -> MTLTrainingData:
    """GoEmotions training data with ``task``'s training rows (sampled like GoEmotions') and dev rows."""
    from raysweep.data.tokenized import tokenize
    from raysweep.models.encoder import load_tokenizer
    from raysweep.train.data import prepare_training_data
    from raysweep.train.objectives.mtl import MTLTrainingData

    base = prepare_training_data(cfg)
    tokenizer = load_tokenizer(cfg.model.name)
    max_len = cfg.data.max_length
    train = task.train.sample(cfg.data.train_limit, seed=cfg.train.seed)
    dev = task.dev.sample(cfg.data.dev_limit, seed=0) if task.dev is not None else None
    fields = {f.name: getattr(base, f.name) for f in dataclasses.fields(base)}
    return MTLTrainingData(
        **fields,
        task_tokens=tokenize(tokenizer, train.texts, max_len, train.fingerprint()),
        task_labels=train.labels,
        task_dev_tokens=None if dev is None else tokenize(tokenizer, dev.texts, max_len, dev.fingerprint()),
        task_dev_labels=None if dev is None else dev.labels,
        task_label_names=tuple(task.label_names),
        task_weight=task_weight,
    )


def mtl(
    cfg: RetrofitConfig,
    task: Task,
    out: str | Path,
    storage: str | Path,
    name: str | None = None,
    task_weight: float = 1.0,
) -> Path:
    """Train emotion + ``task`` jointly from ``cfg``'s model; the exported model folder."""
    from raysweep.export import export_checkpoint
    from raysweep.train.cluster import connect
    from raysweep.train.data import share
    from raysweep.train.launch import fit
    from raysweep.train.objectives.mtl import MTLObjective

    cfg = cfg.replace(loss={"objective": MTLObjective.name})
    name = name or f"mtl-{task.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    connect()
    t0 = time.perf_counter()
    result = fit(cfg, share(mtl_training_data(cfg, task, task_weight)), name, str(storage))
    extra = {"baseline": "mtl", "task": task.name, "task_weight": task_weight, "run": name}
    with result.checkpoint.as_directory() as folder:
        return export_checkpoint(folder, out, extra={**extra, "wall_s": time.perf_counter() - t0})


def run(ctx: RunContext) -> Path:
    """The method record's ``run``: MTL with the task after ``:`` (``mtl:irony``)."""
    if not ctx.arg:
        raise RaysweepError("method mtl needs a task; write mtl:TASK (e.g. mtl:irony) or set study.mtl_task")
    from raysweep.data.tasks import load_task

    return mtl(ctx.cfg, load_task(ctx.arg, ctx.data_dir), ctx.out, ctx.storage, name=ctx.name)
