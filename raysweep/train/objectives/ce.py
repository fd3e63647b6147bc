"""``ce``: a linear classifier on the pooled embedding with cross-entropy on the training labels (the
TLearn baseline on GoEmotions; the fine-tuning protocol on a downstream task). With
``TrainingData.class_weights`` the cross-entropy is class-weighted (the fine-tuning protocol's inverse
class frequencies on an imbalanced task). Dev metrics: accuracy and macro-F1 of its predictions
(``raysweep.metrics.classification``, the test-time definition)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from raysweep.config import RetrofitConfig
from raysweep.losses.supcon_vsp import LossTerms
from raysweep.metrics.classification import classification_scores
from raysweep.models.embed import autocast
from raysweep.models.retrofit import RetrofitModel
from raysweep.train.objectives.base import Objective, StepContext, gather_rows, shard
from raysweep.train.training_data import TrainingData


class ClassifierObjective(Objective):
    name = "ce"
    card_name = "cross-entropy transfer learning on GoEmotions (TLearn baseline)"
    dev_metrics = ("dev_accuracy", "dev_macro_f1")

    def __init__(self, cfg: RetrofitConfig, data: TrainingData) -> None:
        super().__init__(cfg, data)
        self.labels = torch.from_numpy(np.array(data.train_labels, dtype=np.int64))
        weights = data.class_weights
        self.class_weights = None if weights is None else torch.tensor(np.asarray(weights), dtype=torch.float32)
        if self.class_weights is not None and self.class_weights.shape != (data.num_classes,):
            shape = tuple(self.class_weights.shape)
            raise ValueError(f"class_weights has shape {shape}; expected ({data.num_classes},), one weight per class")

    def build_head(self, hidden: int) -> nn.Module:
        return nn.Linear(hidden, self.data.num_classes)

    def loss(self, model: nn.Module, indices: np.ndarray, ctx: StepContext) -> LossTerms:
        batch = self.data.train_tokens.batch(indices, ctx.device)
        with autocast(ctx.device, ctx.precision):
            _, logits = model(batch["input_ids"], batch["attention_mask"])
        weight = None
        if self.class_weights is not None:
            if self.class_weights.device != ctx.device:  # moved once, not per step
                self.class_weights = self.class_weights.to(ctx.device)
            weight = self.class_weights
        ce = F.cross_entropy(logits.float(), self.labels[indices].to(ctx.device), weight=weight)
        return LossTerms(total=ce, parts={"loss": ce.detach(), "ce": ce.detach()})

    @torch.inference_mode()
    def evaluate(self, model: RetrofitModel, ctx: StepContext) -> dict[str, float]:
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
        scores = classification_scores(self.data.dev_labels, full, self.data.num_classes)
        return {"dev_accuracy": scores["accuracy"], "dev_macro_f1": scores["macro_f1"], **drift}
