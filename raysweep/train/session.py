"""Where a training loop runs: what ``train.worker.run_training`` asks of its surroundings.

The loop itself is the same everywhere; a :class:`Session` answers the few questions that differ
between a Ray Train worker (:class:`RaySession`) and this very process (:class:`LocalSession`, used
by ``train.local.train_locally``): which rank it is, on what device, where to resume from, and where
its reports go. Ray is imported inside :class:`RaySession` only, so a local run never starts it.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from raysweep.train.training_data import TrainingData


class Session(ABC):
    """The contract between the training loop and where it runs.

    Attributes, fixed for the run:

    * ``rank``, ``world``: this process's rank and the number of ranks (a rank's batch is its slice
      of a global batch; rank 0 prints, scores the dev split and writes checkpoints);
    * ``device``: the ``torch.device`` the rank trains on;
    * ``saves_checkpoints``: whether rank 0 should write a checkpoint folder at each report (False
      skips the cost of saving when nothing would keep it).

    Methods, called by the loop on every rank:

    * :meth:`get_data` ``(data)``: the ``TrainingData`` itself from what the launcher passed (an
      object-store reference, or the data);
    * :meth:`get_checkpoint` ``()``: a context manager yielding the folder to resume from (a
      checkpoint written by ``models.checkpoint.save_checkpoint``) or None to start afresh; the folder
      is only valid inside the ``with`` block;
    * :meth:`prepare_model` ``(model)``: the model moved to ``device`` and, when ``world > 1``,
      wrapped for data-parallel training (DDP);
    * :meth:`report` ``(metrics, checkpoint_folder)``: one evaluation's metrics (every rank reports,
      each evaluation), with rank 0's checkpoint folder or None. The session copies what it keeps
      before returning: the loop deletes the folder afterwards.
    """

    rank: int
    world: int
    device: torch.device
    saves_checkpoints: bool = True

    @abstractmethod
    def get_data(self, data: Any) -> TrainingData:
        """The prepared data from ``data`` (a ``TrainingData`` or a reference to one)."""

    @abstractmethod
    def get_checkpoint(self) -> contextlib.AbstractContextManager[str | None]:
        """A context manager yielding the checkpoint folder to resume from, or None."""

    @abstractmethod
    def prepare_model(self, model: nn.Module) -> nn.Module:
        """``model`` on ``device``; DDP-wrapped when ``world > 1``."""

    @abstractmethod
    def report(self, metrics: dict[str, Any], checkpoint_folder: str | None = None) -> None:
        """Record one report (and its checkpoint, when given and kept)."""


class RaySession(Session):
    """Inside a ``ray.train.torch.TorchTrainer`` worker: rank, world and device from Ray Train's
    context, resume from ``ray.train.get_checkpoint()``, reports through ``ray.train.report`` (a
    checkpoint registered with ``Checkpoint.from_directory``), DDP through ``prepare_model``."""

    def __init__(self) -> None:
        import ray.train
        import ray.train.torch

        context = ray.train.get_context()
        self.rank = context.get_world_rank()
        self.world = context.get_world_size()
        self.device = ray.train.torch.get_device()

    def get_data(self, data: Any) -> TrainingData:
        if isinstance(data, TrainingData):
            return data
        import ray

        return ray.get(data)  # an ObjectRef to the shared data

    @contextlib.contextmanager
    def get_checkpoint(self) -> Iterator[str | None]:
        import ray.train

        checkpoint = ray.train.get_checkpoint()
        if checkpoint is None:
            yield None
            return
        with checkpoint.as_directory() as folder:
            yield folder

    def prepare_model(self, model: nn.Module) -> nn.Module:
        if self.world > 1:
            import ray.train.torch

            return ray.train.torch.prepare_model(model)
        return model.to(self.device)

    def report(self, metrics: dict[str, Any], checkpoint_folder: str | None = None) -> None:
        import ray.train

        if checkpoint_folder is None:
            ray.train.report(metrics)
        else:
            ray.train.report(metrics, checkpoint=ray.train.Checkpoint.from_directory(checkpoint_folder))


class LocalSession(Session):
    """This process as the only rank (rank 0, world 1), on CPU unless ``device`` is given.

    Resumes from ``resume_from`` (a checkpoint folder) if given. Every report's metrics are kept in
    :attr:`reports`; with ``save_checkpoints=True`` each checkpoint is copied into a folder of
    :attr:`checkpoint_root` (a temporary folder unless given) and its path kept in
    :attr:`checkpoints`; otherwise no checkpoint is written at all.
    """

    def __init__(
        self,
        device: str | torch.device = "cpu",
        resume_from: str | None = None,
        save_checkpoints: bool = False,
        checkpoint_root: str | None = None,
    ) -> None:
        self.rank = 0
        self.world = 1
        self.device = torch.device(device)
        self.resume_from = resume_from
        self.saves_checkpoints = save_checkpoints
        self.checkpoint_root = checkpoint_root
        self.reports: list[dict[str, Any]] = []
        self.checkpoints: list[str] = []

    def get_data(self, data: Any) -> TrainingData:
        return data

    @contextlib.contextmanager
    def get_checkpoint(self) -> Iterator[str | None]:
        yield self.resume_from

    def prepare_model(self, model: nn.Module) -> nn.Module:
        return model.to(self.device)

    def report(self, metrics: dict[str, Any], checkpoint_folder: str | None = None) -> None:
        self.reports.append(dict(metrics))
        if checkpoint_folder is not None and self.saves_checkpoints:
            if self.checkpoint_root is None:
                self.checkpoint_root = tempfile.mkdtemp(prefix="raysweep-local-")
            target = f"{self.checkpoint_root}/checkpoint_{len(self.checkpoints):06d}"
            shutil.copytree(checkpoint_folder, target)
            self.checkpoints.append(target)
