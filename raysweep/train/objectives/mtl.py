"""``mtl``: the multi-task baseline. Emotion cross-entropy and a downstream task's cross-entropy, trained
jointly on one encoder with one linear classifier per task.

Each step takes the sampler's GoEmotions batch and an equally large batch of the downstream task's
training rows (drawn from this rank's shard with a seeded RNG), runs both through the encoder in one
forward pass (so DDP sees one forward per backward) and minimises
``CE(emotion) + task_weight * CE(task)``. The downstream rows travel in ``MTLTrainingData``, a
``TrainingData`` with the task's tokens and labels added. Dev metrics: accuracy and macro-F1
(``raysweep.metrics.classification``, the test-time definition) of each head on its dev split.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from raysweep.config import RetrofitConfig
from raysweep.data.tokenized import TokenizedTexts
from raysweep.losses.supcon_vsp import LossTerms
from raysweep.metrics.classification import classification_scores
from raysweep.models.embed import autocast, embed_tokens
from raysweep.models.retrofit import RetrofitModel
from raysweep.train.objectives.base import Objective, StepContext, gather_rows, shard
from raysweep.train.training_data import TrainingData


@dataclass(frozen=True)
class MTLTrainingData(TrainingData):
    """GoEmotions training data plus the downstream task trained alongside it."""

    task_tokens: TokenizedTexts | None = None
    task_labels: np.ndarray | None = None
    task_dev_tokens: TokenizedTexts | None = None
    task_dev_labels: np.ndarray | None = None
    task_label_names: tuple[str, ...] = ()
    task_weight: float = 1.0


class MultiHead(nn.Module):
    """One linear classifier per task on the pooled embedding: ``forward -> (emotion, task) logits``."""

    def __init__(self, hidden: int, num_emotions: int, num_task_classes: int) -> None:
        super().__init__()
        self.emotion = nn.Linear(hidden, num_emotions)
        self.task = nn.Linear(hidden, num_task_classes)

    def forward(self, emb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.emotion(emb), self.task(emb)


def concat_batches(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor], pad_id: int) -> dict[str, torch.Tensor]:
    """Two tokenised batches as one, right-padded to the wider of the two."""
    width = max(a["input_ids"].shape[1], b["input_ids"].shape[1])

    def widen(t: torch.Tensor, value: int) -> torch.Tensor:
        return F.pad(t, (0, width - t.shape[1]), value=value)

    return {
        "input_ids": torch.cat([widen(a["input_ids"], pad_id), widen(b["input_ids"], pad_id)]),
        "attention_mask": torch.cat([widen(a["attention_mask"], 0), widen(b["attention_mask"], 0)]),
    }


class MTLObjective(Objective):
    name = "mtl"
    card_name = "multi-task cross-entropy on GoEmotions and a downstream task (MTL baseline)"
    dev_metrics = ("dev_emotion_accuracy", "dev_emotion_macro_f1")
    """Plus ``dev_task_accuracy`` and ``dev_task_macro_f1`` when the task has a dev split."""
    data_type = MTLTrainingData

    def __init__(self, cfg: RetrofitConfig, data: TrainingData) -> None:
        if not isinstance(data, MTLTrainingData) or data.task_tokens is None or data.task_labels is None:
            raise TypeError("the mtl objective needs MTLTrainingData with the downstream task's tokens and labels")
        super().__init__(cfg, data)
        self.mtl: MTLTrainingData = data
        self.emotion_labels = torch.from_numpy(np.array(data.train_labels, dtype=np.int64))
        self.task_labels = torch.from_numpy(np.array(data.task_labels, dtype=np.int64))
        self.calls = 0

    def build_head(self, hidden: int) -> nn.Module:
        return MultiHead(hidden, self.data.num_classes, len(self.mtl.task_label_names))

    def task_indices(self, size: int, ctx: StepContext) -> np.ndarray:
        rows = shard(len(self.task_labels), ctx.rank, ctx.world)
        rng = np.random.default_rng((ctx.seed, ctx.rank, self.calls))
        self.calls += 1
        return rng.choice(rows, size=size, replace=len(rows) < size)

    def loss(self, model: nn.Module, indices: np.ndarray, ctx: StepContext) -> LossTerms:
        assert self.mtl.task_tokens is not None
        task_idx = self.task_indices(len(indices), ctx)
        batch = concat_batches(
            self.data.train_tokens.batch(indices, ctx.device),
            self.mtl.task_tokens.batch(task_idx, ctx.device),
            self.mtl.task_tokens.pad_id,
        )
        with autocast(ctx.device, ctx.precision):
            _, (emo_logits, task_logits) = model(batch["input_ids"], batch["attention_mask"])
        n = len(indices)
        ce_emo = F.cross_entropy(emo_logits[:n].float(), self.emotion_labels[indices].to(ctx.device))
        ce_task = F.cross_entropy(task_logits[n:].float(), self.task_labels[task_idx].to(ctx.device))
        total = ce_emo + self.mtl.task_weight * ce_task
        parts = {"loss": total.detach(), "ce_emotion": ce_emo.detach(), "ce_task": ce_task.detach()}
        return LossTerms(total=total, parts=parts)

    @torch.inference_mode()
    def predictions(
        self, model: RetrofitModel, tokens: TokenizedTexts, head: str, ctx: StepContext
    ) -> np.ndarray | None:
        rows = shard(len(tokens), ctx.rank, ctx.world)
        emb = embed_tokens(model.encoder, tokens, rows, device=ctx.device, precision=ctx.precision)
        logits = getattr(model.head, head)(torch.from_numpy(emb).to(ctx.device))
        return gather_rows(len(tokens), ctx.rank, ctx.world, logits.argmax(-1).cpu().numpy())

    def evaluate(self, model: RetrofitModel, ctx: StepContext) -> dict[str, float]:
        was = model.training
        model.eval()
        sets = [("emotion", self.data.dev_tokens, self.data.dev_labels, self.data.num_classes)]
        if self.mtl.task_dev_tokens is not None and self.mtl.task_dev_labels is not None:
            sets.append(("task", self.mtl.task_dev_tokens, self.mtl.task_dev_labels, len(self.mtl.task_label_names)))
        preds = {name: self.predictions(model, tokens, name, ctx) for name, tokens, _, _ in sets}
        model.train(was)
        drift = self.drift(model, ctx)
        if ctx.rank != 0:
            return {}
        metrics: dict[str, float] = {}
        for name, _, labels, num_classes in sets:
            scores = classification_scores(labels, preds[name], num_classes)
            metrics[f"dev_{name}_accuracy"] = scores["accuracy"]
            metrics[f"dev_{name}_macro_f1"] = scores["macro_f1"]
        return {**metrics, **drift}
