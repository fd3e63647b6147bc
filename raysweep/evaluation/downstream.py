"""Downstream protocols on a task: linear probe, few-shot probe, and end-to-end fine-tuning.

* ``linear_probe``: logistic regression (scikit-learn) on frozen, standardised embeddings of the
  train split, scored on the test split: macro-F1, accuracy, and the positive class's F1 for binary
  tasks (``raysweep.metrics.classification``, the definition the dev metrics use too).
* ``few_shot``: the same probe trained on k examples per class (k in 8, 16, 32, 64) drawn by
  ``few_shot_indices`` (stratified, reproducible), 5 draws each: mean ± std. The draws' seeds come
  from the evaluation's ``draw_seed`` (``few_shot_seed``), so every model of a study sees the same ones.
* ``finetune``: encoder + linear classifier trained end to end with cross-entropy (objective ``ce``,
  class-weighted by inverse frequency unless turned off) as Ray Train workers through
  ``train.launch.fit``. The classifier is scored on a dev split after every epoch (the task's own,
  else a stratified hold-out of its training rows, ``finetune_split``), Ray keeps the checkpoint with
  the best dev macro-F1, and the test split is scored with that one (``load_classifier``). With a
  ``patience``, the run stops once that many dev evaluations in a row have not beaten the best one
  (``train.early_stopping``); the figures say whether it did (``stopped_early``).

Every protocol's figures carry ``collapsed``: True when the test predictions hold one class only (a
majority-class predictor's macro-F1 is not a measure of the embedding). The ``*_outputs`` forms
return the figures and the per-example predictions (the suite saves them in ``evaluation.npz``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from raysweep.config import RetrofitConfig
from raysweep.data.goemotions import LabeledTexts
from raysweep.data.tasks import Task, texts_fingerprint
from raysweep.data.tokenized import tokenize
from raysweep.errors import RaysweepError
from raysweep.metrics.classification import classification_scores, collapsed
from raysweep.models.checkpoint import WEIGHTS, load_config, load_weights
from raysweep.models.embed import embed_tokens
from raysweep.models.encoder import load_tokenizer
from raysweep.models.retrofit import RetrofitModel
from raysweep.train.data import prepare_training_data
from raysweep.train.objectives.ce import ClassifierObjective
from raysweep.train.run_clock import COUNTERS
from raysweep.train.training_data import TrainingData

FEW_SHOT_K = (8, 16, 32, 64)
FEW_SHOT_DRAWS = 5
FINETUNE_DEV_ROWS = 500
"""At most this many training rows are held out as the fine-tuning dev split (a task without one)."""
FINETUNE_DEV_SHARE = 0.2
"""... and at most this share of them."""
DEV_SCORE = "dev_macro_f1"
"""The reported dev metric the fine-tuning's best checkpoint is chosen by."""

Outputs = tuple[dict[str, Any], dict[str, np.ndarray]]
"""A protocol's figures (JSON-able) and its per-example arrays."""


def probe_predictions(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, seed: int = 0) -> np.ndarray:
    """Test-split class predictions of logistic regression on standardised frozen embeddings."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=seed))
    probe.fit(train_x, train_y)
    return probe.predict(test_x).astype(np.int64)


def scored(test_y: np.ndarray, pred: np.ndarray, num_classes: int) -> dict[str, Any]:
    """Macro-F1, accuracy (and positive-class F1) of ``pred``, and whether it collapsed onto one class."""
    return {**classification_scores(test_y, pred, num_classes), "collapsed": collapsed(pred)}


def linear_probe_outputs(
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    test_y: np.ndarray,
    num_classes: int,
    draw_seed: int = 0,
) -> Outputs:
    """The probe's figures and its test predictions (``pred``)."""
    pred = probe_predictions(train_x, train_y, test_x, seed=draw_seed)
    return scored(test_y, pred, num_classes), {"pred": pred}


def linear_probe(
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    test_y: np.ndarray,
    num_classes: int,
    seed: int = 0,
) -> dict[str, Any]:
    """Logistic regression on standardised frozen embeddings, scored on the test split."""
    return linear_probe_outputs(train_x, train_y, test_x, test_y, num_classes, seed)[0]


def few_shot_indices(labels: np.ndarray, k: int, seed: int) -> np.ndarray:
    """k rows of every class (all of a class with fewer), drawn with ``seed``; sorted row indices."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    picks = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        picks.append(rng.choice(members, size=min(k, len(members)), replace=False))
    return np.sort(np.concatenate(picks))


def few_shot_seed(draw_seed: int, draw: int) -> int:
    """The seed of few-shot draw ``draw`` (0, 1, ...) of an evaluation drawn with ``draw_seed``."""
    return draw_seed * 1000 + draw


def few_shot_draws(
    labels: np.ndarray, ks: tuple[int, ...] = FEW_SHOT_K, draws: int = FEW_SHOT_DRAWS, draw_seed: int = 0
) -> dict[str, list[np.ndarray]]:
    """``{"k8": [rows of draw 0, rows of draw 1, ...], ...}``: the training rows of every few-shot probe."""
    return {f"k{k}": [few_shot_indices(labels, k, few_shot_seed(draw_seed, d)) for d in range(draws)] for k in ks}


def few_shot_outputs(
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    test_y: np.ndarray,
    num_classes: int,
    ks: tuple[int, ...] = FEW_SHOT_K,
    draws: int = FEW_SHOT_DRAWS,
    draw_seed: int = 0,
) -> Outputs:
    """Per k: the figures over the draws (``macro_f1_mean``, ``macro_f1_std``, ``macro_f1`` per draw,
    ..., ``collapsed`` per draw) and the predictions ``k8/pred`` (draws x test rows)."""
    figures: dict[str, Any] = {}
    arrays: dict[str, np.ndarray] = {}
    for key, picks in few_shot_draws(train_y, ks, draws, draw_seed).items():
        preds = [probe_predictions(train_x[rows], train_y[rows], test_x, seed=d) for d, rows in enumerate(picks)]
        runs = [classification_scores(test_y, p, num_classes) for p in preds]
        summary: dict[str, Any] = {}
        for metric in runs[0]:
            values = [r[metric] for r in runs]
            summary[f"{metric}_mean"] = float(np.mean(values))
            summary[f"{metric}_std"] = float(np.std(values))
            summary[metric] = values
        summary["collapsed"] = [collapsed(p) for p in preds]
        figures[key] = summary
        arrays[f"{key}/pred"] = np.stack(preds)
    return figures, arrays


def few_shot(
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    test_y: np.ndarray,
    num_classes: int,
    ks: tuple[int, ...] = FEW_SHOT_K,
    draws: int = FEW_SHOT_DRAWS,
    draw_seed: int = 0,
) -> dict[str, dict[str, Any]]:
    """``{"k8": {"macro_f1_mean", "macro_f1_std", "macro_f1" (per draw), ..., "collapsed"}, ...}``."""
    return few_shot_outputs(train_x, train_y, test_x, test_y, num_classes, ks, draws, draw_seed)[0]


# ---------------------------------------------------------------- fine-tuning


def hold_out(rows: LabeledTexts, n: int, seed: int) -> tuple[LabeledTexts, LabeledTexts]:
    """``rows`` split into (the rest, ``n`` held-out rows): stratified by label and seeded, a plain
    seeded split when a class is too small to stratify; both in their original order."""
    from sklearn.model_selection import train_test_split

    indices = np.arange(len(rows))
    try:
        rest, held = train_test_split(indices, test_size=n, stratify=rows.labels, random_state=seed)
    except ValueError:
        rest, held = train_test_split(indices, test_size=n, random_state=seed)
    return rows.subset(np.sort(rest)), rows.subset(np.sort(held), name=f"{rows.name}:dev")


def finetune_split(task: Task, train_limit: int | None = None, draw_seed: int = 0) -> tuple[LabeledTexts, LabeledTexts]:
    """The fine-tuning's (training rows, dev rows): the task's dev split when it has one, else
    min(500, 20 %) of its training rows held out (stratified, with ``draw_seed``) and never trained on;
    the remaining training rows capped at ``train_limit`` (stratified, with ``draw_seed``)."""
    if task.dev is not None:
        train, dev = task.train, task.dev
    else:
        n = min(FINETUNE_DEV_ROWS, int(len(task.train) * FINETUNE_DEV_SHARE))
        if n < 1 or n >= len(task.train):
            raise RaysweepError(
                f"task {task.name}: {len(task.train)} training rows are too few to hold out a dev split for "
                "fine-tuning; give it more rows or a dev split"
            )
        train, dev = hold_out(task.train, n, draw_seed)
    return train.sample(train_limit, seed=draw_seed), dev


def inverse_frequency(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Balanced class weights n / (C * n_c) (scikit-learn's ``class_weight="balanced"``); a class absent
    from ``labels`` gets 0 (it has no rows to weigh)."""
    counts = np.bincount(np.asarray(labels), minlength=num_classes).astype(np.float64)
    weights = np.divide(len(labels), num_classes * counts, out=np.zeros(num_classes), where=counts > 0)
    return weights.astype(np.float32)


def task_training_data(
    cfg: RetrofitConfig, train: LabeledTexts, dev: LabeledTexts, class_weighted: bool = False
) -> TrainingData:
    """Training data for a classifier on a task's own splits (tokenised once, cached), with
    inverse-frequency class weights when ``class_weighted``."""
    data = prepare_training_data(cfg, train_set=train, dev_set=dev)
    if not class_weighted:
        return data
    return dataclasses.replace(data, class_weights=inverse_frequency(train.labels, len(train.label_names)))


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
def predict(model: RetrofitModel, texts: list[str], max_length: int, tokenizer, precision: str = "fp32") -> np.ndarray:
    """Class predictions of an encoder + classifier for ``texts`` (embedded in ``precision``)."""
    tokens = tokenize(tokenizer, texts, max_length)
    emb = embed_tokens(model.encoder, tokens, precision=precision)
    return model.head(torch.from_numpy(emb)).argmax(-1).numpy().astype(np.int64)


HISTORY_KEYS = ("step", "epoch", DEV_SCORE, "dev_accuracy", "train_loss")


def best_evaluation(result: Any) -> tuple[Any, dict[str, Any], list[dict[str, float]]]:
    """(checkpoint, its metrics, the history of dev evaluations) of a fine-tuning run: the kept
    checkpoint with the best dev macro-F1 (a tie: the later step, as Ray keeps it)."""
    kept = [(c, m) for c, m in (result.best_checkpoints or []) if isinstance(m.get(DEV_SCORE), (int, float))]
    if not kept:
        raise RaysweepError("fine-tuning reported no dev evaluation with a checkpoint (it diverged before one)")
    checkpoint, metrics = max(kept, key=lambda cm: (cm[1][DEV_SCORE], cm[1].get("step", 0)))
    reports = result.return_value if isinstance(result.return_value, list) else [m for _, m in kept]
    history = [
        {k: float(r[k]) for k in HISTORY_KEYS if isinstance(r.get(k), (int, float))} for r in reports if DEV_SCORE in r
    ]
    return checkpoint, metrics, history


def finetune_outputs(
    model: str,
    task: Task,
    storage: str | Path,
    name: str,
    pooling: str = "cls",
    epochs: int = 3,
    max_steps: int | None = None,
    eval_every: int | None = None,
    lr: float = 2e-5,
    head_lr: float | None = None,
    batch_size: int = 32,
    num_workers: int = 1,
    cpus_per_worker: float = 1.0,
    max_length: int = 128,
    train_limit: int | None = None,
    class_weights: bool = True,
    patience: int | None = None,
    precision: str = "fp32",
    draw_seed: int = 0,
    seed: int = 0,
) -> Outputs:
    """Fine-tune ``model`` with a classification head on ``task`` (Ray Train): the test-split figures of
    the best dev checkpoint (with ``best_step``, ``dev_macro_f1`` and the ``history`` of dev
    evaluations) and its test predictions (``pred``). ``draw_seed`` fixes the rows (the train/dev split
    and the ``train_limit`` sample), ``seed`` the training (head initialisation, batch order, dropout).
    ``patience`` (dev evaluations without a better dev macro-F1) stops the run early; None runs it out.
    ``precision`` (``fp32`` or ``bf16``) is the test split's embedding, as the rest of the suite's."""
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
                "eval_every": eval_every,
                "lr": lr,
                "head_lr": head_lr,
                "seed": seed,
                "num_workers": num_workers,
                "cpus_per_worker": cpus_per_worker,
                "max_failures": 0,
            },
        }
    )
    train, dev = finetune_split(task, train_limit, draw_seed)
    data = task_training_data(cfg, train, dev, class_weighted=class_weights)
    early_stop = None if patience is None else {"early_stop": {"metric": DEV_SCORE, "patience": patience}}
    result = fit(cfg, share(data), name, str(storage), checkpoint_score=DEV_SCORE, extra_loop_config=early_stop)
    checkpoint, best, history = best_evaluation(result)
    with checkpoint.as_directory() as folder:
        classifier, _ = load_classifier(folder)
    pred = predict(classifier, task.test.texts, max_length, load_tokenizer(model), precision)
    last = result.metrics or {}
    figures = {
        **scored(task.test.labels, pred, task.num_classes),
        "steps": float(last.get("step", best.get("step", 0))),
        "best_step": float(best.get("step", 0)),
        "best_epoch": float(best.get("epoch", 0)),
        DEV_SCORE: float(best[DEV_SCORE]),
        "history": history,
        "diverged": bool(last.get("diverged", 0.0)),
        "stopped_early": bool(last.get("stopped_early", 0.0)),
        "patience": patience,
        "train_rows": float(len(train)),
        "dev_rows": float(len(dev)),
        "dev_split": "task" if task.dev is not None else "held out from train",
        "class_weights": None if data.class_weights is None else [float(w) for w in data.class_weights],
        "texts": {"train": texts_fingerprint(train.texts), "dev": texts_fingerprint(dev.texts)},
        # the Train run's own time counters (train.run_clock): a study's goodput counts its samples
        "timing": {k: float(last.get(k, 0.0)) for k in ("train_samples", *COUNTERS)},
    }
    return figures, {"pred": pred}


def finetune(model: str, task: Task, storage: str | Path, name: str, **options: Any) -> dict[str, Any]:
    """Fine-tune ``model`` on ``task`` (options as :func:`finetune_outputs`); the test-split figures."""
    return finetune_outputs(model, task, storage, name, **options)[0]
