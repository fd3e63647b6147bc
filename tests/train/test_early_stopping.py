"""Early stopping on a dev metric: the patience rule, and the worker loop leaving at the evaluation that
exhausts it (the tiny model, in this process)."""

from __future__ import annotations

import math

import pytest
import torch

from raysweep.config import RetrofitConfig
from raysweep.data.goemotions import load_goemotions
from raysweep.evaluation.downstream import task_training_data
from raysweep.train.early_stopping import EarlyStopping
from raysweep.train.session import LocalSession
from raysweep.train.worker import run_training


def test_patience_counts_evaluations_without_a_better_value():
    rule = EarlyStopping("dev_macro_f1", patience=2)
    verdicts = [rule.update({"dev_macro_f1": v}) for v in (0.5, 0.6, 0.6, 0.7, 0.65, 0.7)]
    assert verdicts == [False, False, False, False, False, True]  # a tie is no improvement
    assert rule.best == 0.7 and rule.since_best == 2
    assert rule.update({}) is False and rule.update({"dev_macro_f1": math.nan}) is False  # no value: no verdict
    assert rule.since_best == 2
    assert rule.update({"dev_macro_f1": 0.8}) is False and rule.since_best == 0


def test_from_a_loop_config():
    assert EarlyStopping.from_dict(None) is None and EarlyStopping.from_dict({"metric": "m", "patience": None}) is None
    rule = EarlyStopping.from_dict({"metric": "dev_macro_f1", "patience": 3})
    assert (rule.metric, rule.patience, rule.best) == ("dev_macro_f1", 3, -math.inf)


@pytest.mark.parametrize("patience, steps", [(1, [1, 2]), (3, [1, 2, 3, 4]), (None, [1, 2, 3, 4, 5, 6, 7, 8])])
def test_the_loop_stops_once_dev_stops_improving(tiny_bert, tiny_data_dir, patience, steps):
    """lr 0: the classifier never changes, so its dev macro-F1 never improves on the first evaluation."""
    cfg = RetrofitConfig.from_dict(
        {
            "data": {"data_dir": str(tiny_data_dir), "max_length": 16},
            "model": {"name": tiny_bert, "pooling": "mean"},
            "loss": {"objective": "ce"},
            "sampler": {"kind": "stratified", "batch_size": 12},
            "train": {"lr": 1e-30, "head_lr": 1e-30, "precision": "fp32", "max_steps": 8, "eval_every": 1},
        }
    )
    ge = load_goemotions(str(tiny_data_dir))
    data = task_training_data(cfg, ge.train, ge.dev)
    early_stop = None if patience is None else EarlyStopping("dev_macro_f1", patience)
    with torch.random.fork_rng(devices=[]):
        history = run_training(cfg, data, LocalSession(), early_stop)
    assert [h["step"] for h in history] == steps
    assert len({h["dev_macro_f1"] for h in history}) == 1
    assert [h.get("stopped_early", 0.0) for h in history] == [0.0] * (len(steps) - 1) + [float(patience is not None)]
