"""What a training run optimises and how it is scored on dev, one class per objective.

The worker loop (``train/worker.py``) is the same for all: it asks the objective for the head to put
on the pooled encoder, for each step's loss on the rank's batch indices, and for dev metrics at each
evaluation. New objectives register in ``OBJECTIVES``.

* ``supcon``: the method. Projection head, SupCon(τ) over the global batch + λ·VSP against the frozen
  original (precomputed targets looked up by index, or recomputed per batch).
* ``ce``: a linear classifier on the pooled embedding with cross-entropy on the training labels
  (the TLearn baseline on GoEmotions; the fine-tuning protocol on a downstream task).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from raysweep.config import RetrofitConfig
from raysweep.evaluation.drift import cosine_drift
from raysweep.evaluation.embed import autocast, embed_tokens
from raysweep.evaluation.emotion import clustering_metrics, retrieval_metrics
from raysweep.losses.supcon_vsp import LossTerms, SupConVSPLoss
from raysweep.models.heads import build_head
from raysweep.models.retrofit import RetrofitModel, frozen_copy
from raysweep.train.data import TrainingData


@dataclass
class StepContext:
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
    return np.arange(rank, n, world)


class Objective(ABC):
    def __init__(self, cfg: RetrofitConfig, data: TrainingData) -> None:
        self.cfg = cfg
        self.data = data

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
        rows = shard(len(self.data.dev_tokens), ctx.rank, ctx.world)
        local = embed_tokens(model.encoder, self.data.dev_tokens, rows, device=ctx.device, precision=ctx.precision)
        return gather_rows(len(self.data.dev_tokens), ctx.rank, ctx.world, local)

    def drift(self, model: RetrofitModel, ctx: StepContext) -> dict[str, float]:
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


class SupConObjective(Objective):
    def __init__(self, cfg: RetrofitConfig, data: TrainingData) -> None:
        super().__init__(cfg, data)
        self.loss_fn: SupConVSPLoss | None = None
        self.frozen: nn.Module | None = None
        self.labels = torch.from_numpy(np.array(data.train_labels, dtype=np.int64))
        self.targets = torch.from_numpy(np.array(data.frozen_train)) if data.frozen_train is not None else None

    def build_head(self, hidden: int) -> nn.Module:
        return build_head(self.cfg.model.head, hidden, self.cfg.model.proj_dim)

    def setup(self, model: RetrofitModel, ctx: StepContext) -> None:
        self.loss_fn = SupConVSPLoss(self.cfg.loss.tau, self.cfg.loss.lam, distributed=ctx.world > 1)
        if self.cfg.loss.lam > 0 and (self.cfg.loss.vsp_targets == "recompute" or self.targets is None):
            self.frozen = frozen_copy(model.encoder).to(ctx.device)

    def loss(self, model: nn.Module, indices: np.ndarray, ctx: StepContext) -> LossTerms:
        assert self.loss_fn is not None, "setup() first"
        batch = self.data.train_tokens.batch(indices, ctx.device)
        with autocast(ctx.device, ctx.precision):
            emb, proj = model(batch["input_ids"], batch["attention_mask"])
        targets = None
        if self.cfg.loss.lam > 0:
            if self.frozen is not None:
                with torch.no_grad(), autocast(ctx.device, ctx.precision):
                    targets = self.frozen(batch["input_ids"], batch["attention_mask"])
            else:
                assert self.targets is not None
                targets = self.targets[indices].to(ctx.device, non_blocking=True)
        return self.loss_fn(emb, proj, self.labels[indices].to(ctx.device), targets)

    def evaluate(self, model: RetrofitModel, ctx: StepContext) -> dict[str, float]:
        full = self.encoder_dev_embeddings(model, ctx)
        drift = self.drift(model, ctx)
        if full is None:
            return {}
        labels = self.data.dev_labels
        metrics = {f"dev_{k}": v for k, v in retrieval_metrics(full, labels).items()}
        metrics.update({f"dev_{k}": v for k, v in clustering_metrics(full, labels, ctx.seed).items()})
        return {**metrics, **drift}


class ClassifierObjective(Objective):
    def __init__(self, cfg: RetrofitConfig, data: TrainingData) -> None:
        super().__init__(cfg, data)
        self.labels = torch.from_numpy(np.array(data.train_labels, dtype=np.int64))

    def build_head(self, hidden: int) -> nn.Module:
        return nn.Linear(hidden, self.data.num_classes)

    def loss(self, model: nn.Module, indices: np.ndarray, ctx: StepContext) -> LossTerms:
        batch = self.data.train_tokens.batch(indices, ctx.device)
        with autocast(ctx.device, ctx.precision):
            _, logits = model(batch["input_ids"], batch["attention_mask"])
        ce = F.cross_entropy(logits.float(), self.labels[indices].to(ctx.device))
        return LossTerms(total=ce, parts={"loss": ce.detach(), "ce": ce.detach()})

    @torch.inference_mode()
    def evaluate(self, model: RetrofitModel, ctx: StepContext) -> dict[str, float]:
        from sklearn.metrics import accuracy_score, f1_score

        was = model.training
        model.eval()
        n = len(self.data.dev_tokens)
        rows = shard(n, ctx.rank, ctx.world)
        preds = np.empty(len(rows), dtype=np.int64)
        for start in range(0, len(rows), 128):
            chunk = rows[start : start + 128]
            batch = self.data.dev_tokens.batch(chunk, ctx.device)
            with autocast(ctx.device, ctx.precision):
                _, logits = model(batch["input_ids"], batch["attention_mask"])
            preds[start : start + len(chunk)] = logits.argmax(-1).cpu().numpy()
        model.train(was)
        full = gather_rows(n, ctx.rank, ctx.world, preds)
        drift = self.drift(model, ctx)
        if full is None:
            return {}
        y = self.data.dev_labels
        return {
            "dev_accuracy": float(accuracy_score(y, full)),
            "dev_macro_f1": float(f1_score(y, full, average="macro")),
            **drift,
        }


OBJECTIVES: dict[str, type[Objective]] = {"supcon": SupConObjective, "ce": ClassifierObjective}
OBJECTIVES["mtl"] = lambda c, d: __import__("raysweep.train.mtl_objective").train.mtl_objective.MTLObjective(c, d)


def build_objective(cfg: RetrofitConfig, data: TrainingData) -> Objective:
    return OBJECTIVES[cfg.loss.objective](cfg, data)
