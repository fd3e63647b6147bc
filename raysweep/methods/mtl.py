"""``mtl:TASK``: emotion and TASK's cross-entropy trained jointly (:func:`raysweep.baselines.mtl.mtl`)."""

from __future__ import annotations

from pathlib import Path

from raysweep.baselines.mtl import mtl
from raysweep.data.tasks import load_task
from raysweep.errors import RaysweepError
from raysweep.methods.method import RunContext


def run(ctx: RunContext) -> Path:
    if not ctx.arg:
        raise RaysweepError("method mtl needs a task; write mtl:TASK (e.g. mtl:irony) or set study.mtl_task")
    return mtl(ctx.cfg, load_task(ctx.arg, ctx.data_dir), ctx.out, ctx.storage, name=ctx.name)
