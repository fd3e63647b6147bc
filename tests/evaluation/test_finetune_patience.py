"""Fine-tuning stops on dev once it stops improving (a Ray Train run on the tiny model), and the suite
passes a study's ``finetune_patience`` through."""

from __future__ import annotations

import pytest
import task_fixtures

from raysweep.data.tasks import load_task
from raysweep.evaluation.downstream import finetune

tiny_tasks_dir = pytest.fixture(scope="session")(task_fixtures.tiny_tasks_dir)


def test_finetuning_stops_after_patience_dev_evaluations_without_a_gain(
    tiny_roberta, tiny_tasks_dir, ray_local, tmp_path
):
    task = load_task("sst2", tiny_tasks_dir)
    # lr ~ 0: the classifier never changes, so dev macro-F1 never beats its first value
    options = {"max_steps": 8, "eval_every": 1, "batch_size": 8, "lr": 1e-30, "head_lr": 1e-30, "max_length": 32}
    scores = finetune(tiny_roberta, task, tmp_path / "runs", "ft-patience", patience=2, **options)
    assert [h["step"] for h in scores["history"]] == [1, 2, 3]
    assert scores["stopped_early"] and scores["steps"] == 3 and scores["patience"] == 2
    assert scores["best_step"] == 3  # a tie: the later checkpoint, as Ray keeps it
