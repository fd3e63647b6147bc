"""Length-sorted sub-batches: one encoder forward over a padded batch, with most of its padding cut.

A training batch is padded to its longest text. GoEmotions comments are short with a long tail (MiniLM
tokens: mean 19, 99th percentile 38, a few cut at 128), so a random batch of 64 holds 2.05 times as many
token positions as real tokens, and every position costs the encoder the same. Sorting the batch's rows by
length, splitting them into ``chunks`` groups and trimming each group to its own longest row brings that
to 1.50 (2 chunks), 1.24 (4) or 1.11 (8), measured over 2,000 random batches of the training split.

The result is the same function of the inputs: each row's embedding depends only on its own tokens (the
attention mask hides padding, the pooling skips it), so the rows come back in their original order and
the loss and gradients are those of the padded batch, up to float rounding; dropout draws differ but
follow the same distribution. It is one ``forward`` call, so DDP sees one forward per backward.

Measured on the 2-core Xeon (no AMX, fp32, MiniLM mean pooling, max length 64; the plain loop's whole
step with AdamW, interleaved rounds): 4 groups ran a batch of 64 at 1.55x the padded batch (1.59x with
Emo's dropout-free VSP pass) and a batch of 32 at 1.18x (1.25x); 2, 4 and 8 groups were within noise
of each other at batch 32, 16 groups slower at 64. So ``auto`` takes 4 on CPU; on a GPU, where a batch
of 64 short texts is far from filling the device and every group is another round of kernel launches,
it takes 1 (unmeasured there). The token embeddings are looked up once for the whole batch and sliced
per group (see :func:`chunked_forward`). Written by hand:
transformers' padding-free path needs flash-attention's variable-length kernels (a CUDA package) and
position ids that BERT-likes do not take, and torch's nested tensors do not run through their layers.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

CPU_CHUNKS = 4
"""``auto`` on CPU: the measured best of 1, 2, 4 and 8 for a batch of 64 (see the module docstring)."""
GPU_CHUNKS = 1
"""``auto`` on a GPU: the padded batch as it is."""
MIN_ROWS_PER_CHUNK = 4
"""Smaller groups than this are not made: a batch of 8 runs as 2 groups, a batch of 3 as one."""


def resolve_chunks(setting: int | None, device: torch.device | str) -> int:
    """The group count for ``train.length_chunks``: as set, or (None) :data:`CPU_CHUNKS` on CPU and
    :data:`GPU_CHUNKS` elsewhere."""
    if setting is not None:
        return setting
    return CPU_CHUNKS if torch.device(device).type == "cpu" else GPU_CHUNKS


def length_groups(attention_mask: torch.Tensor, chunks: int) -> list[tuple[torch.Tensor, int]]:
    """``(row indices, width)`` of up to ``chunks`` groups of the batch's rows in length order, each
    width the longest of its rows. A mask that is not right-padded (a real token after a padding one)
    gives one group of every row at the full width: trimming it would drop real tokens."""
    rows, full = attention_mask.shape
    lengths = attention_mask.sum(1)
    groups = max(1, min(chunks, rows // MIN_ROWS_PER_CHUNK))
    positions = torch.arange(full, device=attention_mask.device)
    right_padded = bool(((positions[None, :] < lengths[:, None]) == attention_mask.bool()).all())
    if groups == 1 or not right_padded:
        return [(torch.arange(rows, device=attention_mask.device), full)]
    order = torch.argsort(lengths, stable=True)
    return [(idx, max(1, int(lengths[idx].max()))) for idx in torch.tensor_split(order, groups)]


def chunked_forward(
    fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    inputs: torch.Tensor,
    attention_mask: torch.Tensor,
    chunks: int,
) -> torch.Tensor:
    """``fn(inputs, attention_mask) -> (rows, ...)`` over the batch in length-sorted groups trimmed to
    their own width (:func:`length_groups`), the rows put back in their original order. ``inputs`` are
    token ids ``(rows, width)`` or token embeddings ``(rows, width, hidden)``.

    Give the embeddings, looked up once for the whole batch, where ``fn`` would otherwise look them up
    per group: a token embedding's backward writes a dense vocabulary-sized gradient (30,522 x 384 floats
    for MiniLM), and once per group that cost 75 ms of a 600 ms step (4 groups, batch 32, 2 cores), as
    much as the groups saved in the backward.
    """
    groups = length_groups(attention_mask, chunks) if chunks > 1 else []
    if len(groups) <= 1 and (not groups or groups[0][1] == attention_mask.shape[1]):
        return fn(inputs, attention_mask)
    parts = [fn(inputs[idx, :width], attention_mask[idx, :width]) for idx, width in groups]
    order = torch.cat([idx for idx, _ in groups])
    inverse = torch.empty_like(order)
    inverse[order] = torch.arange(len(order), device=order.device)
    return torch.cat(parts)[inverse]
