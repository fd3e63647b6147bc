"""Downstream protocols on a task: linear probe, few-shot probe, and end-to-end fine-tuning.

* ``linear_probe``: logistic regression (scikit-learn) on frozen, standardised embeddings of the
  train split, scored on the test split: macro-F1, accuracy, and the positive class's F1 for binary
  tasks (``raysweep.metrics.classification``, the definition the dev metrics use too).
* ``few_shot``: the same probe trained on k examples per class (k in 8, 16, 32, 64) drawn by
  ``few_shot_indices`` (stratified, seeded, reproducible), 5 seeds each: mean ± std.
* ``finetune``: encoder + linear classifier trained end to end with cross-entropy (objective
  ``ce``) as Ray Train workers through ``train.launch.fit``, then the test split scored with the
  fine-tuned encoder and classifier of the last checkpoint (``load_classifier``).

Every function returns a plain dict of floats (and lists of floats).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from raysweep.config import RetrofitConfig
from raysweep.data.goemotions import LabeledTexts
from raysweep.data.tasks import Task
from raysweep.data.tokenized import tokenize
from raysweep.metrics.classification import classification_scores
from raysweep.models.checkpoint import WEIGHTS, load_config, load_weights
from raysweep.models.embed import embed_tokens
from raysweep.models.encoder import load_tokenizer
from raysweep.models.retrofit import RetrofitModel
from raysweep.train.data import prepare_training_data
from raysweep.train.objectives.ce import ClassifierObjective
from raysweep.train.training_data import TrainingData

FEW_SHOT_K = (8, 16, 32, 64)
FEW_SHOT_SEEDS = 5


def linear_probe(
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    test_y: np.ndarray,
    num_classes: int,
    seed: int = 0,
) -> dict[str, float]:
    """Logistic regression on standardised frozen embeddings, scored on the test split."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=seed))
    probe.fit(train_x, train_y)
    return classification_scores(test_y, probe.predict(test_x), num_classes)


def few_shot_indices(labels: np.ndarray, k: int, seed: int) -> np.ndarray:
    """k rows of every class (all of a class with fewer), drawn with ``seed``; sorted row indices."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    picks = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        picks.append(rng.choice(members, size=min(k, len(members)), replace=False))
    return np.sort(np.concatenate(picks))


def few_shot(
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    test_y: np.ndarray,
    num_classes: int,
    ks: tuple[int, ...] = FEW_SHOT_K,
    seeds: int = FEW_SHOT_SEEDS,
    seed: int = 0,
) -> dict[str, dict[str, float | list[float]]]:
    """``{"k8": {"macro_f1_mean", "macro_f1_std", "macro_f1" (per seed), ...}, ...}``."""
    out: dict[str, dict[str, float | list[float]]] = {}
    for k in ks:
        runs = []
        for s in range(seeds):
            rows = few_shot_indices(train_y, k, seed * 1000 + s)
            runs.append(linear_probe(train_x[rows], train_y[rows], test_x, test_y, num_classes, seed=s))
        summary: dict[str, float | list[float]] = {}
        for metric in runs[0]:
            values = [r[metric] for r in runs]
            summary[f"{metric}_mean"] = float(np.mean(values))
            summary[f"{metric}_std"] = float(np.std(values))
            summary[metric] = values
        out[f"k{k}"] = summary
    return out


# ---------------------------------------------------------------- fine-tuning


def task_training_data(cfg: RetrofitConfig, train: LabeledTexts, dev: LabeledTexts) -> TrainingData:
    """Training data for a classifier on a task's own splits (tokenised once, cached)."""
    return prepare_training_data(cfg, train_set=train, dev_set=dev)


def load_classifier(checkpoint_dir: str | Path) -> tuple[RetrofitModel, RetrofitConfig]:
    """Encoder + linear classifier of a ``ce`` checkpoint (the head's shape read from its weights)."""
    from safetensors import safe_open

    cfg = RetrofitConfig.from_dict(load_config(checkpoint_dir))
    with safe_open(str(Path(checkpoint_dir) / WEIGHTS), framework="pt") as weights:
        num_classes, hidden = weights.get_slice("head.weight").get_shape()
    model = RetrofitModel.from_config(cfg.model, head=lambda h: nn.Linear(h, num_classes))
    load_weights(checkpoint_dir, model)
    return model.eval(), cfg


@torch.inference_mode()
def predict(model: RetrofitModel, texts: list[str], max_length: int, tokenizer) -> np.ndarray:
    """Class predictions of an encoder + classifier for ``texts``."""
    tokens = tokenize(tokenizer, texts, max_length)
    emb = embed_tokens(model.encoder, tokens)
    return model.head(torch.from_numpy(emb)).argmax(-1).numpy()


def finetune(
    model: str,
    task: Task,
    storage: str | Path,
    name: str,
    pooling: str = "cls",
    epochs: int = 3,
    max_steps: int | None = None,
    lr: float = 2e-5,
    head_lr: float | None = None,
    batch_size: int = 32,
    num_workers: int = 1,
    cpus_per_worker: float = 1.0,
    max_length: int = 128,
    train_limit: int | None = None,
    seed: int = 0,
) -> dict[str, float]:
    """Fine-tune ``model`` with a classification head on ``task.train`` (Ray Train); test-split scores."""
    from raysweep.train.data import share
    from raysweep.train.launch import fit

    cfg = RetrofitConfig.from_dict(
        {
            "data": {"max_length": max_length},
            "model": {"name": model, "pooling": pooling},
            "loss": {"objective": ClassifierObjective.name},
            "sampler": {"kind": "stratified", "batch_size": batch_size},
            "train": {
                "epochs": epochs,
                "max_steps": max_steps,
                "lr": lr,
                "head_lr": head_lr,
                "seed": seed,
                "num_workers": num_workers,
                "cpus_per_worker": cpus_per_worker,
                "max_failures": 0,
            },
        }
    )
    train = task.train.sample(train_limit, seed=seed)
    dev = task.dev if task.dev is not None else train.sample(min(500, len(train) // 5), seed=seed + 1)
    result = fit(cfg, share(task_training_data(cfg, train, dev)), name, str(storage))
    with result.checkpoint.as_directory() as folder:
        classifier, _ = load_classifier(folder)
    preds = predict(classifier, task.test.texts, max_length, load_tokenizer(model))
    scores = classification_scores(task.test.labels, preds, task.num_classes)
    steps = float(result.metrics.get("step", 0))
    return {**scores, "steps": steps, "train_rows": float(len(train))}
