"""Soak: a small study in which every Train run (search trials and trained finals) loses one worker
process to SIGKILL mid-run; the study completes with every trial reported."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import task_fixtures
from fault_injection import KillOncePerRun
from tiny_study import final_results, tiny_space

from raysweep.run import main as run_main

tiny_tasks_dir = pytest.fixture(scope="session")(task_fixtures.tiny_tasks_dir)


@pytest.mark.slow
def test_study_survives_one_worker_kill_per_run(
    ray_local, tiny_bert: str, tiny_tasks_dir: Path, tmp_path: Path
) -> None:
    # grace period 2 of 2 reports: ASHA lets every trial finish. A kill in the same instant as an ASHA
    # stop is another race (Train V2 can leak the restarted worker group's placement group; see the
    # README's known issues), not what this test is about.
    space = tiny_space(
        tmp_path,
        tiny_bert,
        num_samples=3,
        seeds=1,
        baselines=("plm", "scl"),
        tasks=("emotion", "drift"),
        asha_grace_period=2,
    )
    storage, results = tmp_path / "st", tmp_path / "results"
    killer = KillOncePerRun(storage / "soak", last_step=10)  # tiny_space: 10 steps, a checkpoint every 5
    killer.start()
    try:
        code = run_main(
            ["--space", str(space), "--name", "soak", "--storage", str(storage), "--results-dir", str(results)]
            + ["--data-dir", str(tiny_tasks_dir)]
        )
    finally:
        killer.stop.set()
        killer.join()
    assert code == 0

    trials = pd.read_csv(results / "trials.csv")
    runs = sorted(p.parent.name for p in (storage / "soak").glob("*/checkpoint_manager_snapshot.json"))
    # every search trial ran to its end, so emo's seed-0 final is its pick's search trial, exported from
    # the trial's last checkpoint (no Train run of its own); scl's final is the one trained final run
    finals = final_results(storage / "soak")
    assert finals[("emo", 0)]["reused_run"] in runs and "reused_run" not in finals[("scl", 0)], finals
    # every search trial and the trained final (scl) lost a worker; plm trains nothing
    assert len(runs) == 3 + 1 and sorted(killer.killed) == runs, (runs, killer.killed)
    assert len(trials) == 3 and trials["status"].str.lower().eq("terminated").all(), trials[["trial_id", "status"]]
    board = pd.read_csv(results / "leaderboard.csv")
    assert sorted(board["method"]) == ["emo", "plm", "scl"] and (board["n_seeds"] == 1).all()
    assert not board[["ami_mean", "p_at_1_mean", "delta_emb_mean"]].isna().any().any()
    study = json.loads((results / "soak" / "study.json").read_text())
    assert study["search_trials"] == 3 and study["final_runs"] == 3
    assert (trials["step"] == 10).all()  # every search trial ran to its last step
    for run in runs:  # each killed run resumed from its checkpoint and reached its last step
        snapshot = json.loads((storage / "soak" / run / "checkpoint_manager_snapshot.json").read_text())
        steps = [r["metrics"]["step"] for r in snapshot["checkpoint_results"]]
        assert steps == sorted(steps) and len(set(steps)) == len(steps), (run, steps)
