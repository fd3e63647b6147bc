"""A study whose Ray storage is gone (another machine, a torn-down cluster) continues from its records
export: kill the driver during the finals, rebuild the partial tables (which writes the export), delete
the storage and the models, then ``--resume``: the search is carried (not re-run), the finished final
runs are not trained again, and the study ends with every planned run and walls over both parts."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import task_fixtures
from tiny_study import tiny_space

tiny_tasks_dir = pytest.fixture(scope="session")(task_fixtures.tiny_tasks_dir)


def finished_finals(storage: Path) -> int:
    return len([p for p in (storage / "r" / "final").glob("final_trial_*/result.json") if p.stat().st_size])


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_kill_in_the_finals_lose_the_storage_then_resume_from_the_records(
    tiny_bert: str, tiny_tasks_dir: Path, tmp_path: Path
) -> None:
    space = tiny_space(
        tmp_path,
        tiny_bert,
        num_samples=2,
        seeds=3,
        baselines=("plm",),
        tasks=("emotion", "drift"),
        multi_objective=False,
    )
    storage, results = tmp_path / "st", tmp_path / "res"
    cmd = [sys.executable, "-m", "raysweep.run", "--space", str(space), "--name", "r", "--storage", str(storage)]
    cmd += ["--results-dir", str(results), "--data-dir", str(tiny_tasks_dir)]
    env = {**os.environ, "RAY_DEDUP_LOGS": "0"}
    log = (tmp_path / "first.log").open("w")
    first = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        deadline = time.time() + 900
        while finished_finals(storage) < 1 and first.poll() is None and time.time() < deadline:
            time.sleep(1)
        assert first.poll() is None, (tmp_path / "first.log").read_text()[-3000:]
        assert finished_finals(storage) >= 1, "no final run finished in time"
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    from raysweep.results.__main__ import main as results_main

    assert results_main(["--storage", str(storage), "--name", "r", "--results-dir", str(results)]) == 0
    exported = json.loads((results / "r" / "records" / "final.json").read_text())
    done = [t for t in exported if t["status"] == "TERMINATED" and "method" in t["result"]]
    assert 1 <= len(done) < 4  # 3 Emo seeds + PLM planned
    search_ids = sorted(t["trial_id"] for t in json.loads((results / "r" / "records" / "search.json").read_text()))
    shutil.rmtree(storage)  # the machine is gone: only results/r (tables, export, phases.json) travels
    shutil.rmtree(results / "r" / "models")
    (results / "r" / "optuna.db").unlink()

    refused = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert refused.returncode == 2, refused.stderr[-2000:]
    assert "pass --resume to continue it from them" in refused.stderr
    second = subprocess.run([*cmd, "--resume"], capture_output=True, text=True, env=env, timeout=900)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert f"{len(done)} of 4 final runs; running the {4 - len(done)} left" in second.stdout
    assert not (storage / "r" / "search").exists()  # the search was carried, not re-run
    board = pd.read_csv(results / "r" / "leaderboard.csv")
    assert sorted(board["method"]) == ["emo", "plm"]
    assert board.loc[board["method"] == "emo", "n_seeds"].iloc[0] == 3
    trials = pd.read_csv(results / "r" / "trials.csv")
    assert sorted(trials["trial_id"]) == search_ids
    final = json.loads((results / "r" / "records" / "final.json").read_text())
    assert len([t for t in final if t["status"] == "TERMINATED"]) == 4  # the merged export
    study = json.loads((results / "r" / "study.json").read_text())
    assert study["timings"]["invocations"] == 2 and study["timings"]["search_s"] > 0  # the first part's search
    assert study["final_runs"] == 4
