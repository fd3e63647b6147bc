from __future__ import annotations

import numpy as np
import pytest

from raysweep.data import tokenized
from raysweep.data.tokenized import tokenize
from raysweep.models import load_tokenizer


def test_tokenize_once_then_cached(tiny_bert: str, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAYSWEEP_CACHE_DIR", str(tmp_path))
    tokenized._tokenize_cached.cache_clear()
    tok = load_tokenizer(tiny_bert)
    texts = ["i feel great today", "angry angry angry angry angry angry", "sad"]
    first = tokenize(tok, texts, max_length=6)
    assert first.input_ids.shape == (3, 6) and list(first.lengths) == [6, 6, 3]
    assert len(list((tmp_path / "tokens").iterdir())) == 1

    calls = []
    monkeypatch.setattr(type(tok), "__call__", lambda *a, **k: calls.append(1))
    tokenized._tokenize_cached.cache_clear()
    again = tokenize(load_tokenizer(tiny_bert), texts, max_length=6)  # from disk, no tokenizer call
    assert calls == [] and np.array_equal(again.input_ids, first.input_ids)
    assert tokenize(tok, texts, max_length=6) is tokenize(tok, texts, max_length=6)  # in memory


def test_batch_trims_to_longest_row(tiny_bert: str) -> None:
    tok = load_tokenizer(tiny_bert)
    toks = tokenize(tok, ["sad", "i feel great today", "it"], max_length=32)
    batch = toks.batch([0, 2])
    assert batch["input_ids"].shape == (2, 3)
    assert batch["attention_mask"].sum().item() == 6
    batch = toks.batch([1])
    assert batch["input_ids"].shape == (1, 6) and batch["attention_mask"].all()
