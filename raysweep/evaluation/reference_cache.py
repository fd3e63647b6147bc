"""The reference model's embeddings of an evaluation's text sets, computed once and cached on disk.

Every final model of a study is scored for Δemb against the same reference (the methods' base model)
on the same drift texts (the study's ``draw_seed`` draws them), so the suite embeds them with the
reference once and every later evaluation reads them back; when the evaluated model is the reference
itself (PLM), all its text sets are cached the same way, so a resumed study or a repeated evaluation
does not re-embed them. Like the tokenised texts and the frozen targets (``data.tokenized``,
``train.data``), the arrays live under ``$RAYSWEEP_CACHE_DIR/reference/`` as ``.npz`` files, written
atomically (``atomic.save_npz``; a cache that is not writable only costs the reuse).

Only immutable weights are cached: the key holds the model's fingerprint
(``train.data.model_fingerprint``: a hub name or alias by its name, a folder by its files' names,
sizes and modification times, so a folder rewritten in place gets a new key), the pooling, the max
length, the precision the embeddings were computed in (fp32 and bf16 are kept apart) and the SHA-256
of the texts in order.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from raysweep import atomic
from raysweep.data.tasks import texts_fingerprint
from raysweep.data.tokenized import cache_dir
from raysweep.train.data import model_fingerprint

FOLDER = "reference"


def reference_key(model: str, pooling: str, texts: list[str], max_length: int, precision: str) -> str:
    """The cache key of ``model``'s ``pooling`` embeddings of ``texts`` (in order) at ``max_length`` in
    ``precision`` (``fp32`` or ``bf16``)."""
    parts = [model_fingerprint(model), pooling, str(max_length), precision, texts_fingerprint(texts)]
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:32]


def cache_path(key: str) -> Path:
    return cache_dir() / FOLDER / f"{key}.npz"


def load(key: str, rows: int) -> np.ndarray | None:
    """The cached ``(rows, hidden)`` fp32 embeddings under ``key``, or None (absent, unreadable, or of
    another row count)."""
    path = cache_path(key)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as saved:
            emb = saved["emb"]
    except (OSError, ValueError, KeyError):
        return None
    return emb if emb.ndim == 2 and emb.shape[0] == rows and emb.dtype == np.float32 else None


def store(key: str, emb: np.ndarray) -> bool:
    """Cache ``emb`` under ``key`` (atomically); False when the cache folder is not writable."""
    return atomic.save_npz(cache_path(key), emb=np.asarray(emb, dtype=np.float32))
