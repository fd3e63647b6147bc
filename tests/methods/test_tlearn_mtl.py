"""``tlearn`` and ``mtl`` end to end on tiny local models: train a few steps on Ray Train, export,
and score the exported folder with the suite (Δemb against the recorded base model)."""

from __future__ import annotations

import pytest
import task_fixtures
from safetensors.torch import load_file

from raysweep.config import RetrofitConfig
from raysweep.data.tasks import load_task
from raysweep.evaluation.suite import evaluate_model, model_record
from raysweep.methods.mtl import mtl
from raysweep.methods.tlearn import tlearn

tiny_tasks_dir = pytest.fixture(scope="session")(task_fixtures.tiny_tasks_dir)


def tiny_config(model: str, data_dir, workers: int = 1) -> RetrofitConfig:
    return RetrofitConfig.from_dict(
        {
            "data": {"data_dir": str(data_dir), "max_length": 32},
            "model": {"name": model, "pooling": "mean"},
            "sampler": {"kind": "mperclass", "m": 2, "batch_size": 12},
            "train": {"max_steps": 3, "lr": 1e-3, "num_workers": workers, "cpus_per_worker": 1, "max_failures": 0},
        }
    )


def test_tlearn_end_to_end(tiny_roberta, tiny_tasks_dir, ray_local, tmp_path):
    out = tlearn(tiny_config(tiny_roberta, tiny_tasks_dir), tmp_path / "tlearn", tmp_path / "runs", name="tl")
    record = model_record(str(out))
    assert record["baseline"] == "tlearn" and record["config"]["loss"]["objective"] == "ce"
    assert load_file(str(out / "head.safetensors"))["weight"].shape == (6, 32)  # the 6-emotion classifier
    scores = evaluate_model(str(out), ["emotion", "drift"], "probe", data_dir=tiny_tasks_dir, drift_n=30)
    assert scores["reference_model"] == tiny_roberta and scores["pooling"] == "mean"
    assert scores["drift"]["delta_emb"] > 0  # trained away from the base model


def test_mtl_end_to_end_on_two_workers(tiny_roberta, tiny_tasks_dir, ray_local, tmp_path):
    task = load_task("irony", tiny_tasks_dir)
    cfg = tiny_config(tiny_roberta, tiny_tasks_dir, workers=2)
    out = mtl(cfg, task, tmp_path / "mtl", tmp_path / "runs", name="mtl")
    record = model_record(str(out))
    assert record["baseline"] == "mtl" and record["task"] == "irony"
    assert record["config"]["loss"]["objective"] == "mtl"
    metrics = record["metrics"]
    assert {"train_ce_emotion", "train_ce_task", "dev_emotion_macro_f1", "dev_task_macro_f1"} <= set(metrics)
    head = load_file(str(out / "head.safetensors"))
    assert head["emotion.weight"].shape == (6, 32) and head["task.weight"].shape == (2, 32)
    scores = evaluate_model(str(out), ["irony"], "probe", data_dir=tiny_tasks_dir)
    assert 0 <= scores["downstream"]["irony"]["probe"]["macro_f1"] <= 1
