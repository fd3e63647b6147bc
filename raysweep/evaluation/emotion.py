"""Emotion awareness of an embedding space, from embeddings and their emotion labels.

* Retrieval (``raysweep.evaluation.retrieval``): cosine kNN with the set as both query and reference
  (each point excluded from its own neighbours): MRR, P@1 and exact MAP@R, the figures of
  pytorch-metric-learning's ``AccuracyCalculator`` with ``k="max_bin_count"`` in bounded memory.
* Clustering (scikit-learn): one seeded k-means with k = number of classes, scored by AMI, ARI and
  FMS (Fowlkes-Mallows) against the labels.
"""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm
from sklearn.cluster import KMeans

from raysweep.evaluation.retrieval import retrieval_metrics

__all__ = ["clustering_metrics", "emotion_metrics", "retrieval_metrics"]


def clustering_metrics(embeddings: np.ndarray, labels: np.ndarray, seed: int = 0) -> dict[str, float]:
    """AMI, ARI and FMS of one seeded k-means (k = number of classes) on L2-normalised embeddings."""
    labels = np.asarray(labels)
    k = len(np.unique(labels))
    x = embeddings / np.clip(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12, None)
    clusters = KMeans(n_clusters=k, n_init=1, random_state=seed).fit_predict(x)
    return {
        "ami": float(skm.adjusted_mutual_info_score(labels, clusters)),
        "ari": float(skm.adjusted_rand_score(labels, clusters)),
        "fms": float(skm.fowlkes_mallows_score(labels, clusters)),
    }


def emotion_metrics(embeddings: np.ndarray, labels: np.ndarray, seed: int = 0) -> dict[str, float]:
    return {**clustering_metrics(embeddings, labels, seed), **retrieval_metrics(embeddings, labels)}
