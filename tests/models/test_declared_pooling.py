"""The pooling a sentence-transformers model declares, read from its own files (no hub access)."""

from __future__ import annotations

import json
from pathlib import Path

from raysweep.models.declared_pooling import declared_pooling


def test_the_packaged_minilm_declares_mean_pooling() -> None:
    assert declared_pooling("minilm") == "mean"


def test_a_bare_folder_or_an_unknown_pooling_declares_nothing(tiny_bert: str, tmp_path: Path) -> None:
    assert declared_pooling(tiny_bert) is None
    assert declared_pooling(str(tmp_path / "missing")) is None
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "modules.json").write_text(json.dumps([{"path": "1_Pooling", "type": "x.models.Pooling"}]))
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_max_tokens": True}))
    assert declared_pooling(str(tmp_path)) is None
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True}))
    assert declared_pooling(str(tmp_path)) == "cls"
