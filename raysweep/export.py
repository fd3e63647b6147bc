"""Export a retrofitted encoder in Hugging Face format, with its tokenizer and a model card.

``AutoModel.from_pretrained(folder)`` then loads the retrofitted encoder; the projection head is
kept beside it (``head.safetensors``: the projection or classifier) for anyone who wants it too, and
``raysweep.json`` records the full config and the metrics. The folder is written atomically.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from safetensors.torch import load_file, save_file

from raysweep import __version__, atomic
from raysweep.config import RetrofitConfig
from raysweep.models.checkpoint import WEIGHTS, load_config, load_metrics
from raysweep.models.encoder import PooledEncoder, load_encoder, load_tokenizer
from raysweep.train.objectives import OBJECTIVES


def export_checkpoint(
    checkpoint_dir: str | Path, out_dir: str | Path, extra: dict[str, Any] | None = None, overwrite: bool = False
) -> Path:
    """Turn a raysweep training checkpoint into a loadable HF model folder at ``out_dir``.

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
        save_file(head, str(tmp / "head.safetensors"))
        record = {"raysweep_version": __version__, "config": raw, "metrics": metrics, **(extra or {})}
        (tmp / atomic.MARKER).write_text(json.dumps(record, indent=2))
        (tmp / "README.md").write_text(model_card(cfg, metrics))
    return out_dir


def method_name(objective: str) -> str:
    """What the model card says ``objective`` trained: the registered objective's ``card_name``."""
    cls = OBJECTIVES.get(objective)
    return cls.card_name if cls is not None else objective


def model_card(cfg: RetrofitConfig, metrics: dict[str, Any]) -> str:
    loss, s, t = cfg.loss, cfg.sampler, cfg.train
    rows = "\n".join(
        f"| {k} | {v:.4f} |" for k, v in sorted(metrics.items()) if k.startswith("dev_") and isinstance(v, float)
    )
    return f"""---
library_name: transformers
base_model: {cfg.model.name}
tags: [emotion, supervised-contrastive-learning, retrofitting, raysweep]
datasets: [google-research-datasets/go_emotions]
---

# {Path(cfg.model.name).name} retrofitted for emotions

Retrofitted with raysweep {__version__}: {method_name(loss.objective)}.
Sentence embedding: `{cfg.model.pooling}` pooling of the encoder's last hidden state
({"the first token" if cfg.model.pooling == "cls" else "mean over real tokens"}).

```python
from transformers import AutoModel, AutoTokenizer
model = AutoModel.from_pretrained("PATH"); tokenizer = AutoTokenizer.from_pretrained("PATH")
```

## Training

| setting | value |
|---|---|
| objective | {loss.objective} |
| λ (VSP weight) | {loss.lam:g} |
| τ (temperature) | {loss.tau:g} |
| head | {cfg.model.head} → {cfg.model.proj_dim}-d |
| sampler | {s.kind} (m={s.m}, global batch {s.batch_size}) |
| learning rate | {t.lr:g} |
| epochs / max steps | {t.epochs} / {t.max_steps} |
| workers | {t.num_workers} |
| seed | {t.seed} |
| data | GoEmotions single-label{" without neutral" if cfg.data.drop_neutral else ""}, limit {cfg.data.train_limit} |

## Dev metrics (GoEmotions dev split, encoder embedding)

| metric | value |
|---|---|
{rows}
"""
