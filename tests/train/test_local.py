"""``train_locally``: the worker loop in this process (no Ray) on the tiny model.

The Ray path of the same loop (``train_loop_per_worker`` under ``TorchTrainer``) is covered by
``test_worker.py``.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from raysweep.config import RetrofitConfig
from raysweep.errors import RaysweepError
from raysweep.models.checkpoint import load_train_state
from raysweep.train.data import threads_for
from raysweep.train.local import prepared_data, train_locally
from raysweep.train.run_clock import COUNTERS, LOOP_IMPORTS, LOOP_STARTUP, STEP_CPU
from raysweep.train.session import LocalSession
from raysweep.train.worker import run_training


def tiny(model: str, data_dir: Path, **train) -> RetrofitConfig:
    return RetrofitConfig.from_dict(
        {
            "data": {"data_dir": str(data_dir), "max_length": 16, "dev_limit": 24},
            "model": {"name": model, "pooling": "mean"},
            "sampler": {"kind": "mperclass", "m": 4, "batch_size": 24},
            "train": {"lr": 5e-3, "precision": "fp32", **train},
        }
    )


def test_a_few_steps_train_and_evaluate(tiny_bert: str, tiny_data_dir: Path) -> None:
    threads = torch.get_num_threads()
    history = train_locally(tiny(tiny_bert, tiny_data_dir), steps=3)
    assert [h["step"] for h in history] == [3]  # evaluated at the end only
    last = history[-1]
    assert last["diverged"] == 0.0 and math.isfinite(last["train_loss"]) and last["train_vsp"] >= 0
    for key in ("dev_mrr", "dev_p_at_1", "dev_map_at_r", "dev_ami", "dev_ari", "dev_fms", "samples_per_s"):
        assert math.isfinite(last[key]), key
    assert torch.get_num_threads() == threads  # the loop's thread setting does not leak


def test_the_same_seed_gives_the_same_history(tiny_bert: str, tiny_data_dir: Path) -> None:
    cfg = tiny(tiny_bert, tiny_data_dir, seed=3, max_steps=4, eval_every=2)
    first, second = train_locally(cfg), train_locally(cfg)
    drop = {"samples_per_s", *COUNTERS, LOOP_STARTUP, LOOP_IMPORTS, "time_warmup_s", *STEP_CPU}  # wall-clock, CPU
    assert [h["step"] for h in first] == [2, 4]
    assert [{k: v for k, v in h.items() if k not in drop} for h in first] == [
        {k: v for k, v in h.items() if k not in drop} for h in second
    ]
    other = train_locally(cfg.replace(train={"seed": 4}))
    assert other[-1]["train_loss"] != first[-1]["train_loss"]


def test_a_huge_learning_rate_is_recorded_as_diverged(tiny_bert: str, tiny_data_dir: Path) -> None:
    history = train_locally(tiny(tiny_bert, tiny_data_dir, lr=1e9, weight_decay=0.0), steps=6)
    last = history[-1]
    assert last["diverged"] == 1.0 and math.isnan(last["train_loss"])
    assert last["failure_reason"].startswith("non-finite loss or gradient at step")
    assert "lr=1e+09" in last["failure_reason"]


def test_non_finite_dev_outputs_after_the_last_step_are_diverged(tiny_bert: str, tiny_data_dir: Path) -> None:
    # one step: its loss and gradients are finite, the update it makes is not (the dev embeddings overflow)
    history = train_locally(tiny(tiny_bert, tiny_data_dir, lr=1e6, weight_decay=0.0), steps=1)
    assert history == [history[-1]] and history[-1]["diverged"] == 1.0
    assert history[-1]["failure_reason"].startswith("non-finite dev outputs after the optimiser step at step 1")


def test_a_sampler_that_cannot_be_built_is_refused_in_one_line(tiny_bert: str, tiny_data_dir: Path) -> None:
    cfg = tiny(tiny_bert, tiny_data_dir).replace(sampler={"m": 12, "batch_size": 120})  # 10 classes x 12 > 6 classes
    with pytest.raises(RaysweepError) as err:
        train_locally(cfg, steps=1)
    assert "\n" not in str(err.value) and "; " in str(err.value)


def test_mtl_without_its_task_data_is_refused(tiny_bert: str, tiny_data_dir: Path) -> None:
    with pytest.raises(RaysweepError, match="loss.objective: mtl trains on MTLTrainingData"):
        train_locally(tiny(tiny_bert, tiny_data_dir).replace(loss={"objective": "mtl"}), steps=1)


def test_prepared_data_is_reused_and_checkpoints_kept_when_asked(tiny_bert: str, tiny_data_dir: Path) -> None:
    cfg = tiny(tiny_bert, tiny_data_dir, max_steps=2, eval_every=1)
    data = prepared_data(cfg)
    assert prepared_data(cfg.replace(loss={"tau": 0.5})) is data  # tau does not change the data
    assert prepared_data(cfg.replace(data={"max_length": 12})) is not data

    session = LocalSession(save_checkpoints=True)
    history = run_training(cfg, data, session)
    assert session.reports == history and len(session.checkpoints) == 2
    assert load_train_state(session.checkpoints[-1])["step"] == 2

    resumed = run_training(cfg.replace(train={"max_steps": 3}), data, LocalSession(resume_from=session.checkpoints[-1]))
    assert [h["step"] for h in resumed] == [3]
    # the run's time counters go on from its checkpoint's, and its samples count every step
    assert [h["train_samples"] for h in (*history, *resumed)] == [24.0, 48.0, 72.0]
    assert resumed[0]["time_steps_s"] > history[-1]["time_steps_s"] > history[0]["time_steps_s"] > 0


def test_a_run_reports_its_warm_up_steps_apart(tiny_bert: str, tiny_data_dir: Path) -> None:
    cfg = tiny(tiny_bert, tiny_data_dir, max_steps=4, eval_every=4)
    (report,) = run_training(cfg, prepared_data(cfg), LocalSession())
    assert report["warmup_samples"] == 2 * cfg.sampler.batch_size  # the plain loop's 2 untimed steps
    assert 0 < report["time_warmup_s"] < report["time_steps_s"]
    # the process's CPU in the same steps, with the threads the loop trained with
    assert 0 < report["cpu_warmup_s"] < report["cpu_steps_s"]
    assert report["cpu_threads"] == (cfg.train.torch_threads or threads_for(cfg.train.cpus_per_worker))


def test_length_groups_train_the_same_run_as_padded_batches(tiny_bert: str, tiny_data_dir: Path) -> None:
    # no dropout (vsp_dropout off), so the groups' forward is the padded batch's function: same steps, same end
    base = tiny(tiny_bert, tiny_data_dir).replace(loss={"vsp_dropout": "off"})
    padded, grouped = (train_locally(base.replace(train={"length_chunks": k}), steps=4)[-1] for k in (1, 4))
    for key in ("train_loss", "train_vsp", "dev_p_at_1", "dev_map_at_r", "dev_ami"):
        assert grouped[key] == pytest.approx(padded[key], rel=1e-3, abs=1e-4), key
