"""Export a retrofitted encoder in Hugging Face and sentence-transformers format, with its tokenizer
and a model card.

``AutoModel.from_pretrained(folder)`` loads the retrofitted encoder, and ``SentenceTransformer(folder)``
the encoder with the pooling it was retrofitted for (:mod:`raysweep.models.sentence_format`); the head
is kept beside it (``head.safetensors``: the projection or classifier) for anyone who wants it too,
``raysweep.json`` records the full config and the metrics, and ``README.md`` is the model card
(:mod:`raysweep.model_card`). The folder is written atomically.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from safetensors.torch import load_file, save_file

from raysweep import __version__, atomic
from raysweep.config import RetrofitConfig
from raysweep.model_card import method_name, model_card
from raysweep.models.checkpoint import WEIGHTS, load_config, load_metrics
from raysweep.models.encoder import PooledEncoder, load_encoder, load_tokenizer
from raysweep.models.sentence_format import write_sentence_format

__all__ = ["export_checkpoint", "method_name", "model_card"]


def export_checkpoint(
    checkpoint_dir: str | Path, out_dir: str | Path, extra: dict[str, Any] | None = None, overwrite: bool = False
) -> Path:
    """Turn a raysweep training checkpoint into a model folder at ``out_dir`` that ``AutoModel`` and
    ``SentenceTransformer`` load (the latter in the run's pooling).

    ``out_dir`` is replaced whole; an existing folder that raysweep did not make is refused unless
    ``overwrite`` (see :func:`raysweep.atomic.check_replaceable`).
    """
    raw = load_config(checkpoint_dir)
    cfg = RetrofitConfig.from_dict(raw)
    metrics = load_metrics(checkpoint_dir)
    weights = load_file(str(Path(checkpoint_dir) / WEIGHTS))
    encoder = PooledEncoder(load_encoder(cfg.model.name), cfg.model.pooling)
    encoder.load_state_dict({k[len("encoder.") :]: v for k, v in weights.items() if k.startswith("encoder.")})
    head = {k[len("head.") :]: v.contiguous() for k, v in weights.items() if k.startswith("head.")}
    tokenizer = load_tokenizer(cfg.model.name)
    out_dir = atomic.check_replaceable(out_dir, overwrite)
    with atomic.directory(out_dir, overwrite) as tmp:
        encoder.encoder.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        write_sentence_format(tmp, cfg.model.pooling, cfg.data.max_length, encoder.hidden_size)
        save_file(head, str(tmp / "head.safetensors"))
        record = {"raysweep_version": __version__, "config": raw, "metrics": metrics, **(extra or {})}
        (tmp / atomic.MARKER).write_text(json.dumps(record, indent=2))
        shapes = {k: tuple(v.shape) for k, v in head.items()}
        (tmp / "README.md").write_text(model_card(cfg, metrics, head_shapes=shapes))
    return out_dir
