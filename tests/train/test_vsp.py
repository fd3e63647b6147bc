"""A sound VSP: its embedding has the dropout its targets have (none), so VSP is 0 at step 0 in
training mode; normalised VSP is scale-free; SCL (λ = 0) trains with the same dropout as Emo."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from raysweep.config import RetrofitConfig
from raysweep.losses.supcon_vsp import SupConVSPLoss
from raysweep.models.retrofit import RetrofitModel
from raysweep.train.data import prepare_training_data
from raysweep.train.objectives import StepContext, build_objective


@pytest.fixture(scope="module")
def dropout_bert(tiny_bert: str, tmp_path_factory) -> str:
    """The tiny BERT with BERT's own dropout (0.1): the fixture model has none."""
    folder = tmp_path_factory.mktemp("dropout-bert")
    shutil.copytree(tiny_bert, folder, dirs_exist_ok=True)
    cfg = json.loads((folder / "config.json").read_text())
    cfg.update(hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)
    (folder / "config.json").write_text(json.dumps(cfg))
    return str(folder)


def config(model: str, data_dir: Path, mode: str, lam: float = 1.0) -> RetrofitConfig:
    return RetrofitConfig.from_dict(
        {
            "data": {"data_dir": str(data_dir), "max_length": 16},
            "model": {"name": model, "pooling": "mean"},
            "loss": {"lam": lam, "tau": 0.1, "vsp_dropout": mode, "vsp_normalize": False},
            "sampler": {"kind": "mperclass", "m": 4, "batch_size": 24},
            "train": {"precision": "fp32"},
        }
    )


def step_zero_vsp(cfg: RetrofitConfig) -> tuple[float, RetrofitModel]:
    data = prepare_training_data(cfg, device="cpu")
    objective = build_objective(cfg, data)
    torch.manual_seed(0)
    model = RetrofitModel.from_config(cfg.model, head=objective.build_head)
    ctx = StepContext(device=torch.device("cpu"), precision="fp32", rank=0, world=1, seed=0)
    objective.setup(model, ctx)
    model.train()  # what the worker does before its first step
    terms = objective.loss(model, np.arange(24), ctx)
    terms.total.backward()
    return float(terms.parts["vsp"]), model


@pytest.mark.parametrize("mode", ["off", "pass"])
def test_vsp_is_zero_at_step_zero_in_training_mode(dropout_bert: str, tiny_data_dir: Path, mode: str) -> None:
    vsp, model = step_zero_vsp(config(dropout_bert, tiny_data_dir, mode))
    assert vsp < 1e-10
    assert model.training and model.head.training
    assert model.encoder.training == (mode == "pass")  # off: no dropout while training
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.encoder.parameters())


def test_the_old_dropout_vsp_has_a_floor(dropout_bert: str, tiny_data_dir: Path) -> None:
    vsp, _ = step_zero_vsp(config(dropout_bert, tiny_data_dir, "train"))
    assert vsp > 1e-6  # a dropout embedding against dropout-free targets


def test_scl_trains_with_the_same_dropout_as_emo(dropout_bert: str, tiny_data_dir: Path) -> None:
    _, emo = step_zero_vsp(config(dropout_bert, tiny_data_dir, "off", lam=1.0))
    _, scl = step_zero_vsp(config(dropout_bert, tiny_data_dir, "off", lam=0.0))
    assert emo.encoder.training == scl.encoder.training is False


def test_normalised_vsp_is_scale_free() -> None:
    torch.manual_seed(0)
    emb, target = torch.randn(8, 16), torch.randn(8, 16)
    proj, labels = torch.randn(8, 4), torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])
    loss = SupConVSPLoss(0.1, 1.0, normalize=True)
    a = loss(emb, proj, labels, target).parts["vsp"]
    b = loss(emb * 10, proj, labels, target * 10).parts["vsp"]
    assert torch.allclose(a, b) and torch.allclose(a, ((emb - target) ** 2).mean() / (target**2).mean())
