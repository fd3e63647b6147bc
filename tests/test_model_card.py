"""Model cards as the hub reads them: loaded back with ``huggingface_hub``'s model-card classes, with the
base model's hub id, the study's figures in ``model-index`` and the body's sections. No hub access."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from huggingface_hub import ModelCard

from raysweep.config import ModelConfig, RetrofitConfig
from raysweep.errors import RaysweepError
from raysweep.export import export_checkpoint
from raysweep.model_card import model_card, rewrite_model_card
from raysweep.models import RetrofitModel
from raysweep.models.checkpoint import save_checkpoint
from raysweep.models.encoder import HUB_IDS, hub_id

COMPARISON = {
    "metrics": {
        "ami": (0.31, 0.12, "*"),
        "p_at_1": (0.52, 0.41, ""),
        "delta_emb": (0.08, 0.0, "*"),
        "sst2_probe_f1": (0.80, 0.81, ""),
        "mrr": (math.nan, 0.3, ""),
    },
    "test": "paired bootstrap over evaluation examples with training seeds as a second level",
    "legend": "`*`: p < 0.05 after Holm's correction",
    "method": "Emo",
    "seeds": 3,
}


def results(card: ModelCard) -> dict[str, tuple[float, str]]:
    return {r.metric_type: (r.metric_value, r.dataset_split) for r in card.data.eval_results or []}


def test_card_of_the_minilm_alias_names_the_hub_model_and_the_figures() -> None:
    assert HUB_IDS["minilm"] == "sentence-transformers/all-MiniLM-L6-v2"
    cfg = RetrofitConfig(model=ModelConfig(name="minilm", pooling="cls")).validate()
    card = ModelCard(model_card(cfg, {"dev_p_at_1": 0.5, "dev_ami": 0.2}, COMPARISON))
    data = card.data
    assert data.base_model == "sentence-transformers/all-MiniLM-L6-v2"
    assert data.library_name == "sentence-transformers" and data.pipeline_tag == "sentence-similarity"
    assert data.datasets == ["google-research-datasets/go_emotions"] and "emotion" in data.tags
    got = results(card)
    assert got["ami"] == (0.31, "test") and got["p_at_1"] == (0.52, "test") and got["delta_emb"] == (0.08, "test")
    assert got["sst2_probe_f1"] == (0.8, "test") and "mrr" not in got  # a figure not measured stays out
    emotion = next(r for r in data.eval_results if r.metric_type == "ami")
    assert emotion.dataset_type == "google-research-datasets/go_emotions" and emotion.dataset_config == "simplified"
    body = card.text
    assert "from sentence_transformers import SentenceTransformer" in body
    assert "from transformers import AutoModel, AutoTokenizer" in body and "hidden[:, 0]" in body
    assert "| AMI (k-means clusters vs emotions) | 0.3100 | 0.1200 | +0.1900 | * |" in body
    assert "| MRR (same-emotion retrieval) | – | 0.3000 | – |  |" in body
    assert COMPARISON["test"] in body and COMPARISON["legend"] in body and "`Emo` in the study" in body
    assert "means over 3 training seeds" in body
    assert "English Reddit comments" in body and "## Limitations" in body and "## Data" in body
    assert "| λ (VSP weight) | 1 |" in body and "| p_at_1 | 0.5000 |" in body


def test_card_without_figures_has_no_model_index_and_shows_mean_pooling() -> None:
    cfg = RetrofitConfig(model=ModelConfig(name="roberta-base", pooling="mean")).validate()
    card = ModelCard(model_card(cfg, {"dev_ami": 0.2}, repo_id="me/emo-roberta"))
    assert card.data.base_model == "roberta-base" and not card.data.eval_results
    assert "model-index" not in str(card) and "## Test figures" not in card.text
    assert 'SentenceTransformer("me/emo-roberta")' in card.text and "mask.sum(1)" in card.text
    assert "optimistic" in card.text


def test_hub_id_of_aliases_hub_names_and_local_folders(tiny_bert, tmp_path) -> None:
    assert hub_id("minilm") == "sentence-transformers/all-MiniLM-L6-v2"
    assert hub_id("FacebookAI/roberta-base") == "FacebookAI/roberta-base" and hub_id("bert-base-uncased")
    assert hub_id(tiny_bert) is None  # a local folder that names no hub model
    origin = tmp_path / "from-hub"
    origin.mkdir()
    (origin / "config.json").write_text(json.dumps({"_name_or_path": "google-bert/bert-base-uncased"}))
    assert hub_id(str(origin)) == "google-bert/bert-base-uncased"
    (origin / "config.json").write_text(json.dumps({"_name_or_path": str(tmp_path)}))
    assert hub_id(str(origin)) is None  # a recorded path is no hub id
    exported = tmp_path / "export"
    exported.mkdir()
    (exported / "raysweep.json").write_text(json.dumps({"config": {"model": {"name": "minilm"}}}))
    assert hub_id(str(exported)) == "sentence-transformers/all-MiniLM-L6-v2"  # followed to what it was made from


def test_export_writes_a_hub_card_and_the_study_rewrites_it(tiny_bert, tmp_path) -> None:
    cfg = RetrofitConfig(model=ModelConfig(name=tiny_bert)).validate()
    model = RetrofitModel.from_config(cfg.model)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.01)
    save_checkpoint(tmp_path / "ckpt", model, None, None, 3, cfg.to_dict(), {"dev_p_at_1": 0.5})
    out = export_checkpoint(tmp_path / "ckpt", tmp_path / "model")
    card = ModelCard.load(out / "README.md")
    assert card.data.base_model is None and not card.data.eval_results  # a local model: no base_model
    assert "| head | bias 64, weight 64×32 |" in card.text
    rewrite_model_card(out, COMPARISON)
    card = ModelCard.load(out / "README.md")
    assert results(card)["ami"] == (0.31, "test") and "## Test figures" in card.text
    assert "| p_at_1 | 0.5000 |" in card.text and "| head | bias 64, weight 64×32 |" in card.text
    assert not list(out.glob(".README.md.*"))  # written atomically, nothing left behind


def test_bad_comparisons_and_folders_are_refused(tmp_path) -> None:
    cfg = RetrofitConfig().validate()
    with pytest.raises(RaysweepError, match="model card comparison"):
        model_card(cfg, {}, {"metrics": {"ami": (0.3, 0.1)}, "test": "t"})
    with pytest.raises(RaysweepError, match="model card comparison"):
        model_card(cfg, {}, {"metrics": {"ami": (0.3, 0.1, "")}})
    with pytest.raises(RaysweepError, match="not a model exported by raysweep"):
        rewrite_model_card(tmp_path, COMPARISON)


def test_the_card_names_no_path_of_this_machine(tiny_bert) -> None:
    """The body names the model by hub id or folder name only; a local base stays a folder name."""
    cfg = RetrofitConfig(model=ModelConfig(name=tiny_bert)).validate()
    text = model_card(cfg, {})
    assert f"# {Path(tiny_bert).name} retrofitted" in text and tiny_bert not in text
