from __future__ import annotations

import json
from pathlib import Path

import torch
from transformers import AutoModel

from raysweep.config import ModelConfig, RetrofitConfig
from raysweep.export import export_checkpoint
from raysweep.models import RetrofitModel
from raysweep.models.checkpoint import save_checkpoint
from raysweep.models.sentence_format import read_pooling


def test_exported_model_loads_with_automodel(tiny_model: str, tmp_path: Path) -> None:
    cfg = RetrofitConfig(model=ModelConfig(name=tiny_model)).validate()
    model = RetrofitModel.from_config(cfg.model)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.01)
    save_checkpoint(tmp_path / "ckpt", model, None, None, 7, cfg.to_dict(), {"dev_p_at_1": 0.5})
    out = export_checkpoint(tmp_path / "ckpt", tmp_path / "model")
    loaded = AutoModel.from_pretrained(out).eval()
    ids = torch.tensor([[0, 5, 6, 7]])
    mask = torch.ones_like(ids)
    expected = model.eval().encoder(ids, mask)
    assert torch.allclose(loaded(input_ids=ids, attention_mask=mask).last_hidden_state[:, 0], expected, atol=1e-5)
    card = (out / "README.md").read_text()
    assert "λ (VSP weight) | 1" in card and "p_at_1 | 0.5000" in card
    assert json.loads((out / "raysweep.json").read_text())["config"]["loss"]["tau"] == 0.1
    assert read_pooling(out) == "cls" and (out / "modules.json").is_file()  # sentence-transformers format too
    assert (out / "head.safetensors").is_file()
    assert not list(tmp_path.glob(".model.*"))  # no temporary folder left behind


def test_export_refuses_a_folder_it_did_not_make(tiny_model: str, tmp_path: Path) -> None:
    import pytest

    from raysweep.errors import RaysweepError

    cfg = RetrofitConfig(model=ModelConfig(name=tiny_model)).validate()
    save_checkpoint(tmp_path / "ckpt", RetrofitModel.from_config(cfg.model), None, None, 1, cfg.to_dict(), {})
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("keep")
    with pytest.raises(RaysweepError, match="did not make"):
        export_checkpoint(tmp_path / "ckpt", mine)
    assert [p.name for p in mine.iterdir()] == ["thesis.tex"]
    out = export_checkpoint(tmp_path / "ckpt", tmp_path / "model")
    assert export_checkpoint(tmp_path / "ckpt", out) == out  # its own folder: replaced
    export_checkpoint(tmp_path / "ckpt", mine, overwrite=True)
    assert (mine / "raysweep.json").is_file() and not (mine / "thesis.tex").exists()
