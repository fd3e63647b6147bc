"""Pooled sentence embeddings of a whole text set, computed once per (model, text set).

Batches are formed in length order and each is trimmed to its own longest row (dynamic padding: a
batch of short texts pays for short texts only), run in eval mode without gradients (under bf16
autocast when asked), and written back in the original order as fp32 numpy arrays. Training (dev
metrics, frozen targets) and evaluation (every figure of the suite) embed through here.

Precision (:func:`embedding_precision`): ``auto`` is bf16 on a CUDA device that supports it and, on CPU,
what training's ``auto`` takes there (:func:`raysweep.models.precision.cpu_has_bf16`: bf16 only where the
CPU flags allow it and a measured matmul chain runs at least 1.2x faster, measured once per node). On a CPU
without bf16 matrix units (AVX2 only) bf16 autocast embedded MiniLM at 0.14x fp32; on an AMD EPYC with
AVX512-BF16 at 1.67x (``bench/eval_throughput.py``, median of 3 alternating rounds of 1,024 GoEmotions
texts, 2 cores, 2026-12-08, ``bench/results/eval_throughput.json``). bf16 embeddings agree with fp32 ones
within the tolerances ``tests/models/test_embed.py`` and ``tests/evaluation/test_precision.py`` state (a
text's two embeddings within 1e-3 cosine distance; MiniLM measured 2e-5).
"""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np
import torch
from torch import nn

from raysweep.config import PRECISIONS
from raysweep.data.tokenized import TokenizedTexts
from raysweep.errors import RaysweepError
from raysweep.models.precision import resolve_precision


def embedding_precision(requested: str, device: torch.device | str) -> str:
    """The precision an embedding runs in: ``fp32`` or ``bf16`` as asked; ``auto``: bf16 on a CUDA
    device that supports it, and on a CPU where bf16 is measured faster (see the module doc), else fp32:
    the choice training's ``auto`` makes on the same device."""
    if requested not in PRECISIONS:
        raise RaysweepError(f"unknown precision {requested!r}; use one of {', '.join(PRECISIONS)}")
    return resolve_precision(requested, torch.device(device))


def autocast(device: torch.device, precision: str):
    """bf16 autocast on the device, or nothing for fp32."""
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return nullcontext()


def length_sorted_batches(lengths: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Positions ``0 .. len(lengths) - 1`` in batches of ``batch_size`` in length order (stable: equal
    lengths keep their order), so each batch pads to little more than its own rows."""
    order = np.argsort(np.asarray(lengths), kind="stable")
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


@torch.inference_mode()
def embed_tokens(
    encoder: nn.Module,
    tokens: TokenizedTexts,
    indices: np.ndarray | None = None,
    batch_size: int = 128,
    device: torch.device | str = "cpu",
    precision: str = "fp32",
) -> np.ndarray:
    """``(len(indices), hidden)`` fp32 embeddings of the given rows (all rows if None), in their order.

    ``encoder`` maps ``(input_ids, attention_mask)`` to pooled embeddings (a ``PooledEncoder``).
    ``precision`` is ``fp32`` or ``bf16`` (autocast; the output is fp32 either way).
    """
    device = torch.device(device)
    rows = np.arange(len(tokens)) if indices is None else np.asarray(indices)
    was_training = encoder.training
    encoder.eval()
    out: np.ndarray | None = None
    try:
        for pos in length_sorted_batches(tokens.lengths[rows], batch_size):
            batch = tokens.batch(rows[pos], device)  # trimmed to this batch's longest row
            with autocast(device, precision):
                emb = encoder(batch["input_ids"], batch["attention_mask"])
            emb = emb.float().cpu().numpy()
            if out is None:
                out = np.empty((len(rows), emb.shape[1]), dtype=np.float32)
            out[pos] = emb
    finally:
        encoder.train(was_training)
    return out if out is not None else np.empty((0, 0), dtype=np.float32)


def embed_texts(
    model: str, pooling: str, texts: list[str], max_length: int = 128, precision: str = "auto"
) -> np.ndarray:
    """Pooled fp32 embeddings of ``texts`` by ``model`` (a folder, hub name or alias), tokenised with
    the model's tokenizer (cached), on the GPU when there is one (the suite runs it as a Ray task), in
    ``precision`` (:func:`embedding_precision`)."""
    import transformers

    from raysweep.data.tokenized import tokenize
    from raysweep.models.encoder import PooledEncoder, load_encoder, load_tokenizer

    transformers.logging.set_verbosity_error()  # no per-task load reports in the Ray logs
    tokens = tokenize(load_tokenizer(model), texts, max_length)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    encoder = PooledEncoder(load_encoder(model), pooling).to(device)
    return embed_tokens(encoder, tokens, device=device, precision=embedding_precision(precision, device))
