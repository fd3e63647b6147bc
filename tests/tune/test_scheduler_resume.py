"""Pareto-ASHA's state survives a killed driver: a real Tune experiment (synthetic trials, one at a
time, in a fixed order) is run once uninterrupted, and once killed with SIGKILL mid-search (driver and
its Ray cluster) and resumed with ``Tuner.restore``; both take the same stopping decisions, and the
decisions about trials that finished before the kill come back from the experiment checkpoint.

This file is also the driver: ``python test_scheduler_resume.py STORAGE NAME OUT.json``.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

M, D = "dev_ami", "dev_delta_emb"
# (metric, drift) of each trial at full training; a trial reports it scaled by iteration / 3. In this
# order, with rungs at iterations 1 and 2 (factor 2): 0 first, 1 the least drift, 2 dominated, 3 a
# new least drift, 4 dominated, 5 the best metric, 6 dominated
POINTS = [(0.30, 0.10), (0.20, 0.05), (0.10, 0.20), (0.15, 0.04), (0.05, 0.30), (0.35, 0.12), (0.12, 0.15)]
STEP_S = 1.0


def trainable(config: dict[str, Any]) -> None:
    from ray import tune

    m, d = POINTS[config["i"]]
    for it in range(1, 4):
        time.sleep(STEP_S)
        tune.report({M: m * it / 3, D: d * (0.5 + it / 6), "i": config["i"]})


def scheduler_state(experiment: Path) -> dict[str, Any] | None:
    """The scheduler state in the experiment's newest callback checkpoint (None: none yet); newest by
    name (the session's timestamp), as Tune picks it: a sync at the end rewrites every file's mtime."""
    files = sorted(experiment.glob("callback-states-*.pkl"))
    if not files:
        return None
    try:
        states = pickle.loads(files[-1].read_bytes())
    except (EOFError, pickle.UnpicklingError):  # replaced while being read
        return None
    return next((s["state"] for s in states.values() if s and s.get("scheduler") == "ParetoASHA"), None)


def recorded_trials(state: dict[str, Any]) -> set[str]:
    return {trial_id for records in state["rungs"].values() for trial_id, *_ in records}


def drive(storage: str, name: str, out: str) -> None:
    """Run (or resume) the experiment, then write {trial index: [[milestone, decision], ...]} and each
    trial's last iteration to ``out``."""
    import ray
    from ray import tune

    from raysweep.tune.schedulers import ParetoASHA, SchedulerStateCallback

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    path = f"{storage}/{name}"
    if tune.Tuner.can_restore(path):
        tuner = tune.Tuner.restore(path, trainable=trainable, resume_unfinished=True, resume_errored=True)
    else:
        scheduler = ParetoASHA(M, D, max_t=4, grace_period=1, reduction_factor=2, full_fidelity=3)
        tuner = tune.Tuner(
            trainable,
            param_space={"i": tune.grid_search(list(range(len(POINTS))))},
            tune_config=tune.TuneConfig(scheduler=scheduler, max_concurrent_trials=1),
            run_config=tune.RunConfig(
                name=name, storage_path=storage, callbacks=[SchedulerStateCallback(scheduler)], verbose=0
            ),
        )
    grid = tuner.fit()
    index = {r.metrics["trial_id"]: r.config["i"] for r in grid if r.metrics}
    state = scheduler_state(Path(path)) or {"rungs": {}}
    decisions: dict[int, list[list[Any]]] = {}
    for milestone, records in state["rungs"].items():
        for trial_id, _, _, decision in records:
            if decision is not None:
                decisions.setdefault(index[trial_id], []).append([milestone, decision])
    last = {r.config["i"]: r.metrics["training_iteration"] for r in grid if r.metrics}
    Path(out).write_text(json.dumps({"decisions": decisions, "last": last}, sort_keys=True))
    ray.shutdown()


def command(storage: Path, name: str, out: Path) -> list[str]:
    return [sys.executable, __file__, str(storage), name, str(out)]


ENV = {**os.environ, "TUNE_GLOBAL_CHECKPOINT_S": "1", "RAY_DEDUP_LOGS": "0"}


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_kill_the_driver_mid_search_then_resume_same_decisions(tmp_path: Path) -> None:
    storage = tmp_path / "st"
    whole = tmp_path / "whole.json"
    done = subprocess.run(command(storage, "whole", whole), capture_output=True, text=True, env=ENV, timeout=400)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    reference = json.loads(whole.read_text())
    assert len(reference["decisions"]) == len(POINTS)
    assert {k: v[0][1] for k, v in reference["decisions"].items()} == {
        "0": "CONTINUE",
        "1": "CONTINUE",
        "2": "STOP",
        "3": "CONTINUE",
        "4": "STOP",
        "5": "CONTINUE",
        "6": "STOP",
    }

    # the same experiment, killed once the checkpoint holds decisions about at least two trials
    resumed = tmp_path / "resumed.json"
    experiment = storage / "killed"
    log = (tmp_path / "first.log").open("w")
    first = subprocess.Popen(
        command(storage, "killed", resumed), stdout=log, stderr=subprocess.STDOUT, env=ENV, start_new_session=True
    )
    try:
        deadline, state = time.time() + 300, None
        while first.poll() is None and time.time() < deadline:
            state = scheduler_state(experiment)
            if state and len(recorded_trials(state)) >= 2:
                break
            time.sleep(0.2)
        assert first.poll() is None, (tmp_path / "first.log").read_text()[-3000:]
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # the driver and the Ray cluster it started
        first.wait()
    at_kill = scheduler_state(experiment)
    assert at_kill is not None
    recorded = recorded_trials(at_kill)
    assert 2 <= len(recorded) < len(POINTS), recorded
    assert not resumed.exists()

    second = subprocess.run(command(storage, "killed", resumed), capture_output=True, text=True, env=ENV, timeout=400)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    after = json.loads(resumed.read_text())
    assert after["decisions"] == reference["decisions"]  # every decision, at every rung, as uninterrupted
    assert after["last"] == reference["last"]  # and so where each trial ended


if __name__ == "__main__":
    drive(*sys.argv[1:4])
