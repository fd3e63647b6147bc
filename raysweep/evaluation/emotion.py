"""Emotion awareness of an embedding space, from embeddings and their emotion labels: the suite's
``emotion`` job, the clustering and retrieval figures of ``raysweep.metrics`` together.

* Retrieval (``raysweep.metrics.retrieval``): cosine kNN with the set as both query and reference
  (each point excluded from its own neighbours): MRR, P@1 and exact MAP@R, the figures of
  pytorch-metric-learning's ``AccuracyCalculator`` with ``k="max_bin_count"`` in bounded memory.
* Clustering (``raysweep.metrics.clustering``): one seeded k-means with k = number of classes,
  scored by AMI, ARI and FMS (Fowlkes-Mallows) against the labels.
"""

from __future__ import annotations

import numpy as np

from raysweep.metrics.clustering import clustering_metrics
from raysweep.metrics.retrieval import retrieval_metrics


def emotion_metrics(embeddings: np.ndarray, labels: np.ndarray, seed: int = 0) -> dict[str, float]:
    """AMI, ARI, FMS, MRR, P@1 and MAP@R of the embeddings against their emotion labels."""
    return {**clustering_metrics(embeddings, labels, seed), **retrieval_metrics(embeddings, labels)}
