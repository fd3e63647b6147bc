"""k-means for the clustering figures: the mean over 5 seeded single-initialisation runs,
deterministic, and the figures scored from the assignments it returns."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import KMeans

from raysweep.metrics import clustering
from raysweep.metrics.clustering import RESTARTS, cluster_scores, clustering_metrics, kmeans_clusters, restart_seed


def blobs(seed: int = 0, scale: float = 0.6) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(6), 40)
    x = np.eye(6, 16)[labels] * 1.5 + rng.normal(scale=scale, size=(len(labels), 16))
    return x.astype(np.float32), labels


def test_five_single_initialisation_runs_with_their_own_seeds(monkeypatch):
    seen: list[tuple[int, int]] = []

    class Recording(KMeans):
        def fit(self, *args, **kwargs):
            seen.append((self.n_init, self.random_state))
            return super().fit(*args, **kwargs)

    monkeypatch.setattr(clustering, "KMeans", Recording)
    x, labels = blobs()
    clustering_metrics(x, labels, seed=3)
    assert RESTARTS == 5 and [n for n, _ in seen] == [1] * 5 and len({s for _, s in seen}) == 5
    assert [s for _, s in seen] == [restart_seed(3, r) for r in range(5)]
    assert 0 <= restart_seed(2**32 - 1, 4) < 2**32  # any training or draw seed gives a seed k-means takes


def test_deterministic_and_the_figures_are_the_mean_of_the_runs():
    x, labels = blobs(1, scale=1.2)  # overlapping classes: runs differ
    a, b = kmeans_clusters(x, 6, seed=7), kmeans_clusters(x, 6, seed=7)
    assert np.array_equal(a, b) and a.dtype == np.int64 and a.shape == (RESTARTS, len(labels))
    per_run = [cluster_scores(labels, run) for run in a]
    assert len({round(r["ami"], 6) for r in per_run}) > 1  # the runs really are different
    mean = {k: float(np.mean([r[k] for r in per_run])) for k in ("ami", "ari", "fms")}
    assert clustering_metrics(x, labels, seed=7) == pytest.approx(mean)


def test_the_mean_is_steadier_over_seeds_than_one_run():
    x, labels = blobs(2, scale=1.2)
    one = [clustering_metrics(x, labels, seed=s, restarts=1)["ami"] for s in range(12)]
    five = [clustering_metrics(x, labels, seed=s)["ami"] for s in range(12)]
    assert np.std(five) < 0.75 * np.std(one)


def test_perfect_clusters_score_one():
    _, labels = blobs()
    assert cluster_scores(labels, labels) == pytest.approx({"ami": 1.0, "ari": 1.0, "fms": 1.0})
    assert cluster_scores(labels, np.stack([labels, labels])) == pytest.approx({"ami": 1.0, "ari": 1.0, "fms": 1.0})
