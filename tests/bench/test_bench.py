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
            "run_vs_plain": {
                "search": {"runs": 3, "median": 0.8, "min": 0.7, "max": 0.9, "held": 0.82, "loop_held": 0.99},
            },
            "startup": {"search": {"runs": 3, "total": 9.0, "ray": 7.0, "raysweep": 2.0}},
        },
        "final_phases": {"emo": {"runs": 2, "train_s": 60.0, "evaluation_s": 30.0, "finetune_s": 0.0}},
    }
    text = table(study)
    (row,) = [line.split() for line in text.splitlines() if line.startswith("search ") and "%" in line]
    assert row == ["search", "50", "3000", "40.0%", "40.0%", "10.0%", "20.0%", "2.0%", "8.0%", "4.0%", "16.0%"]
    assert "median 0.800x (min 0.700, max 0.900; 3 runs)" in text
    assert "= steps on a CPU" not in text  # no split without the runs' speed per core-second
    study["goodput"]["run_vs_plain"]["search"]["per_core"] = 0.97
    text = table(study)
    assert "= steps on a CPU 0.820 of the time (the loop 0.990) x 0.970 the loop's speed per core-second held" in text
    assert "Ray Train 7.00 s + raysweep's loop 2.00 s" in text and "evaluation 15.0 s per model" in text


def test_side_by_side_runs_read_the_window_both_runs_share() -> None:
    import importlib

    window_rate = importlib.import_module("bench.side_by_side_runs").window_rate
    stamps = [0.0, 1.0, 2.0, 2.5, 3.0, 3.5, 4.0, 10.0]  # a step every 0.5 s inside [2, 4]
    assert window_rate(stamps, 2.0, 4.0, batch=32) == 32 * 4 / 2.0
    assert np.isnan(window_rate(stamps, 9.0, 11.0, batch=32))  # too few steps inside to read
    window_cores = importlib.import_module("bench.side_by_side_runs").window_cores
    cpu = [(0.9 * t, 0.0) for t in stamps]  # the process on a CPU 0.9 of the time
    assert abs(window_cores(stamps, cpu, 2.0, 4.0) - 0.9) < 1e-9


def test_every_bench_space_loads_as_a_study_would() -> None:
    from pathlib import Path

    from raysweep.tune.space import load_space

    spaces = sorted((Path(__file__).resolve().parents[2] / "bench" / "spaces").glob("*.yaml"))
    assert spaces
    for path in spaces:  # a space that no longer parses fails its bench only when run
        assert load_space(str(path)).name
