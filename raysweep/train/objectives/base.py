"""The contract every objective implements (:class:`Objective`), and what the worker hands it.

The worker loop (``train/worker.py``) is the same for all objectives: it asks the objective for the
head to put on the pooled encoder, for each step's loss on the rank's batch indices, and for dev
metrics at each evaluation. Objective modules import this one only (never each other); the
registry in ``train/objectives/__init__.py`` names them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from raysweep.config import RetrofitConfig
from raysweep.losses.supcon_vsp import LossTerms
from raysweep.metrics.drift import cosine_drift
from raysweep.models.embed import embed_tokens
from raysweep.models.retrofit import RetrofitModel
from raysweep.train.training_data import TrainingData


@dataclass
class StepContext:
    """Where and how this rank runs: its device, numeric precision (``fp32``/``bf16``), rank and
    world size, and the run's seed."""

    device: torch.device
    precision: str
    rank: int
    world: int
    seed: int


def gather_rows(n: int, rank: int, world: int, local: np.ndarray) -> np.ndarray | None:
    """Rank r holds rows r, r+W, r+2W, ... of an (n, d) array; rank 0 gets the whole array back."""
    parts: list[Any] = [local]
    if world > 1:
        parts = [None] * world
        dist.all_gather_object(parts, local)
    if rank != 0:
        return None
    full = np.empty((n, *local.shape[1:]), dtype=local.dtype)
    for r, part in enumerate(parts):
        full[np.arange(r, n, world)] = part
    return full


def shard(n: int, rank: int, world: int) -> np.ndarray:
    """This rank's rows of an n-row split: rank, rank + world, rank + 2 world, ..."""
    return np.arange(rank, n, world)


class Objective(ABC):
    """What a training run optimises and how it is scored on dev. An implementation provides:

    Class attributes (read by the registry, preflight, data preparation and the export, before any
    instance exists):

    * ``name``: the registry key, the value of ``loss.objective``;
    * ``card_name``: what the exported model card says the model was trained with;
    * ``dev_metrics``: the keys :meth:`evaluate` always returns on rank 0 (``dev_delta_emb`` is
      added when the data carries drift texts);
    * ``uses_sampler_for_contrast``: True when the batches must hold positives for every anchor, so
      preflight builds the sampler on the training labels before anything starts;
    * ``data_type``: the :class:`TrainingData` class the objective reads (a subclass when it needs
      more rows than GoEmotions', like ``mtl``);
    * :meth:`needs_frozen_targets` (a classmethod of the config): whether the data preparation
      precomputes the frozen encoder's embeddings of the training rows (``data.frozen_train``).

    Methods, called by the worker on every rank, in this order:

    * ``__init__(cfg, data)``: cheap, no model yet;
    * :meth:`build_head` ``(hidden) -> nn.Module``: the trainable module on the pooled embedding
      (``RetrofitModel.forward`` returns ``(embedding, head(embedding))``), built after the same
      seed on every rank so all ranks start from the same head;
    * :meth:`setup` ``(model, ctx)``: once, with the freshly loaded model, before a checkpoint is
      loaded into it and before DDP wraps it (e.g. to copy the frozen original);
    * :meth:`loss` ``(model, indices, ctx) -> LossTerms`` every step: ``indices`` are this rank's
      rows of ``data.train_tokens``; ``model`` may be DDP-wrapped, so call it (one forward per
      backward) rather than reach inside. ``total`` is the scalar to backpropagate; ``parts`` must
      hold ``"loss"`` (the divergence check and ``train_loss``) and every value is a detached 0-d
      tensor left on ``ctx.device``: never ``.item()`` or ``float()`` per step (a host sync that
      stalls a GPU); the worker sums them on the device and reads them when it logs or reports;
    * :meth:`evaluate` ``(model, ctx) -> dict[str, float]`` at each evaluation, with the unwrapped
      model: over the whole dev split, every rank taking part (each embeds its :func:`shard`,
      :func:`gather_rows` collects them, so no rank may skip it); rank 0 returns the metrics as
      Python floats named ``dev_*`` and the other ranks ``{}``; the model's train/eval mode is left
      as it was found.
    """

    name: ClassVar[str]
    card_name: ClassVar[str]
    dev_metrics: ClassVar[tuple[str, ...]]
    uses_sampler_for_contrast: ClassVar[bool] = False
    data_type: ClassVar[type[TrainingData]] = TrainingData

    def __init__(self, cfg: RetrofitConfig, data: TrainingData) -> None:
        self.cfg = cfg
        self.data = data

    @classmethod
    def needs_frozen_targets(cls, cfg: RetrofitConfig) -> bool:
        """Whether ``cfg``'s run reads precomputed frozen-encoder embeddings of the training rows."""
        return False

    @abstractmethod
    def build_head(self, hidden: int) -> nn.Module:
        """The trainable module(s) on top of the pooled encoder."""

    def setup(self, model: RetrofitModel, ctx: StepContext) -> None:
        """Called once with the freshly loaded (not yet resumed) model, before DDP wrapping."""
        return None

    @abstractmethod
    def loss(self, model: nn.Module, indices: np.ndarray, ctx: StepContext) -> LossTerms:
        """Loss on this rank's batch; ``model`` may be DDP-wrapped (call it, don't reach inside)."""

    @abstractmethod
    def evaluate(self, model: RetrofitModel, ctx: StepContext) -> dict[str, float]:
        """Dev metrics over the whole dev split: every rank takes part, rank 0 returns them."""

    def encoder_dev_embeddings(self, model: RetrofitModel, ctx: StepContext) -> np.ndarray | None:
        """The encoder's embeddings of the whole dev split on rank 0 (None elsewhere)."""
        rows = shard(len(self.data.dev_tokens), ctx.rank, ctx.world)
        local = embed_tokens(model.encoder, self.data.dev_tokens, rows, device=ctx.device, precision=ctx.precision)
        return gather_rows(len(self.data.dev_tokens), ctx.rank, ctx.world, local)

    def drift(self, model: RetrofitModel, ctx: StepContext) -> dict[str, float]:
        """``dev_delta_emb`` on the data's drift texts (rank 0), or ``{}`` without them."""
        if self.data.drift_tokens is None or self.data.frozen_drift is None:
            return {}
        n = len(self.data.drift_tokens)
        local = embed_tokens(
            model.encoder,
            self.data.drift_tokens,
            shard(n, ctx.rank, ctx.world),
            device=ctx.device,
            precision=ctx.precision,
        )
        full = gather_rows(n, ctx.rank, ctx.world, local)
        return {} if full is None else {"dev_delta_emb": cosine_drift(self.data.frozen_drift, full)}
