"""The model being retrofitted: pooled encoder + projection head, and its frozen original."""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import nn

from raysweep.config import ModelConfig
from raysweep.models.encoder import PooledEncoder, load_encoder
from raysweep.models.heads import build_head


class RetrofitModel(nn.Module):
    """``forward -> (embedding, projection)``: the encoder's pooled embedding (what is evaluated and
    kept close to the original) and its projection (what SupCon sees)."""

    def __init__(self, encoder: PooledEncoder, head: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = head
        self.encoder_dropout = True
        """False: the encoder stays in eval mode (no dropout) while the model trains."""
        self.clean_embedding = False
        """True: in training, the returned embedding comes from a second, dropout-free pass of the
        encoder (the projection still from the dropout pass), in the same forward call (DDP sees one)."""

    def train(self, mode: bool = True) -> RetrofitModel:
        super().train(mode)
        if mode and not self.encoder_dropout:
            self.encoder.eval()
        return self

    @classmethod
    def from_config(
        cls, cfg: ModelConfig, attn_implementation: str = "sdpa", head: Callable[[int], nn.Module] | None = None
    ) -> RetrofitModel:
        """The configured encoder with ``head(hidden_size)`` on top (default: the projection head)."""
        encoder = PooledEncoder(load_encoder(cfg.name, attn_implementation), cfg.pooling)
        if head is None:
            return cls(encoder, build_head(cfg.head, encoder.hidden_size, cfg.proj_dim))
        return cls(encoder, head(encoder.hidden_size))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.training and self.clean_embedding and self.encoder.training:
            tokens = self.encoder.token_embeddings(input_ids)  # one lookup for both passes: one embedding gradient
            emb = self.encoder(input_ids, attention_mask, tokens)
            self.encoder.eval()
            try:
                clean = self.encoder(input_ids, attention_mask, tokens)
            finally:
                self.encoder.train()
            return clean, self.head(emb)
        emb = self.encoder(input_ids, attention_mask)
        return emb, self.head(emb)


def frozen_copy(encoder: PooledEncoder) -> PooledEncoder:
    """A copy of the original encoder in eval mode with no gradients: the preservation target."""
    frozen = copy.deepcopy(encoder).eval()
    for p in frozen.parameters():
        p.requires_grad_(False)
    return frozen
