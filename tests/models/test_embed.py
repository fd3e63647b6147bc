"""The embedding loop: length-sorted, padding-trimmed batches give the unsorted figures in the input
order, and bf16 autocast agrees with fp32 within the stated tolerance (tiny random models)."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from conftest import make_text

from raysweep.data.tokenized import tokenize
from raysweep.errors import RaysweepError
from raysweep.models.embed import embed_tokens, embedding_precision, length_sorted_batches
from raysweep.models.encoder import PooledEncoder, load_encoder, load_tokenizer

BF16_COSINE_TOLERANCE = 1e-3
"""bf16 autocast vs fp32: the largest cosine distance between a text's two embeddings (tiny models)."""


def varied_texts(n: int = 37, seed: int = 0) -> list[str]:
    """Texts of very different lengths, in no length order."""
    rng = random.Random(seed)
    return [" ".join(make_text(rng, i % 6) for _ in range(rng.randint(1, 4))) for i in range(n)]


def encoder_and_tokens(model: str, texts: list[str], pooling: str = "mean"):
    tokens = tokenize(load_tokenizer(model), texts, max_length=48)
    return PooledEncoder(load_encoder(model), pooling).eval(), tokens


@torch.inference_mode()
def one_by_one(encoder: PooledEncoder, tokens) -> np.ndarray:
    """Each row alone, unpadded, in text order: the reference the batched loop must reproduce."""
    rows = []
    for i in range(len(tokens)):
        length = int(tokens.lengths[i])
        ids = torch.from_numpy(tokens.input_ids[i : i + 1, :length].astype(np.int64))
        rows.append(encoder(ids, torch.ones_like(ids)).numpy()[0])
    return np.stack(rows)


@pytest.mark.parametrize("fixture", ["tiny_bert", "tiny_roberta"])
@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_length_sorted_batches_give_the_unsorted_embeddings_in_order(fixture, pooling, request):
    encoder, tokens = encoder_and_tokens(request.getfixturevalue(fixture), varied_texts(), pooling)
    assert len(set(tokens.lengths.tolist())) >= 4  # lengths really differ, so the sort reorders rows
    expected = one_by_one(encoder, tokens)
    for batch_size in (1, 4, 128):
        got = embed_tokens(encoder, tokens, batch_size=batch_size)
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    rows = np.array([30, 2, 17, 2, 0])  # a subset, out of order, with a repeat: returned in that order
    np.testing.assert_allclose(embed_tokens(encoder, tokens, rows, batch_size=2), expected[rows], rtol=1e-4, atol=1e-5)


def test_batches_are_length_sorted_and_cover_every_row_once():
    lengths = np.array([5, 1, 9, 1, 3, 9, 2])
    batches = length_sorted_batches(lengths, 3)
    assert [len(b) for b in batches] == [3, 3, 1]
    assert sorted(np.concatenate(batches).tolist()) == list(range(7))
    assert [b.tolist() for b in batches] == [[1, 3, 6], [4, 0, 2], [5]]  # stable: ties keep their order
    widths = [int(lengths[b].max()) for b in batches]  # what each batch is padded to
    assert widths == [2, 9, 9] and sum(w * len(b) for w, b in zip(widths, batches, strict=True)) == 42
    assert 9 * len(lengths) == 63  # padding every batch to the longest row: 63 token slots


@pytest.mark.parametrize("fixture", ["tiny_bert", "tiny_roberta"])
def test_bf16_embeddings_agree_with_fp32(fixture, request):
    encoder, tokens = encoder_and_tokens(request.getfixturevalue(fixture), varied_texts())
    fp32 = embed_tokens(encoder, tokens, precision="fp32")
    bf16 = embed_tokens(encoder, tokens, precision="bf16")
    assert bf16.dtype == np.float32 and bf16.shape == fp32.shape
    assert not np.array_equal(bf16, fp32)  # autocast really ran in bf16
    cos = np.sum(fp32 * bf16, 1) / (np.linalg.norm(fp32, axis=1) * np.linalg.norm(bf16, axis=1))
    assert float(np.max(1 - cos)) < BF16_COSINE_TOLERANCE


@pytest.mark.parametrize("pays", [True, False])
def test_auto_precision_on_cpu_is_trainings_choice_and_a_bad_one_is_refused(monkeypatch, pays: bool):
    from raysweep.models import precision

    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: pays)
    assert embedding_precision("auto", "cpu") == ("bf16" if pays else "fp32")
    assert embedding_precision("auto", "cpu") == precision.resolve_precision("auto", torch.device("cpu"))
    assert embedding_precision("bf16", "cpu") == "bf16" and embedding_precision("fp32", "cuda") == "fp32"
    with pytest.raises(RaysweepError, match="unknown precision 'fp16'; use one of auto, fp32, bf16"):
        embedding_precision("fp16", "cpu")
