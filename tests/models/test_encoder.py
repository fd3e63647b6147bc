from __future__ import annotations

from pathlib import Path

import pytest
import torch

from raysweep.config import ModelConfig
from raysweep.errors import RaysweepError
from raysweep.models import RetrofitModel, build_head, check_model_exists, frozen_copy, pool, resolve_model_name


def test_minilm_alias_resolves_to_packaged_model() -> None:
    path = Path(resolve_model_name("minilm"))
    assert (path / "config.json").is_file() and (path / "model.safetensors").is_file()


def test_unknown_model_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RaysweepError, match="not a model folder"):
        resolve_model_name(str(tmp_path))
    with pytest.raises(RaysweepError, match="was not found locally or on the hub"):
        check_model_exists("no-such-org/no-such-model")


def test_pooling_cls_and_mean() -> None:
    states = torch.arange(2 * 3 * 2, dtype=torch.float32).reshape(2, 3, 2)
    mask = torch.tensor([[1, 1, 0], [1, 1, 1]])
    assert torch.equal(pool(states, mask, "cls"), states[:, 0])
    assert torch.allclose(pool(states, mask, "mean")[0], states[0, :2].mean(0))
    assert torch.allclose(pool(states, mask, "mean")[1], states[1].mean(0))


def test_heads() -> None:
    x = torch.randn(5, 32)
    assert build_head("linear", 32, 64)(x).shape == (5, 64)
    mlp = build_head("mlp", 32, 16)
    assert mlp(x).shape == (5, 16) and len(list(mlp.parameters())) == 4
    with pytest.raises(RaysweepError, match="unknown head"):
        build_head("transformer", 32)


def test_retrofit_model_and_frozen_copy(tiny_model: str) -> None:
    model = RetrofitModel.from_config(ModelConfig(name=tiny_model, pooling="mean", head="mlp", proj_dim=8))
    frozen = frozen_copy(model.encoder)
    ids = torch.tensor([[0, 5, 6, 7], [0, 8, 9, 1]])
    mask = torch.ones_like(ids)
    emb, proj = model(ids, mask)
    assert emb.shape == (2, 32) and proj.shape == (2, 8)
    assert not any(p.requires_grad for p in frozen.parameters()) and not frozen.training
    model.eval()
    assert torch.allclose(frozen(ids, mask), model.encoder(ids, mask))
    with torch.no_grad():
        for p in model.encoder.parameters():  # the copy is independent of later updates
            p.add_(0.1 * torch.randn_like(p))
    assert not torch.allclose(frozen(ids, mask), model.encoder(ids, mask))


def test_model_code_is_imported_apart_from_any_weight_and_a_bad_name_is_left_to_the_load(tmp_path: Path) -> None:
    import subprocess
    import sys

    from raysweep.models.encoder import import_model_code

    # in a fresh interpreter the model's modelling module is not imported until asked for
    code = (
        "import sys; from raysweep.models.encoder import import_model_code; "
        "assert 'transformers.models.bert.modeling_bert' not in sys.modules; s = import_model_code('minilm'); "
        "assert 'transformers.models.bert.modeling_bert' in sys.modules and s > 0, s"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)
    assert import_model_code(str(tmp_path / "no-such-model")) == 0.0
