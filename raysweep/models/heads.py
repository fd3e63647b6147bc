"""Projection heads: the encoder embedding -> a small space (64-d) where SupCon is computed."""

from __future__ import annotations

from torch import nn

from raysweep.errors import RaysweepError


def build_head(kind: str, in_dim: int, out_dim: int = 64) -> nn.Module:
    """``linear``: one affine map. ``mlp``: Linear(d, d) -> ReLU -> Linear(d, out) (SimCLR/SupCon style)."""
    if kind == "linear":
        return nn.Linear(in_dim, out_dim)
    if kind == "mlp":
        return nn.Sequential(nn.Linear(in_dim, in_dim), nn.ReLU(), nn.Linear(in_dim, out_dim))
    raise RaysweepError(f"unknown head {kind!r}; use linear or mlp")
