"""``supcon``: the method. Projection head, SupCon(τ) over the global batch + λ·VSP against the frozen
original encoder (precomputed targets looked up by index, or recomputed per batch). Dev metrics:
retrieval (MRR, P@1, MAP@R) and clustering (AMI, ARI, FMS) of the encoder's dev embeddings."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from raysweep.config import RetrofitConfig
from raysweep.losses.supcon_vsp import LossTerms, SupConVSPLoss
from raysweep.metrics.clustering import clustering_metrics
from raysweep.metrics.retrieval import retrieval_metrics
from raysweep.models.embed import autocast
from raysweep.models.heads import build_head
from raysweep.models.retrofit import RetrofitModel, frozen_copy
from raysweep.train.objectives.base import Objective, StepContext
from raysweep.train.training_data import TrainingData


class SupConObjective(Objective):
    name = "supcon"
    card_name = "SupCon + vector-space preservation (BERTEmo/RoBERTaEmo, arXiv 2310.18930)"
    dev_metrics = ("dev_mrr", "dev_p_at_1", "dev_map_at_r", "dev_ami", "dev_ari", "dev_fms")
    uses_sampler_for_contrast = True

    @classmethod
    def needs_frozen_targets(cls, cfg: RetrofitConfig) -> bool:
        return cfg.loss.lam > 0 and cfg.loss.vsp_targets == "precomputed"

    def __init__(self, cfg: RetrofitConfig, data: TrainingData) -> None:
        super().__init__(cfg, data)
        self.loss_fn: SupConVSPLoss | None = None
        self.frozen: nn.Module | None = None
        self.labels = torch.from_numpy(np.array(data.train_labels, dtype=np.int64))
        self.targets = torch.from_numpy(np.array(data.frozen_train)) if data.frozen_train is not None else None

    def build_head(self, hidden: int) -> nn.Module:
        return build_head(self.cfg.model.head, hidden, self.cfg.model.proj_dim)

    def setup(self, model: RetrofitModel, ctx: StepContext) -> None:
        loss = self.cfg.loss
        self.loss_fn = SupConVSPLoss(loss.tau, loss.lam, distributed=ctx.world > 1, normalize=loss.vsp_normalize)
        # VSP's embedding without dropout, like its targets (LossConfig.vsp_dropout); the same for λ = 0, so
        # SCL differs from Emo by the preservation term only
        model.encoder_dropout = loss.vsp_dropout != "off"
        model.clean_embedding = loss.vsp_dropout == "pass" and loss.lam > 0
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
