"""Fine-tuning a reader can trust: a dev split held out from the training rows (or the task's own),
the best dev checkpoint scored on test, inverse-frequency class weights, and the collapsed flag."""

from __future__ import annotations

import random
from types import SimpleNamespace

import numpy as np
import pytest
import task_fixtures
import torch
import torch.nn.functional as F

from raysweep.config import RetrofitConfig
from raysweep.data.tasks import load_task
from raysweep.errors import RaysweepError
from raysweep.evaluation.downstream import (
    best_evaluation,
    finetune,
    finetune_split,
    inverse_frequency,
    linear_probe_outputs,
    task_training_data,
)
from raysweep.models.retrofit import RetrofitModel
from raysweep.train.objectives import StepContext, build_objective

tiny_tasks_dir = pytest.fixture(scope="session")(task_fixtures.tiny_tasks_dir)


def imbalanced_task(folder, positives: int = 16, negatives: int = 112) -> str:
    """A csv task with 1 positive in 8 training rows and a balanced test split."""
    rng = random.Random(0)
    rows = [(task_fixtures.binary_text(rng, 1), 1, "train") for _ in range(positives)]
    rows += [(task_fixtures.binary_text(rng, 0), 0, "train") for _ in range(negatives)]
    rows += [(task_fixtures.binary_text(rng, y), y, "test") for y in (0, 1) for _ in range(10)]
    rng.shuffle(rows)
    path = folder / "rare.csv"
    path.write_text("text,label,split\n" + "".join(f"{t},{y},{s}\n" for t, y, s in rows))
    return f"csv:{path}:text:label:split"


def test_dev_is_held_out_from_the_training_rows_stratified_and_seeded(tiny_tasks_dir):
    sst2 = load_task("sst2", tiny_tasks_dir)  # no dev split of its own
    train, dev = finetune_split(sst2, draw_seed=3)
    assert len(dev) == 8 and len(train) == 32 and np.bincount(dev.labels).tolist() == [4, 4]
    assert not set(train.texts) & set(dev.texts) and sorted(train.texts + dev.texts) == sorted(sst2.train.texts)
    again, dev_again = finetune_split(sst2, draw_seed=3)
    assert again.texts == train.texts and dev_again.texts == dev.texts
    assert finetune_split(sst2, draw_seed=4)[1].texts != dev.texts
    capped, _ = finetune_split(sst2, train_limit=10, draw_seed=3)
    assert len(capped) == 10 and set(capped.texts) <= set(train.texts)
    irony = load_task("irony", tiny_tasks_dir)  # has one: it is the dev split, every training row trains
    train, dev = finetune_split(irony, draw_seed=3)
    assert dev.texts == irony.dev.texts and train.texts == irony.train.texts


def test_too_few_rows_for_a_dev_split(tmp_path):
    path = tmp_path / "few.csv"
    path.write_text("text,label,split\na,0,train\nb,1,train\nc,0,train\nd,1,test\n")
    with pytest.raises(RaysweepError, match="too few to hold out a dev split"):
        finetune_split(load_task(f"csv:{path}:text:label:split"))


def test_inverse_frequency_weights():
    weights = inverse_frequency(np.array([0] * 30 + [1] * 10), 3)  # class 2 has no row
    assert weights.tolist() == pytest.approx([40 / (3 * 30), 40 / (3 * 10), 0.0])


def test_the_ce_objective_weighs_its_loss(tiny_roberta, tmp_path):
    task = load_task(imbalanced_task(tmp_path))
    cfg = RetrofitConfig.from_dict(
        {"model": {"name": tiny_roberta}, "loss": {"objective": "ce"}, "data": {"max_length": 16}}
    )
    train, dev = finetune_split(task)
    data = task_training_data(cfg, train, dev, class_weighted=True)
    counts = np.bincount(train.labels)
    assert data.class_weights.tolist() == pytest.approx((len(train) / (2 * counts)).tolist())
    assert task_training_data(cfg, train, dev).class_weights is None
    objective = build_objective(cfg, data)
    torch.manual_seed(0)
    model = RetrofitModel.from_config(cfg.model, "eager", head=objective.build_head)
    ctx = StepContext(device=torch.device("cpu"), precision="fp32", rank=0, world=1, seed=0)
    rows = np.arange(len(train))
    with torch.no_grad():
        loss = objective.loss(model, rows, ctx).total.item()
        batch = data.train_tokens.batch(rows, ctx.device)
        _, logits = model(batch["input_ids"], batch["attention_mask"])
    labels = torch.from_numpy(train.labels)
    expected = F.cross_entropy(logits, labels, weight=torch.from_numpy(data.class_weights)).item()
    assert loss == pytest.approx(expected, rel=1e-5)
    assert loss != pytest.approx(F.cross_entropy(logits, labels).item(), rel=1e-3)


def test_best_dev_checkpoint_is_chosen_not_the_last():
    reports = [
        {"step": 2, "epoch": 1.0, "dev_macro_f1": 0.5},
        {"step": 4, "epoch": 2.0, "dev_macro_f1": 0.8},
        {"step": 6, "epoch": 3.0, "dev_macro_f1": 0.6},
    ]
    result = SimpleNamespace(best_checkpoints=[("ckpt4", reports[1]), ("ckpt6", reports[2])], return_value=reports)
    checkpoint, best, history = best_evaluation(result)
    assert checkpoint == "ckpt4" and best["step"] == 4 and [h["step"] for h in history] == [2, 4, 6]
    tied = SimpleNamespace(
        best_checkpoints=[("a", {"step": 2, "dev_macro_f1": 0.7}), ("b", {"step": 6, "dev_macro_f1": 0.7})]
    )
    tied.return_value = None  # a restarted run: the kept checkpoints are the history
    assert best_evaluation(tied)[0] == "b"  # a tie: the later, as Ray keeps it
    with pytest.raises(RaysweepError, match="no dev evaluation"):
        best_evaluation(SimpleNamespace(best_checkpoints=[], return_value=None))


def test_finetune_keeps_the_best_dev_evaluation(tiny_roberta, tiny_tasks_dir, ray_local, tmp_path):
    task = load_task("sst2", tiny_tasks_dir)
    options = {"max_steps": 6, "eval_every": 1, "batch_size": 8, "lr": 1e-3, "head_lr": 1e-2, "max_length": 32}
    scores = finetune(tiny_roberta, task, tmp_path / "runs", "ft-best", draw_seed=1, **options)
    history = scores["history"]
    assert [h["step"] for h in history] == [1, 2, 3, 4, 5, 6]
    best = max(history, key=lambda h: (h["dev_macro_f1"], h["step"]))
    assert scores["best_step"] == best["step"] and scores["dev_macro_f1"] == best["dev_macro_f1"]
    assert scores["steps"] == 6 and scores["dev_split"] == "held out from train"
    assert scores["train_rows"] + scores["dev_rows"] == len(task.train) and scores["class_weights"] == [1.0, 1.0]
    assert isinstance(scores["collapsed"], bool)


def test_class_weights_keep_an_imbalanced_task_from_collapsing(tiny_bert, ray_local, tmp_path):
    task = load_task(imbalanced_task(tmp_path))
    options = {"epochs": 3, "batch_size": 16, "lr": 3e-3, "head_lr": 3e-3, "max_length": 16}
    plain = finetune(tiny_bert, task, tmp_path / "runs", "ft-plain", class_weights=False, **options)
    weighted = finetune(tiny_bert, task, tmp_path / "runs", "ft-weighted", **options)
    assert plain["class_weights"] is None and weighted["class_weights"][1] > 3 * weighted["class_weights"][0]
    assert plain["collapsed"] and plain["macro_f1"] == pytest.approx(1 / 3)
    assert not weighted["collapsed"] and weighted["macro_f1"] > plain["macro_f1"]


def test_a_constant_predictor_is_flagged_collapsed():
    x = np.zeros((20, 4))  # nothing to learn: the probe predicts the majority class for every row
    y = np.array([0] * 14 + [1] * 6)
    figures, arrays = linear_probe_outputs(x, y, np.zeros((10, 4)), np.array([0, 1] * 5), 2)
    assert figures["collapsed"] and set(arrays["pred"].tolist()) == {0} and figures["macro_f1"] == pytest.approx(1 / 3)
    rng = np.random.default_rng(0)
    x = np.eye(2, 4)[y] * 3 + rng.normal(scale=0.1, size=(20, 4))
    figures, _ = linear_probe_outputs(x, y, np.eye(2, 4)[[0, 1] * 5] * 3, np.array([0, 1] * 5), 2)
    assert not figures["collapsed"] and figures["macro_f1"] == 1.0
