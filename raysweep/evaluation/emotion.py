"""Emotion awareness of an embedding space, from embeddings and their emotion labels.

* Retrieval (pytorch-metric-learning ``AccuracyCalculator``): cosine kNN with the set as both query
  and reference (each point excluded from its own neighbours) and ``k="max_bin_count"``, so MAP@R
  is exact: MRR, P@1, MAP@R.
* Clustering (scikit-learn): one seeded k-means with k = number of classes, scored by AMI, ARI and
  FMS (Fowlkes-Mallows) against the labels.
"""

from __future__ import annotations

import numpy as np
import torch
from pytorch_metric_learning.distances import CosineSimilarity
from pytorch_metric_learning.utils.accuracy_calculator import AccuracyCalculator
from pytorch_metric_learning.utils.inference import CustomKNN
from sklearn import metrics as skm
from sklearn.cluster import KMeans

RETRIEVAL_KEYS = {
    "mean_reciprocal_rank": "mrr",
    "precision_at_1": "p_at_1",
    "mean_average_precision_at_r": "map_at_r",
}


def retrieval_metrics(embeddings: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """MRR, P@1 and MAP@R of cosine retrieval within the set (query = reference)."""
    calc = AccuracyCalculator(
        include=tuple(RETRIEVAL_KEYS),
        k="max_bin_count",
        device=torch.device("cpu"),
        knn_func=CustomKNN(CosineSimilarity(), batch_size=2048),
    )
    emb = torch.from_numpy(np.ascontiguousarray(embeddings, dtype=np.float32))
    lab = torch.from_numpy(np.asarray(labels, dtype=np.int64))
    scores = calc.get_accuracy(emb, lab, emb, lab, ref_includes_query=True)
    return {RETRIEVAL_KEYS[k]: float(v) for k, v in scores.items()}


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
