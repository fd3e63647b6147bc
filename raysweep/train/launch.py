"""The one way to launch a training run: build a ``TorchTrainer`` and fit it.

The CLI, a Tune trial and a baseline differ only in the config, the run name and the callbacks
they pass. The run's storage is ``storage_path/name``: launching again with the same name resumes
from its last checkpoint (that is how a restarted trial continues).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from raysweep.config import RetrofitConfig
from raysweep.errors import RaysweepError
from raysweep.train.entry import train_loop_per_worker


def absolute_storage(storage: str | os.PathLike[str]) -> str:
    """Ray needs an absolute path or a URI (s3://, gs://, ...)."""
    text = str(storage)
    if "://" in text:
        return text
    return str(Path(text).expanduser().resolve())


def build_trainer(
    cfg: RetrofitConfig,
    data: Any,
    name: str,
    storage_path: str,
    callbacks: list[Any] | None = None,
    loop=train_loop_per_worker,
    extra_loop_config: dict[str, Any] | None = None,
    checkpoint_score: str | None = None,
):
    """A ``TorchTrainer`` for ``cfg``; ``data`` is a ``TrainingData`` or an ObjectRef to one.

    Ray keeps the last two checkpoints; with ``checkpoint_score`` (a reported metric, higher is
    better) it keeps the best one by that metric (a tie: the later) and the last one (what a
    restarted worker group resumes from); ``Result.best_checkpoints`` lists them."""
    from ray.train import CheckpointConfig, FailureConfig, RunConfig, ScalingConfig
    from ray.train.torch import TorchConfig, TorchTrainer

    use_gpu = cfg.train.gpus_per_worker > 0
    resources = {"CPU": cfg.train.cpus_per_worker}
    if use_gpu:
        resources["GPU"] = cfg.train.gpus_per_worker
    return TorchTrainer(
        loop,
        # launched_at: the run's clock starts here (its start-up is measured from the trainer's creation)
        train_loop_config={
            "config": cfg.to_dict(),
            "data": data,
            "launched_at": time.time(),
            **(extra_loop_config or {}),
        },
        torch_config=TorchConfig(backend="nccl" if use_gpu else "gloo"),
        scaling_config=ScalingConfig(
            num_workers=cfg.train.num_workers, use_gpu=use_gpu, resources_per_worker=resources
        ),
        run_config=RunConfig(
            name=name,
            storage_path=absolute_storage(storage_path),
            failure_config=FailureConfig(max_failures=cfg.train.max_failures, controller_failure_limit=3),
            checkpoint_config=(
                CheckpointConfig(num_to_keep=2)
                if checkpoint_score is None
                else CheckpointConfig(
                    num_to_keep=1, checkpoint_score_attribute=checkpoint_score, checkpoint_score_order="max"
                )
            ),
            callbacks=callbacks,
        ),
    )


def run_trainer(trainer: Any) -> Any:
    """``trainer.fit()``, then the SIGINT handler it left behind put back as it was.

    Called on the main thread, Train V2's ``fit`` registers a SIGINT handler whose closure holds the
    run's TrainController actor and never unregisters it, so the finished controller stays alive
    until the *next* ``fit`` replaces the handler, and is destroyed while that run's controller is
    starting. Seen here (Ray 2.60): that second run's ``controller.run`` never started and its
    ``fit`` waited forever (the hang of tests/train/test_worker.py in CI). Restoring the handler
    frees the finished controller at once, between runs. Inside a Tune trial (not the main thread)
    Ray registers no handler and this is a plain ``fit``."""
    if threading.current_thread() is not threading.main_thread():
        return trainer.fit()
    previous: Callable[..., Any] | int | None = signal.getsignal(signal.SIGINT)
    try:
        return trainer.fit()
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)


def fit(cfg: RetrofitConfig, data: Any, name: str, storage_path: str, **kwargs: Any):
    """Run to completion and return Ray's ``Result`` (metrics, last checkpoint, error)."""
    result = run_trainer(build_trainer(cfg, data, name, storage_path, **kwargs))
    if result.error is not None:
        raise RaysweepError(f"training run {name} failed: {result.error}") from result.error
    return result
