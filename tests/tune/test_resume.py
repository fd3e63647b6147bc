"""Driver loss: kill `python -m raysweep.run` (and the Ray cluster it started) mid-search, then
`--resume`: the study finishes with exactly num_samples trials and no configuration repeated."""

from __future__ import annotations

import json
import os
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


def finished_search_trials(storage: Path) -> int:
    return len(list((storage / "r" / "search").glob("search_trial_*/result.json")))


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_kill_driver_then_resume(tiny_bert: str, tiny_tasks_dir: Path, tmp_path: Path) -> None:
    space = tiny_space(
        tmp_path,
        tiny_bert,
        num_samples=4,
        seeds=1,
        baselines=("plm",),
        tasks=("emotion", "drift"),
        multi_objective=False,
    )
    storage, results = tmp_path / "st", tmp_path / "res"
    cmd = [
        sys.executable,
        "-m",
        "raysweep.run",
        "--space",
        str(space),
        "--name",
        "r",
        "--storage",
        str(storage),
        "--results-dir",
        str(results),
        "--data-dir",
        str(tiny_tasks_dir),
    ]
    env = {**os.environ, "RAY_DEDUP_LOGS": "0"}
    log = (tmp_path / "first.log").open("w")
    first = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        deadline = time.time() + 600
        while finished_search_trials(storage) < 1 and first.poll() is None and time.time() < deadline:
            time.sleep(1)
        assert first.poll() is None, (tmp_path / "first.log").read_text()[-3000:]
        assert finished_search_trials(storage) >= 1, "no search trial finished in time"
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # the driver and the Ray cluster it started
        first.wait()
    killed_at = finished_search_trials(storage)
    assert killed_at < 4

    # the results module works on the partial study
    from raysweep.results.__main__ import main as results_main

    assert results_main(["--storage", str(storage), "--name", "r", "--results-dir", str(tmp_path / "partial")]) == 0
    partial = pd.read_csv(tmp_path / "partial" / "trials.csv")
    assert 1 <= len(partial) <= 4

    # the same name again without --resume is refused (exit 2, one line), the study left as it was
    ledger = results / "r" / "phases.json"
    killed_ledger = ledger.read_bytes()
    again = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    errors = [line for line in again.stderr.splitlines() if line.startswith("error:")]
    assert again.returncode == 2 and len(errors) == 1 and "already exists" in errors[0], again.stderr[-2000:]
    assert "pass --resume" in errors[0] and finished_search_trials(storage) == killed_at
    assert ledger.read_bytes() == killed_ledger  # refused before anything was prepared or written

    second = subprocess.run([*cmd, "--resume"], capture_output=True, text=True, env=env, timeout=900)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    trials = pd.read_csv(results / "trials.csv")
    assert len(trials) == 4  # exactly num_samples, none lost, none added
    params = trials[[c for c in trials.columns if c.startswith("param:")]].round(12)
    assert not params.duplicated().any()  # the restored searcher did not repeat a configuration
    board = pd.read_csv(results / "leaderboard.csv")
    assert sorted(board["method"]) == ["emo", "plm"]
    # the study's walls add both invocations: the killed one's prepare and search seconds so far
    first_part, second_part = json.loads(ledger.read_text())["invocations"]
    assert first_part["phases"]["prepare"] > 0 and "finals" not in first_part["phases"]
    timings = json.loads((results / "r" / "study.json").read_text())["timings"]
    assert timings["invocations"] == 2
    assert timings["prepare_s"] == pytest.approx(first_part["phases"]["prepare"] + second_part["phases"]["prepare"])
    assert timings["search_s"] >= second_part["phases"]["search"] > 0
