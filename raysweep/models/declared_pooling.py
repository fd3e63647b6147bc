"""The pooling a model declares for itself: a sentence-transformers model says in its own files
(``modules.json`` and ``1_Pooling/config.json``) how it was trained to be read out, so a study can
score the plain model (PLM) in that pooling too, beside the pooling the method uses."""

from __future__ import annotations

import json
from pathlib import Path

from raysweep.errors import RaysweepError
from raysweep.models.encoder import resolve_model_name

MODES = {"pooling_mode_cls_token": "cls", "pooling_mode_mean_tokens": "mean"}
"""sentence-transformers' pooling flags -> raysweep's pooling names (others have no raysweep pooling)."""


def declared_pooling(model: str) -> str | None:
    """``cls`` or ``mean`` when ``model`` (a folder, alias, or hub name already in the local cache) is a
    sentence-transformers model whose pooling raysweep has; None otherwise (no files, another pooling)."""
    try:
        folder = Path(resolve_model_name(model))
    except RaysweepError:  # not loadable as a model here (the declaration may still be readable)
        folder = Path(model).expanduser()
    if not folder.is_dir():
        folder = _cached(model)
        if folder is None:
            return None
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        pooling_dir = next(m["path"] for m in modules if m.get("type", "").endswith("Pooling"))
        flags = json.loads((folder / pooling_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, StopIteration, KeyError, TypeError):
        return None
    chosen = [name for flag, name in MODES.items() if flags.get(flag)]
    others = [k for k, v in flags.items() if k.startswith("pooling_mode") and v and k not in MODES]
    return chosen[0] if len(chosen) == 1 and not others else None


def _cached(name: str) -> Path | None:
    """The local hub-cache snapshot of ``name``, if it has ``modules.json`` (never downloads)."""
    try:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(name, "modules.json")
    except Exception:  # no hub library or a malformed name: nothing declared
        return None
    return Path(found).parent if isinstance(found, str) else None
