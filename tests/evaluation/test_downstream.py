"""Downstream protocols: scores by hand, the probe, few-shot sampling (reproducible, stratified), and
fine-tuning as Ray Train workers on a tiny model."""

from __future__ import annotations

import numpy as np
import pytest
import task_fixtures

from raysweep.data.tasks import load_task
from raysweep.evaluation.downstream import (
    few_shot,
    few_shot_draws,
    few_shot_indices,
    few_shot_outputs,
    finetune,
    linear_probe,
)
from raysweep.metrics.classification import classification_scores

tiny_tasks_dir = pytest.fixture(scope="session")(task_fixtures.tiny_tasks_dir)


def test_classification_scores_by_hand():
    y = np.array([1, 1, 1, 0, 0, 0])
    p = np.array([1, 1, 0, 0, 0, 1])
    # positive class: precision 2/3, recall 2/3 -> F1 2/3; negative likewise -> macro-F1 2/3
    assert classification_scores(y, p, 2) == pytest.approx({"macro_f1": 2 / 3, "accuracy": 4 / 6, "pos_f1": 2 / 3})
    assert "pos_f1" not in classification_scores(np.array([0, 1, 2]), np.array([0, 1, 2]), 3)


def blobs(n_per_class: int, classes: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(classes), n_per_class)
    return np.eye(classes, 8)[y] * 4 + rng.normal(scale=0.3, size=(len(y), 8)), y


def test_linear_probe_separable():
    x, y = blobs(50, 3)
    tx, ty = blobs(20, 3, seed=1)
    assert linear_probe(x, y, tx, ty, 3)["macro_f1"] == pytest.approx(1.0)


def test_few_shot_indices_reproducible_and_stratified():
    labels = np.repeat([0, 1, 2], [100, 50, 10])
    a, b = few_shot_indices(labels, 8, seed=3), few_shot_indices(labels, 8, seed=3)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, few_shot_indices(labels, 8, seed=4))
    assert np.bincount(labels[a]).tolist() == [8, 8, 8]
    assert len(set(a.tolist())) == len(a)
    capped = few_shot_indices(labels, 32, seed=0)
    assert np.bincount(labels[capped]).tolist() == [32, 32, 10]  # a class smaller than k gives all it has


def test_few_shot_mean_and_std_over_seeds():
    x, y = blobs(80, 2)
    tx, ty = blobs(20, 2, seed=1)
    out = few_shot(x, y, tx, ty, 2, ks=(8, 16), draws=5)
    assert set(out) == {"k8", "k16"}
    runs = out["k8"]["macro_f1"]
    assert len(runs) == 5
    assert out["k8"]["macro_f1_mean"] == pytest.approx(np.mean(runs))
    assert out["k8"]["macro_f1_std"] == pytest.approx(np.std(runs))
    assert out == few_shot(x, y, tx, ty, 2, ks=(8, 16), draws=5)  # reproducible
    assert out["k8"]["collapsed"] == [False] * 5


def test_few_shot_draws_come_from_the_draw_seed_and_predictions_are_kept():
    x, y = blobs(80, 2)
    tx, ty = blobs(20, 2, seed=1)
    draws = few_shot_draws(y, ks=(8,), draws=3, draw_seed=2)
    assert [rows.tolist() for rows in draws["k8"]] == [few_shot_indices(y, 8, 2000 + d).tolist() for d in range(3)]
    assert few_shot_draws(y, ks=(8,), draws=3, draw_seed=3)["k8"][0].tolist() != draws["k8"][0].tolist()
    figures, arrays = few_shot_outputs(x, y, tx, ty, 2, ks=(8, 16), draws=3, draw_seed=2)
    assert set(arrays) == {"k8/pred", "k16/pred"} and arrays["k8/pred"].shape == (3, len(ty))
    recomputed = [classification_scores(ty, p, 2)["macro_f1"] for p in arrays["k8/pred"]]
    assert figures["k8"]["macro_f1"] == pytest.approx(recomputed)


def test_finetune_runs_as_ray_train_workers(tiny_roberta, tiny_tasks_dir, ray_local, tmp_path):
    task = load_task("sst2", tiny_tasks_dir)
    scores = finetune(
        tiny_roberta, task, tmp_path / "runs", "ft-test", max_steps=4, batch_size=8, lr=1e-3, max_length=32
    )
    assert scores["steps"] == 4 and scores["train_rows"] + scores["dev_rows"] == len(task.train)
    assert 0.0 <= scores["macro_f1"] <= 1.0 and "pos_f1" in scores
