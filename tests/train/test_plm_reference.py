"""PLM's dev figures: the same code path as a trial's evaluation, zero drift, deterministic."""

from __future__ import annotations

import pytest

from raysweep.config import RetrofitConfig
from raysweep.train.data import prepare_training_data
from raysweep.train.reference import reference_dev_metrics


def test_reference_dev_metrics(tiny_bert, tiny_data_dir) -> None:
    cfg = RetrofitConfig.from_dict(
        {"data": {"data_dir": str(tiny_data_dir), "max_length": 16}, "model": {"name": tiny_bert}}
    )
    texts = [f"some other text {i}" for i in range(12)]
    data = prepare_training_data(cfg, texts, device="cpu")
    first = reference_dev_metrics(cfg, data, "cpu")
    assert {"dev_p_at_1", "dev_ami", "dev_map_at_r", "dev_delta_emb"} <= set(first)
    assert first["dev_delta_emb"] == pytest.approx(0.0, abs=1e-6)
    assert reference_dev_metrics(cfg, data, "cpu") == first
