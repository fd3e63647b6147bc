"""A tiny study that searches ``model.name`` over a BERT-shaped and a RoBERTa-shaped model: each model
gets its own pick and its own baselines (PLM, SCL), and every comparison is made within one model."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import task_fixtures
from tiny_study import tiny_space

from raysweep.run import main as run_main

tiny_tasks_dir = pytest.fixture(scope="session")(task_fixtures.tiny_tasks_dir)


@pytest.mark.slow
@pytest.mark.timeout(1500)  # 4 search trials and 6 final runs: about 5 minutes on 2 cores
def test_a_roberta_shaped_second_model_gets_its_own_baselines(
    ray_local, tiny_bert: str, tiny_roberta: str, tiny_tasks_dir: Path, tmp_path: Path
) -> None:
    space = tiny_space(
        tmp_path,
        tiny_bert,
        num_samples=4,
        seeds=1,
        baselines=("plm", "scl"),
        tasks=("emotion", "drift"),
        multi_objective=False,
        metric="dev_ami",
        search={"model.name": {"type": "choice", "values": [tiny_bert, tiny_roberta]}},
    )
    results = tmp_path / "results"
    argv = ["--space", str(space), "--name", "two-models", "--storage", str(tmp_path / "st")]
    assert run_main([*argv, "--results-dir", str(results), "--data-dir", str(tiny_tasks_dir)]) == 0

    trials = pd.read_csv(results / "trials.csv")
    assert set(trials["param:model.name"]) == {tiny_bert, tiny_roberta}  # the seeded search tried both
    board = pd.read_csv(results / "leaderboard.csv")
    rows = set(zip(board["model"], board["method"], strict=True))
    for model in (tiny_bert, tiny_roberta):
        assert {(model, "emo"), (model, "scl"), (model, "plm")} <= rows, rows
    for model in (tiny_bert, tiny_roberta):  # each model's pick is its own best trial by dev AMI
        best = trials[trials["param:model.name"] == model].sort_values("dev_ami").iloc[-1]
        emo = board[(board["model"] == model) & (board["method"] == "emo")].iloc[0]
        assert float(emo["lam"]) == pytest.approx(best["param:loss.lam"], rel=1e-5)
    tests = pd.read_csv(results / "comparisons.csv")
    assert set(tests["model"]) == {tiny_bert, tiny_roberta}
    roberta = tests[tests["model"] == tiny_roberta]
    pairs = set(zip(roberta["method"], roberta["versus"], strict=True))
    assert {("emo", "plm"), ("scl", "plm"), ("emo", "scl")} <= pairs, pairs
