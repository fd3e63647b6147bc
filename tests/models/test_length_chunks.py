"""Length-sorted sub-batches: the groups a batch is cut into, and that the encoder's embeddings and
gradients through them are the padded batch's, in the input order (tiny random BERT and RoBERTa)."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from conftest import make_text

from raysweep.data.tokenized import tokenize
from raysweep.models.encoder import PooledEncoder, load_encoder, load_tokenizer
from raysweep.models.length_chunks import CPU_CHUNKS, GPU_CHUNKS, chunked_forward, length_groups, resolve_chunks


def right_padded(lengths: list[int], width: int | None = None) -> torch.Tensor:
    width = width or max(lengths)
    return (torch.arange(width)[None, :] < torch.tensor(lengths)[:, None]).long()


def test_groups_are_length_sorted_and_trimmed_to_their_longest_row():
    lengths = [9, 2, 30, 5, 2, 11, 7, 3]
    groups = length_groups(right_padded(lengths, 40), chunks=2)
    assert [idx.tolist() for idx, _ in groups] == [[1, 4, 7, 3], [6, 0, 5, 2]]
    assert [w for _, w in groups] == [5, 30]


def test_small_batches_make_fewer_groups_and_other_padding_is_left_whole():
    assert len(length_groups(right_padded([3] * 8), chunks=4)) == 2  # at least 4 rows a group
    assert len(length_groups(right_padded([3, 2, 1]), chunks=4)) == 1
    left = right_padded([4, 2, 3, 1] * 2).flip(1)  # left padding: trimming the end would cut real tokens
    ((idx, width),) = length_groups(left, chunks=4)
    assert idx.tolist() == list(range(8)) and width == 4


def test_auto_is_four_groups_on_cpu_and_the_padded_batch_on_a_gpu():
    assert (resolve_chunks(None, "cpu"), resolve_chunks(None, "cuda")) == (CPU_CHUNKS, GPU_CHUNKS) == (4, 1)
    assert resolve_chunks(2, "cuda") == 2


def test_rows_come_back_in_their_order():
    lengths = [6, 1, 4, 8, 2, 7, 3, 5]
    ids = torch.arange(8)[:, None] * 100 + torch.arange(8)[None, :]
    mask = right_padded(lengths)
    out = chunked_forward(lambda i, m: torch.stack([i[:, 0], torch.full((len(i),), i.shape[1])], 1), ids, mask, 2)
    assert out[:, 0].tolist() == [r * 100 for r in range(8)]
    assert out[:, 1].tolist() == [8, 4, 4, 8, 4, 8, 4, 8]  # each row ran at its own group's width


def varied_batch(model: str, n: int = 24):
    rng = random.Random(1)
    texts = [" ".join(make_text(rng, i % 6) for _ in range(rng.randint(1, 5))) for i in range(n)]
    tokens = tokenize(load_tokenizer(model), texts, max_length=64)
    assert tokens.lengths.max() > 2 * tokens.lengths.min()  # real padding to cut
    return tokens.batch(np.arange(n))


@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_embeddings_and_gradients_match_the_padded_batch(tiny_model, pooling):
    batch = varied_batch(tiny_model)
    torch.manual_seed(0)
    encoder = PooledEncoder(load_encoder(tiny_model), pooling).eval()  # no dropout: the same function
    weights = torch.randn(len(batch["input_ids"]), encoder.hidden_size)

    def run(chunks: int) -> tuple[torch.Tensor, list[torch.Tensor]]:
        encoder.chunks = chunks
        encoder.zero_grad(set_to_none=True)
        emb = encoder(batch["input_ids"], batch["attention_mask"])
        (emb * weights).sum().backward()
        return emb.detach(), [p.grad.clone() for p in encoder.parameters() if p.grad is not None]

    padded, padded_grads = run(1)
    for chunks in (2, 4, 6):
        emb, grads = run(chunks)
        torch.testing.assert_close(emb, padded, atol=1e-5, rtol=1e-4)
        assert len(grads) == len(padded_grads)
        for g, ref in zip(grads, padded_grads, strict=True):
            torch.testing.assert_close(g, ref, atol=1e-5, rtol=1e-3)


def test_the_token_embeddings_are_looked_up_once_per_batch(tiny_bert):
    from raysweep.models.heads import build_head
    from raysweep.models.retrofit import RetrofitModel

    batch = varied_batch(tiny_bert)
    encoder = PooledEncoder(load_encoder(tiny_bert), "mean", chunks=4)
    model = RetrofitModel(encoder, build_head("linear", encoder.hidden_size, 8)).train()
    lookups: list[int] = []
    encoder.encoder.get_input_embeddings().register_forward_hook(lambda m, args, out: lookups.append(len(out)))
    model(batch["input_ids"], batch["attention_mask"])
    assert lookups == [24]  # 4 groups: one lookup (one dense embedding gradient), not one per group
    model.clean_embedding = True  # Emo's dropout-free VSP pass shares it too
    lookups.clear()
    model(batch["input_ids"], batch["attention_mask"])
    assert lookups == [24]
