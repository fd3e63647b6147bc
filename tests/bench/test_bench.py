"""The benchmark scripts run and report what they claim (tiny models; no timing asserted)."""

from __future__ import annotations

import numpy as np
import torch

from bench.gpu_step import _HandLoss
from bench.gpu_step import main as gpu_main
from bench.run import table
from raysweep.losses.supcon_vsp import SupConVSPLoss


def test_hand_written_supcon_matches_pml() -> None:
    torch.manual_seed(0)
    emb, proj, targets = torch.randn(16, 8), torch.randn(16, 4), torch.randn(16, 8)
    labels = torch.randint(0, 4, (16,))
    hand = _HandLoss(0.1, 1.0)(emb, proj, labels, targets).total
    pml = SupConVSPLoss(0.1, 1.0)(emb, proj, labels, targets).total
    assert torch.allclose(hand, pml, atol=1e-5)


def test_gpu_step_smoke_on_cpu() -> None:
    out = gpu_main(["--device", "cpu", "--steps", "2", "--warmup", "1", "--small", "--variants", "bf16,fp32"])
    for variant in ("bf16", "fp32"):
        assert out[variant]["samples_per_s"] > 0 and np.isfinite(out[variant]["achieved_tflops"])
    assert out["batch"] == 8 and out["seq"] == 32


def test_table_renders_partial_results() -> None:
    text = table({"eval": {"embed_texts_per_s": 300.0, "full_embed_s": 150.0}})
    assert "embedding texts/s" in text and "300" in text
