"""Tokenise a text set once per (tokenizer, max length, content) and reuse it everywhere.

The token ids are stored as one right-padded ``int32`` array plus the true lengths, so a batch is a
slice trimmed to its longest row (dynamic padding) with no tokenizer call in the training loop.
Arrays are cached in memory and, atomically, on disk under ``$RAYSWEEP_CACHE_DIR`` (default
``~/.cache/raysweep``) as ``.npz`` files (no pickle).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from raysweep import atomic

ENV_CACHE_DIR = "RAYSWEEP_CACHE_DIR"


@dataclass(frozen=True)
class TokenizedTexts:
    input_ids: np.ndarray
    """``(n, max_length)`` int32, right-padded with the tokenizer's pad id."""
    lengths: np.ndarray
    """``(n,)`` int32, real tokens per row."""
    pad_id: int

    def __len__(self) -> int:
        return len(self.lengths)

    def batch(self, indices: np.ndarray | list[int], device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
        """``input_ids`` and ``attention_mask`` for the rows, trimmed to the longest of them."""
        idx = np.asarray(indices)
        width = int(self.lengths[idx].max())
        ids = torch.from_numpy(self.input_ids[idx, :width].astype(np.int64))
        mask = (torch.arange(width)[None, :] < torch.from_numpy(self.lengths[idx])[:, None]).long()
        pin = torch.device(device).type == "cuda"
        if pin:
            ids, mask = ids.pin_memory(), mask.pin_memory()
        return {
            "input_ids": ids.to(device, non_blocking=pin),
            "attention_mask": mask.to(device, non_blocking=pin),
        }

    def length_sorted_batches(self, batch_size: int) -> list[np.ndarray]:
        """Index batches in length order: little padding when embedding a whole set for evaluation."""
        order = np.argsort(self.lengths, kind="stable")
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def cache_dir() -> Path:
    return Path(os.environ.get(ENV_CACHE_DIR, Path.home() / ".cache" / "raysweep")).expanduser()


def tokenizer_fingerprint(tokenizer) -> str:
    """Identifies a tokenizer by what it does (vocabulary and rules), not by where it was loaded from.

    The backend's truncation/padding settings are left out: calling the tokenizer changes them.
    """
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        spec = json.loads(backend.to_str())
        spec.pop("truncation", None)
        spec.pop("padding", None)
        blob = json.dumps(spec, sort_keys=True)
    else:
        blob = repr(sorted(tokenizer.get_vocab().items()))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def tokenize(tokenizer, texts: list[str], max_length: int, content_key: str | None = None) -> TokenizedTexts:
    """Token ids of ``texts`` truncated to ``max_length``; cached by tokenizer, length and content."""
    if content_key is None:
        content_key = hashlib.sha256("\0".join(texts).encode("utf-8")).hexdigest()[:16]
    return _tokenize_cached(_TokenizerRef(tokenizer), tuple(texts), max_length, content_key)


class _TokenizerRef:
    """Hashable by fingerprint so the in-memory cache keys on what the tokenizer does."""

    def __init__(self, tokenizer) -> None:
        self.tokenizer = tokenizer
        self.key = tokenizer_fingerprint(tokenizer)

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _TokenizerRef) and other.key == self.key


@lru_cache(maxsize=16)
def _tokenize_cached(ref: _TokenizerRef, texts: tuple[str, ...], max_length: int, content_key: str) -> TokenizedTexts:
    path = cache_dir() / "tokens" / f"{ref.key}-{max_length}-{content_key}.npz"
    if path.is_file():
        with np.load(path, allow_pickle=False) as saved:
            if len(saved["lengths"]) == len(texts):
                return TokenizedTexts(saved["input_ids"], saved["lengths"], int(saved["pad_id"]))
    tok = ref.tokenizer
    encoded = tok(list(texts), truncation=True, max_length=max_length, padding=False)["input_ids"]
    pad_id = tok.pad_token_id if tok.pad_token_id is not None else 0
    lengths = np.fromiter((len(e) for e in encoded), dtype=np.int32, count=len(encoded))
    ids = np.full((len(encoded), max(int(lengths.max(initial=1)), 1)), pad_id, dtype=np.int32)
    for row, e in enumerate(encoded):
        ids[row, : len(e)] = e
    result = TokenizedTexts(ids, lengths, int(pad_id))
    atomic.save_npz(path, input_ids=ids, lengths=lengths, pad_id=np.int64(pad_id))
    return result
