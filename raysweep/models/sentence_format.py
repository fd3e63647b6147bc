"""The sentence-transformers files of a model folder, so ``SentenceTransformer(folder)`` pools as raysweep does.

A folder holding only a Hugging Face model loads in sentence-transformers too, but silently with mean
pooling; a model retrofitted on ``[CLS]`` then embeds differently from what it was trained and scored
on. :func:`write_sentence_format` adds the files sentence-transformers reads for its module list and
pooling, beside the HF files it leaves as they are:

* ``modules.json``: the Transformer (the HF model in the folder's root) then Pooling (``1_Pooling``);
  no Normalize, because raysweep's embeddings are not normalised (cosine similarity is the same);
* ``sentence_bert_config.json``: ``max_seq_length`` (raysweep's truncation) and ``do_lower_case``;
* ``1_Pooling/config.json``: the width and one ``pooling_mode_*`` flag (``cls_token`` or ``mean_tokens``);
* ``config_sentence_transformers.json``: cosine similarity and the library versions that wrote it.

The files are written here, not by sentence-transformers' own ``save``: that package is only a test
dependency (training and the export run without it), its ``Transformer.save`` re-saves the weights
(BERT's gaining a freshly initialised pooler), and its 6.x writer uses a layout (module paths under
``sentence_transformers.base``, ``pooling_mode``/``embedding_dimension`` keys) that releases before 6
cannot read. This is the layout the hub's sentence-transformers models carry (all-MiniLM-L6-v2's, written
by 2.0), which later releases keep reading; ``tests/models/test_sentence_format.py`` compares it with the
packaged MiniLM's, loads it with the installed release and checks the vectors against
:class:`~raysweep.models.encoder.PooledEncoder`.
"""

from __future__ import annotations

import json
from pathlib import Path

from raysweep.config import POOLINGS, DataConfig
from raysweep.errors import RaysweepError

MODULES = "modules.json"
TRANSFORMER_CONFIG = "sentence_bert_config.json"
POOLING_DIR = "1_Pooling"
MODEL_CONFIG = "config_sentence_transformers.json"

POOLING_FLAGS = {"cls": "pooling_mode_cls_token", "mean": "pooling_mode_mean_tokens"}
"""raysweep's pooling -> the ``1_Pooling/config.json`` flag that selects it."""
_OTHER_FLAGS = ("pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens")
assert set(POOLING_FLAGS) == set(POOLINGS), "every raysweep pooling needs its sentence-transformers flag"


def write_sentence_format(
    folder: str | Path, pooling: str, max_seq_length: int = DataConfig.max_length, hidden_size: int | None = None
) -> list[Path]:
    """Write the sentence-transformers files into ``folder`` (an HF model folder) and return them.

    ``pooling`` is raysweep's (``cls`` or ``mean``); ``max_seq_length`` the token limit texts are cut
    to (the training run's ``data.max_length``); ``hidden_size`` the embedding width, read from the
    folder's ``config.json`` when not given.
    """
    folder = Path(folder)
    if pooling not in POOLING_FLAGS:
        raise RaysweepError(f"unknown pooling {pooling!r}; use one of {', '.join(POOLING_FLAGS)}")
    width = hidden_size if hidden_size is not None else _hidden_size(folder)
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": POOLING_DIR, "type": "sentence_transformers.models.Pooling"},
    ]
    flags = {flag: flag == POOLING_FLAGS[pooling] for flag in (*POOLING_FLAGS.values(), *_OTHER_FLAGS)}
    files = {
        MODULES: modules,
        TRANSFORMER_CONFIG: {"max_seq_length": int(max_seq_length), "do_lower_case": False},
        f"{POOLING_DIR}/config.json": {"word_embedding_dimension": int(width), **flags},
        MODEL_CONFIG: {
            "__version__": _versions(),
            "prompts": {},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    }
    written = []
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content, indent=2) + "\n")
        written.append(path)
    return written


def read_pooling(folder: str | Path) -> str | None:
    """The raysweep pooling a folder's ``1_Pooling/config.json`` selects; None without one (or another mode)."""
    path = Path(folder) / POOLING_DIR / "config.json"
    if not path.is_file():
        return None
    config = json.loads(path.read_text())
    chosen = [pooling for pooling, flag in POOLING_FLAGS.items() if config.get(flag)]
    if config.get("pooling_mode") in POOLING_FLAGS:  # the 6.x layout names the mode itself
        chosen = [config["pooling_mode"]]
    return chosen[0] if len(chosen) == 1 else None


def _hidden_size(folder: Path) -> int:
    try:
        return int(json.loads((folder / "config.json").read_text())["hidden_size"])
    except (OSError, ValueError, KeyError, TypeError):
        raise RaysweepError(f"{folder}: no config.json with a hidden_size; write the HF model first") from None


def _versions() -> dict[str, str]:
    """The versions of the libraries the folder was written with (sentence-transformers reads none of them
    back but its own, which is left out: it warns when that one is newer than the installed release)."""
    import torch
    import transformers

    return {"transformers": transformers.__version__, "pytorch": torch.__version__}
