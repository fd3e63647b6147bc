"""``tune.driver.run_record``: what a final run's own record gives its trial's result (the goodput's inputs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from raysweep.tune.driver import run_record


def test_a_final_runs_record_carries_its_counters_and_its_steps_cpu(tmp_path: Path) -> None:
    metrics = {
        "step": 40,
        "dev_p_at_1": 0.31,
        "time_steps_s": 58.0,
        "time_dev_eval_s": 3.0,
        "time_startup_s": 15.0,
        "time_startup_loop_s": 4.0,
        "time_startup_imports_s": 3.2,
        "time_warmup_s": 4.5,
        "warmup_samples": 64.0,
        "cpu_steps_s": 50.0,
        "cpu_warmup_s": 4.0,
        "cpu_threads": 1.0,
        "train_loss": 3.1,
    }
    record = {"metrics": metrics, "config": {"sampler": {"batch_size": 32}}}
    (tmp_path / "raysweep.json").write_text(json.dumps(record), encoding="utf-8")
    out = run_record(tmp_path, run_s=80.0)
    assert out["train_samples"] == 1280.0 and out["dev_p_at_1"] == 0.31
    for key in ("time_warmup_s", "warmup_samples", "cpu_steps_s", "cpu_warmup_s", "cpu_threads"):
        assert out[key] == metrics[key]  # what the goodput reads a run's speed and its cores held from
    assert out["time_teardown_s"] == pytest.approx(80.0 - 58.0 - 3.0 - 15.0)
    assert "train_loss" not in out
