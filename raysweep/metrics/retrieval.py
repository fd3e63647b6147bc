"""Exact within-set cosine retrieval metrics (MRR, P@1, MAP@R) in bounded memory.

Every point queries all the others (query = reference, the point itself excluded). The figures are
those of pytorch-metric-learning's ``AccuracyCalculator`` with ``k="max_bin_count"`` (the tests use it
as the oracle), computed without its n x max_bin_count neighbour table, which at GoEmotions size
(45k texts, the largest class ~7k) is several GB and dominates the evaluation time:

* queries are taken one class at a time, in row blocks of at most ``block_bytes`` of similarities;
* MAP@R, P@1 and MRR come from the top ``R = class size - 1`` of each row, R being the class's own;
  a row whose first same-class point lies beyond rank R gets its exact rank, ``1 + #{points more
  similar}``, so MRR is exact at any rank (PML's stops at rank ``max_bin_count - 1`` and counts a
  later first hit as 0).

Queries whose class has no other member (no relevant point) are left out, as in PML.
:func:`per_query_retrieval` gives every counted query's own RR, P@1 and AP@R (the per-example
outputs a paired comparison resamples); :func:`retrieval_metrics` their means.
"""

from __future__ import annotations

import numpy as np
import torch

BLOCK_BYTES = 256 << 20


def per_query_retrieval(
    embeddings: np.ndarray, labels: np.ndarray, block_bytes: int = BLOCK_BYTES
) -> dict[str, np.ndarray]:
    """Every query's own figures: ``queries`` (the row indices of the queries that count, ascending:
    every row whose class has another member) and, for each of them, ``rr`` (1 / rank of its first
    same-class neighbour), ``p_at_1`` (1.0 when its nearest neighbour is of its class, else 0.0) and
    ``ap_at_r`` (its average precision at R). Their means are :func:`retrieval_metrics`."""
    x = torch.nn.functional.normalize(torch.as_tensor(np.asarray(embeddings, dtype=np.float32)), dim=1)
    y = torch.as_tensor(np.asarray(labels, dtype=np.int64))
    n = len(y)
    rows = max(1, block_bytes // (4 * max(n, 1)))
    rr = torch.full((n,), float("nan"), dtype=torch.float64)
    p1, ap = rr.clone(), rr.clone()
    for label in torch.unique(y):
        members = torch.nonzero(y == label).squeeze(1)
        r = len(members) - 1
        if r < 1:
            continue
        same = y == label
        weights = 1.0 / torch.arange(1, r + 1, dtype=torch.float32)
        for start in range(0, len(members), rows):
            queries = members[start : start + rows]
            sims = x[queries] @ x.T
            sims[torch.arange(len(queries)), queries] = -torch.inf
            hits = same[sims.topk(r, dim=1).indices]  # the top R, most similar first
            rank = hits.to(torch.int8).argmax(dim=1) + 1  # the first hit's rank, when one is in the top R
            missed = ~hits.any(dim=1)
            if missed.any():  # first hit beyond rank R: 1 + the number of points more similar than it
                rest = sims[missed]
                nearest_hit = rest.masked_fill(~same, -torch.inf).amax(dim=1, keepdim=True)
                rank[missed] = 1 + (rest > nearest_hit).sum(dim=1)
            rr[queries] = (1.0 / rank).double()
            p1[queries] = hits[:, 0].double()
            hits = hits.float()
            ap[queries] = ((hits * hits.cumsum(dim=1) * weights).sum(dim=1) / r).double()
    counted = torch.nonzero(~torch.isnan(rr)).squeeze(1)
    return {
        "queries": counted.numpy().astype(np.int64),
        "rr": rr[counted].numpy(),
        "p_at_1": p1[counted].numpy(),
        "ap_at_r": ap[counted].numpy(),
    }


def summarise_retrieval(per_query: dict[str, np.ndarray]) -> dict[str, float]:
    """MRR, P@1 and MAP@R: the means of :func:`per_query_retrieval`'s figures (NaN without a query)."""
    if len(per_query["queries"]) == 0:
        nan = float("nan")
        return {"mrr": nan, "p_at_1": nan, "map_at_r": nan}
    return {
        "mrr": float(np.mean(per_query["rr"])),
        "p_at_1": float(np.mean(per_query["p_at_1"])),
        "map_at_r": float(np.mean(per_query["ap_at_r"])),
    }


def retrieval_metrics(embeddings: np.ndarray, labels: np.ndarray, block_bytes: int = BLOCK_BYTES) -> dict[str, float]:
    """MRR, P@1 and MAP@R of cosine retrieval within the set (query = reference, self excluded)."""
    return summarise_retrieval(per_query_retrieval(embeddings, labels, block_bytes))
