"""Emotion-awareness metrics against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from raysweep.evaluation.emotion import emotion_metrics
from raysweep.metrics.clustering import clustering_metrics
from raysweep.metrics.retrieval import retrieval_metrics


def on_circle(degrees: list[float]) -> np.ndarray:
    rad = np.deg2rad(degrees)
    return np.stack([np.cos(rad), np.sin(rad)], axis=1).astype(np.float32)


def test_perfect_clustering_scores_one():
    rng = np.random.default_rng(0)
    centres = np.eye(4, 16) * 10
    labels = np.repeat(np.arange(4), 25)
    x = centres[labels] + rng.normal(scale=0.05, size=(100, 16))
    scores = clustering_metrics(x, labels, seed=0)
    assert scores == pytest.approx({"ami": 1.0, "ari": 1.0, "fms": 1.0})


def test_random_labelling_scores_near_zero():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 16))
    labels = rng.integers(0, 6, size=600)
    scores = clustering_metrics(x, labels, seed=0)
    assert abs(scores["ami"]) < 0.03 and abs(scores["ari"]) < 0.03
    assert scores["fms"] < 0.25  # FMS is not chance-adjusted: about 1/k for k equal random clusters


def test_retrieval_is_cosine_scale_invariant_and_emotion_metrics_has_all_keys():
    x = on_circle([0, 10, 40, 35, 65, 85])
    labels = np.array([0, 0, 0, 1, 1, 1])
    scaled = x * np.array([[1.0], [5.0], [0.2], [3.0], [1.0], [7.0]], dtype=np.float32)
    assert retrieval_metrics(scaled, labels) == pytest.approx(retrieval_metrics(x, labels))
    assert set(emotion_metrics(x, labels)) == {"ami", "ari", "fms", "mrr", "p_at_1", "map_at_r"}
