"""Pooled sentence embeddings of a whole text set, computed once per (model, text set).

Batches are formed in length order (little padding), run in eval mode without gradients (under bf16
autocast when asked), and written back in the original order as fp32 numpy arrays. Training (dev
metrics, frozen targets) and evaluation (every figure of the suite) embed through here.
"""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np
import torch
from torch import nn

from raysweep.data.tokenized import TokenizedTexts


def autocast(device: torch.device, precision: str):
    """bf16 autocast on the device, or nothing for fp32."""
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return nullcontext()


@torch.inference_mode()
def embed_tokens(
    encoder: nn.Module,
    tokens: TokenizedTexts,
    indices: np.ndarray | None = None,
    batch_size: int = 128,
    device: torch.device | str = "cpu",
    precision: str = "fp32",
) -> np.ndarray:
    """``(len(indices), hidden)`` fp32 embeddings of the given rows (all rows if None).

    ``encoder`` maps ``(input_ids, attention_mask)`` to pooled embeddings (a ``PooledEncoder``).
    """
    device = torch.device(device)
    rows = np.arange(len(tokens)) if indices is None else np.asarray(indices)
    was_training = encoder.training
    encoder.eval()
    out: np.ndarray | None = None
    order = np.argsort(tokens.lengths[rows], kind="stable")
    try:
        for start in range(0, len(order), batch_size):
            pos = order[start : start + batch_size]
            batch = tokens.batch(rows[pos], device)
            with autocast(device, precision):
                emb = encoder(batch["input_ids"], batch["attention_mask"])
            emb = emb.float().cpu().numpy()
            if out is None:
                out = np.empty((len(rows), emb.shape[1]), dtype=np.float32)
            out[pos] = emb
    finally:
        encoder.train(was_training)
    return out if out is not None else np.empty((0, 0), dtype=np.float32)


def embed_texts(model: str, pooling: str, texts: list[str], max_length: int = 128) -> np.ndarray:
    """Pooled fp32 embeddings of ``texts`` by ``model`` (a folder, hub name or alias), tokenised with
    the model's tokenizer (cached), on the GPU when there is one (the suite runs it as a Ray task)."""
    import transformers

    from raysweep.data.tokenized import tokenize
    from raysweep.models.encoder import PooledEncoder, load_encoder, load_tokenizer

    transformers.logging.set_verbosity_error()  # no per-task load reports in the Ray logs
    tokens = tokenize(load_tokenizer(model), texts, max_length)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    encoder = PooledEncoder(load_encoder(model), pooling).to(device)
    return embed_tokens(encoder, tokens, device=device)
