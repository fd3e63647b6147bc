"""Emotion awareness of an embedding space, from embeddings and their emotion labels: the suite's
``emotion`` job, the clustering and retrieval figures of ``raysweep.metrics`` together.

* Retrieval (``raysweep.metrics.retrieval``): cosine kNN with the set as both query and reference
  (each point excluded from its own neighbours): MRR, P@1 and exact MAP@R, the figures of
  pytorch-metric-learning's ``AccuracyCalculator`` with ``k="max_bin_count"`` in bounded memory.
* Clustering (``raysweep.metrics.clustering``): seeded k-means with k = number of classes, scored by
  AMI, ARI and FMS (Fowlkes-Mallows) against the labels, each the mean over 5 seeded runs.
"""

from __future__ import annotations

import numpy as np

from raysweep.metrics.clustering import cluster_scores, kmeans_clusters
from raysweep.metrics.retrieval import per_query_retrieval, summarise_retrieval


def emotion_outputs(
    embeddings: np.ndarray, labels: np.ndarray, seed: int = 0
) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """AMI, ARI, FMS, MRR, P@1 and MAP@R, and the per-example outputs behind them: ``clusters`` (the
    assignment of every row in each k-means run, runs x rows), ``queries`` (the rows that count as
    retrieval queries) and their ``rr``, ``p_at_1`` and ``ap_at_r``."""
    labels = np.asarray(labels)
    clusters = kmeans_clusters(embeddings, len(np.unique(labels)), seed)
    per_query = per_query_retrieval(embeddings, labels)
    figures = {**cluster_scores(labels, clusters), **summarise_retrieval(per_query)}
    return figures, {"clusters": clusters, **per_query}


def emotion_metrics(embeddings: np.ndarray, labels: np.ndarray, seed: int = 0) -> dict[str, float]:
    """AMI, ARI, FMS, MRR, P@1 and MAP@R of the embeddings against their emotion labels."""
    return emotion_outputs(embeddings, labels, seed)[0]
