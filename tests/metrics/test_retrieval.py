"""Exact retrieval metrics: by hand, against PML's AccuracyCalculator, and in small blocks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pytorch_metric_learning.distances import CosineSimilarity
from pytorch_metric_learning.utils.accuracy_calculator import AccuracyCalculator
from pytorch_metric_learning.utils.inference import CustomKNN

from raysweep.metrics.retrieval import per_query_retrieval, retrieval_metrics


def on_circle(degrees: list[float]) -> np.ndarray:
    rad = np.deg2rad(degrees)
    return np.stack([np.cos(rad), np.sin(rad)], axis=1).astype(np.float32)


def pml(x: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    keys = {"mean_reciprocal_rank": "mrr", "precision_at_1": "p_at_1", "mean_average_precision_at_r": "map_at_r"}
    calc = AccuracyCalculator(include=tuple(keys), k="max_bin_count", knn_func=CustomKNN(CosineSimilarity()))
    emb, lab = torch.from_numpy(x), torch.from_numpy(labels)
    return {keys[k]: v for k, v in calc.get_accuracy(emb, lab, emb, lab, ref_includes_query=True).items()}


def test_retrieval_by_hand():
    # class A at 0, 10, 40 degrees; class B at 35, 65, 85 (no ties). Neighbours by angle, R = 2:
    #   q=0  (A): 10A 35B 40A ...   RR 1    P@1 1  AP@R (1/1 + 0)/2 = 1/2
    #   q=10 (A): 0A 35B 40A ...    RR 1    P@1 1  AP@R 1/2
    #   q=40 (A): 35B 65B 10A ...   RR 1/3  P@1 0  AP@R 0
    #   q=35 (B): 40A 10A 65B ...   RR 1/3  P@1 0  AP@R 0
    #   q=65 (B): 85B 40A 35B ...   RR 1    P@1 1  AP@R 1/2
    #   q=85 (B): 65B 40A 35B ...   RR 1    P@1 1  AP@R 1/2
    x = on_circle([0, 10, 40, 35, 65, 85])
    labels = np.array([0, 0, 0, 1, 1, 1])
    scores = retrieval_metrics(x, labels)
    assert scores["mrr"] == pytest.approx((4 + 2 / 3) / 6, abs=1e-6)
    assert scores["p_at_1"] == pytest.approx(4 / 6, abs=1e-6)
    assert scores["map_at_r"] == pytest.approx(2 / 6, abs=1e-6)
    # PML ranks only the k = max_bin_count - 1 = 2 nearest neighbours, so its MRR counts a first hit
    # at rank 3 as 0; P@1 and MAP@R agree.
    assert pml(x, labels) == pytest.approx({"mrr": 4 / 6, "p_at_1": 4 / 6, "map_at_r": 2 / 6}, abs=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_pml_on_imbalanced_clusters(seed: int):
    rng = np.random.default_rng(seed)
    sizes = [60, 25, 9, 3, 1]  # a lone point too: left out by both
    labels = np.repeat(np.arange(len(sizes)), sizes)
    centres = rng.normal(size=(len(sizes), 12))
    x = (centres[labels] + rng.normal(scale=1.2, size=(len(labels), 12))).astype(np.float32)
    ours, theirs = retrieval_metrics(x, labels), pml(x, labels)
    assert ours["p_at_1"] == pytest.approx(theirs["p_at_1"], abs=1e-6)
    assert ours["map_at_r"] == pytest.approx(theirs["map_at_r"], abs=1e-6)
    assert ours["mrr"] >= theirs["mrr"] - 1e-6  # ours also credits first hits beyond max_bin_count - 1
    assert 0.2 < ours["p_at_1"] < 0.95  # a case where neither metric is trivial


def test_block_size_does_not_change_the_figures():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 4, size=150)
    x = rng.normal(size=(150, 8)).astype(np.float32)
    whole = retrieval_metrics(x, labels)
    assert retrieval_metrics(x, labels, block_bytes=4 * 150 * 7) == pytest.approx(whole, abs=1e-6)
    assert retrieval_metrics(x, labels, block_bytes=1) == pytest.approx(whole, abs=1e-6)


def test_all_lone_points_give_nan():
    scores = retrieval_metrics(np.eye(3, dtype=np.float32), np.array([0, 1, 2]))
    assert all(np.isnan(v) for v in scores.values())


def test_per_query_figures_by_hand_and_their_means_are_the_figures():
    x = on_circle([0, 10, 40, 35, 65, 85])
    labels = np.array([0, 0, 0, 1, 1, 1])
    per = per_query_retrieval(x, labels)
    assert per["queries"].tolist() == [0, 1, 2, 3, 4, 5]
    assert per["rr"] == pytest.approx([1, 1, 1 / 3, 1 / 3, 1, 1], abs=1e-6)
    assert per["p_at_1"].tolist() == [1, 1, 0, 0, 1, 1]
    assert per["ap_at_r"] == pytest.approx([0.5, 0.5, 0, 0, 0.5, 0.5], abs=1e-6)
    rng = np.random.default_rng(4)
    labels = np.repeat(np.arange(5), [60, 25, 9, 3, 1])  # the lone point (row 97) is no query
    x = rng.normal(size=(len(labels), 12)).astype(np.float32)
    per = per_query_retrieval(x, labels, block_bytes=4 * len(labels) * 7)
    assert per["queries"].tolist() == list(range(97)) and all(len(per[k]) == 97 for k in ("rr", "p_at_1", "ap_at_r"))
    scores = retrieval_metrics(x, labels)
    means = {"mrr": per["rr"].mean(), "p_at_1": per["p_at_1"].mean(), "map_at_r": per["ap_at_r"].mean()}
    assert means == pytest.approx(scores, abs=1e-9)
