"""The study cost a dry run prints: the plan's arithmetic (rungs, runs, FLOPs) and the printed estimate
for 1, 8 and 32 GPUs, with no hub access."""

from __future__ import annotations

from pathlib import Path

import pytest

from raysweep.tune import cost
from raysweep.tune.space import load_space


def test_the_search_trains_every_trial_to_the_first_rung_and_a_share_on_to_each_next() -> None:
    # full: 64 trials, rungs at 375 and 750 of 1500 steps, factor 2: 64 x 375 + 32 x 375 + 16 x 750
    assert cost.search_steps(64, 375, 1500, 2) == 48_000
    assert cost.search_steps(3, 20, 60, 2) == 3 * 20 + 2 * 20 + 1 * 20
    assert cost.search_steps(5, 60, 60, 2) == 5 * 60  # grace at full fidelity: nothing stopped


def test_training_flops_per_token_match_bert_base() -> None:
    # 85M non-embedding parameters in bert-base: 6 N per token plus attention
    flops = cost.flops_per_token(cost.MODEL_SHAPES["bert-base-uncased"], 128)
    assert 6 * 84.9e6 < flops < 6 * 85.0e6 + 12 * 12 * 768 * 128 + 1


def test_runs_are_packed_longest_first() -> None:
    assert cost.makespan([4.0, 3.0, 3.0, 2.0], 2) == 6.0
    assert cost.makespan([4.0, 3.0], 8) == 4.0
    assert cost.makespan([1.0] * 10, 1) == 10.0


def test_a_measured_throughput_replaces_the_assumption(tmp_path: Path) -> None:
    measured = tmp_path / "gpu_step.json"
    measured.write_text('{"device": "NVIDIA H200", "bf16": {"achieved_tflops": 123.0}}')
    assert cost.throughput_tflops(measured) == (123.0, "measured by bench/gpu_step.py on NVIDIA H200")
    tflops, source = cost.throughput_tflops(tmp_path / "missing.json")
    assert tflops == pytest.approx(cost.ASSUMED_MFU * cost.PEAK_BF16_TFLOPS) and source.startswith("assumed")


def test_the_full_space_is_priced_for_1_8_and_32_gpus_without_the_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cost, "MEASURED", Path("/nonexistent"))
    text = cost.plan_cost(load_space("full"))
    lines = text.splitlines()
    # 2 models x 3 picks x 5 seeds of Emo and of SCL, TLearn and 3 MTLs x 2 models x 5 seeds, PLM per model
    assert "in 64 trials" in lines[0] and "in 102 runs" in lines[0] and "GPU-hours" in lines[0]
    walls = [line for line in lines[1:] if "GPU(s)" in line]
    assert [w.split("on", 1)[1].split("GPU")[0].strip() for w in walls] == ["1", "8", "32"]
    gpu_hours = float(lines[0].split(" GPU-hours")[0].rsplit(" ", 1)[1])
    one_gpu = walls[0].split("about ")[1].split(" ")
    assert one_gpu[1] == "h" and float(one_gpu[0]) == pytest.approx(gpu_hours, rel=0.05)  # one GPU: all in series
    assert "unknown" not in text


def test_a_dry_run_of_the_full_space_prints_its_cost_and_then_the_problem(
    capsys: pytest.CaptureFixture, tmp_path: Path, shared_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from raysweep.run import main

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # no hub here: bert-base-uncased cannot be checked
    argv = ["--space", "full", "--dry-run", "--data-dir", str(shared_data_dir), "--storage", str(tmp_path / "st")]
    with pytest.raises(SystemExit) as stop:
        main([*argv, "--results-dir", str(tmp_path / "res")])
    assert stop.value.code == 2
    captured = capsys.readouterr()
    assert "GPU-hours" in captured.out and "on 32 GPU(s)" in captured.out
    assert [line for line in captured.err.splitlines() if line.startswith("error:")][0].count("bert-base-uncased")
    assert not (tmp_path / "st").exists() and not (tmp_path / "res").exists()
