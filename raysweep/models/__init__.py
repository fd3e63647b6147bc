"""Models: encoders by name/alias/path with pooling, projection heads, the retrofit model; the
embedding loop (``models.embed``) and the checkpoint format (``models.checkpoint``), which training,
the export and the evaluation all use."""

from raysweep.models.encoder import (
    ALIASES,
    PooledEncoder,
    check_model_exists,
    load_encoder,
    load_tokenizer,
    pool,
    resolve_model_name,
)
from raysweep.models.heads import build_head
from raysweep.models.retrofit import RetrofitModel, frozen_copy

__all__ = [
    "ALIASES",
    "PooledEncoder",
    "RetrofitModel",
    "build_head",
    "check_model_exists",
    "frozen_copy",
    "load_encoder",
    "load_tokenizer",
    "pool",
    "resolve_model_name",
]
