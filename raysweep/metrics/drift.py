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


def cosine_drift(before: np.ndarray, after: np.ndarray) -> float:
    return float((1.0 - (_unit(before) * _unit(after)).sum(1)).mean())


def _knn(unit: torch.Tensor, k: int) -> torch.Tensor:
    sims = unit @ unit.T
    sims.fill_diagonal_(-float("inf"))
    return sims.topk(k, dim=1).indices


def knn_overlap(before: np.ndarray, after: np.ndarray, k: int = 10) -> float:
    k = min(k, len(before) - 1)
    a, b = _knn(_unit(before), k), _knn(_unit(after), k)
    hits = (a.unsqueeze(2) == b.unsqueeze(1)).any(2).sum(1).float()
    return float((hits / k).mean())


def drift_metrics(before: np.ndarray, after: np.ndarray, k: int = 10) -> dict[str, float]:
    overlap = knn_overlap(before, after, k)
    return {"delta_emb": cosine_drift(before, after), "knn_overlap": overlap, "topology_drift": 1.0 - overlap}
