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


def test_the_study_goodput_table_shows_every_phase_and_part() -> None:
    import importlib

    table = importlib.import_module("bench.study_goodput").table
    parts = {"steps": 40.0, "dev_eval": 10.0, "startup": 20.0, "teardown": 2.0, "embedding": 8.0, "metrics": 4.0}
    phase = {"wall_s": 50.0, "samples": 3000.0, "goodput": 0.4, "core_seconds": {**parts, "idle": 16.0}}
    study = {
        "goodput": {
            "plain_samples_per_s": 150.0,
            "cores": 2.0,
            **{p: phase for p in ("prepare", "search", "finals", "all")},
            "run_vs_plain": {"search": {"runs": 3, "median": 0.8, "min": 0.7, "max": 0.9}},
            "startup": {"search": {"runs": 3, "total": 9.0, "ray": 7.0, "raysweep": 2.0}},
        },
        "final_phases": {"emo": {"runs": 2, "train_s": 60.0, "evaluation_s": 30.0, "finetune_s": 0.0}},
    }
    text = table(study)
    (row,) = [line.split() for line in text.splitlines() if line.startswith("search ") and "%" in line]
    assert row == ["search", "50", "3000", "40.0%", "40.0%", "10.0%", "20.0%", "2.0%", "8.0%", "4.0%", "16.0%"]
    assert "median 0.800x (min 0.700, max 0.900; 3 runs)" in text
    assert "Ray Train 7.00 s + raysweep's loop 2.00 s" in text and "evaluation 15.0 s per model" in text
