"""``plm``: the pre-trained language model, untouched, saved as a model folder the suite scores."""

from __future__ import annotations

import json
from pathlib import Path

from raysweep import __version__, atomic
from raysweep.methods.method import RunContext


def plm(model: str, out: str | Path, pooling: str = "cls", overwrite: bool = False) -> Path:
    """Save ``model``'s encoder and tokenizer to ``out`` with a ``raysweep.json`` naming it the base."""
    from raysweep.models.encoder import check_model_exists, load_encoder, load_tokenizer
    from raysweep.models.sentence_format import write_sentence_format

    out = atomic.check_replaceable(out, overwrite)
    check_model_exists(model)
    with atomic.directory(out, overwrite) as tmp:
        load_encoder(model).save_pretrained(tmp)
        load_tokenizer(model).save_pretrained(tmp)
        write_sentence_format(tmp, pooling)
        record = {
            "raysweep_version": __version__,
            "baseline": "plm",
            "config": {"model": {"name": model, "pooling": pooling}},
        }
        (tmp / atomic.MARKER).write_text(json.dumps(record, indent=2))
    return out


def run(ctx: RunContext) -> Path:
    """The method record's ``run``: the run's model in the run's pooling (``plm:POOLING`` sets it)."""
    return plm(ctx.cfg.model.name, ctx.out, pooling=ctx.cfg.model.pooling)
