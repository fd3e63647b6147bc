"""Clustering quality of an embedding space against its labels (scikit-learn): one seeded k-means
with k = the number of classes on L2-normalised embeddings, scored by AMI, ARI and FMS
(Fowlkes-Mallows)."""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm
from sklearn.cluster import KMeans


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
