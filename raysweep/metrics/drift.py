"""Δemb: how far a retrofitted encoder's embedding space moved from the original model's.

Measured on texts that are not GoEmotions (a fixed sample of the downstream sets), from the two
models' embeddings of the same texts (row i of ``before`` and ``after`` is the same text):

* ``delta_emb``: mean cosine distance 1 - cos(before_i, after_i) (0 = unchanged);
* ``knn_overlap``: mean overlap |N10_before(i) ∩ N10_after(i)| / 10 of each text's 10 nearest
  neighbours (cosine, itself excluded) before and after, the topology figure (1 = unchanged);
  ``topology_drift`` = 1 - knn_overlap so that, like Δemb, lower is better.
"""

from __future__ import annotations

import numpy as np
import torch


def _unit(x: np.ndarray) -> torch.Tensor:
    t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    return torch.nn.functional.normalize(t, dim=1)


def cosine_distances(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Every text's cosine distance 1 - cos(before_i, after_i); their mean is Δemb."""
    return (1.0 - (_unit(before) * _unit(after)).sum(1)).double().numpy()


def cosine_drift(before: np.ndarray, after: np.ndarray) -> float:
    return float(np.mean(cosine_distances(before, after)))


def _knn(unit: torch.Tensor, k: int) -> torch.Tensor:
    sims = unit @ unit.T
    sims.fill_diagonal_(-float("inf"))
    return sims.topk(k, dim=1).indices


def knn_overlaps(before: np.ndarray, after: np.ndarray, k: int = 10) -> np.ndarray:
    """Every text's |N_k_before(i) ∩ N_k_after(i)| / k; their mean is the kNN overlap."""
    k = min(k, len(before) - 1)
    a, b = _knn(_unit(before), k), _knn(_unit(after), k)
    hits = (a.unsqueeze(2) == b.unsqueeze(1)).any(2).sum(1).double()
    return (hits / k).numpy()


def knn_overlap(before: np.ndarray, after: np.ndarray, k: int = 10) -> float:
    return float(np.mean(knn_overlaps(before, after, k)))


def per_text_drift(before: np.ndarray, after: np.ndarray, k: int = 10) -> dict[str, np.ndarray]:
    """``distance`` and ``overlap`` of every text (row i of both arrays is text i)."""
    return {"distance": cosine_distances(before, after), "overlap": knn_overlaps(before, after, k)}


def summarise_drift(per_text: dict[str, np.ndarray]) -> dict[str, float]:
    """Δemb, kNN overlap and topology drift: the means of :func:`per_text_drift`'s figures."""
    overlap = float(np.mean(per_text["overlap"]))
    return {"delta_emb": float(np.mean(per_text["distance"])), "knn_overlap": overlap, "topology_drift": 1.0 - overlap}


def drift_metrics(before: np.ndarray, after: np.ndarray, k: int = 10) -> dict[str, float]:
    return summarise_drift(per_text_drift(before, after, k))
