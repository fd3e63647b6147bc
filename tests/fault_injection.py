"""Fault injection for the reliability tests: SIGKILL real Ray Train worker processes.

A kill is aimed only once Train V2 has *registered* a checkpoint of the run (its
``checkpoint_manager_snapshot.json`` lists one). A checkpoint folder on disk is not enough: the
controller registers a report when it next polls the workers, and a worker group that dies before
that poll restarts from the previous registered checkpoint (or from step 0).
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

SNAPSHOT = "checkpoint_manager_snapshot.json"


def registered_step(run_dir: Path) -> int | None:
    """The step of the run's latest registered checkpoint, or None."""
    try:
        snapshot = json.loads((run_dir / SNAPSHOT).read_text())
    except (OSError, ValueError):  # not written yet, or caught mid-write
        return None
    latest = snapshot.get("latest_checkpoint_result") or {}
    step = (latest.get("metrics") or {}).get("step")
    return None if step is None else int(step)


def live_train_workers() -> list[int]:
    """PIDs of the alive RayTrainWorker actors of this process's Ray cluster (Ray's state API)."""
    import ray
    from ray.util.state import list_actors

    actors = list_actors(
        address=ray.get_runtime_context().gcs_address,  # not "auto": another Ray may run on the machine
        filters=[("class_name", "=", "RayTrainWorker"), ("state", "=", "ALIVE")],
        raise_on_missing_output=False,
    )
    return sorted(int(a.pid) for a in actors if a.pid)


def kill_one_worker() -> int | None:
    """SIGKILL the last live Train worker (a rank > 0 when there are several); its PID, or None."""
    pids = live_train_workers()
    if not pids:
        return None
    pid = pids[-1]
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return None
    return pid


def wait_for_registered(run_dir: Path, min_step: int, timeout: float = 120.0) -> int:
    """Block until the run has a registered checkpoint at ``min_step`` or later; return its step."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        step = registered_step(run_dir)
        if step is not None and step >= min_step:
            return step
        time.sleep(0.02)
    raise TimeoutError(f"no checkpoint at step >= {min_step} registered in {run_dir} within {timeout:.0f} s")


class KillOncePerRun(threading.Thread):
    """Watches a study's storage folder and kills one Train worker in every Train run, just after the
    run registers a new checkpoint before ``last_step``. A run that has just registered one is live,
    and with one trial at a time the live workers are that run's (finished runs never change)."""

    def __init__(self, study_dir: Path, last_step: int, poll: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.study_dir, self.last_step, self.poll = study_dir, last_step, poll
        self.killed: dict[str, tuple[int, int]] = {}  # run folder -> (registered step, PID)
        self.seen: dict[str, int] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for snapshot in self.study_dir.glob(f"*/{SNAPSHOT}"):
                run = snapshot.parent.name
                step = registered_step(snapshot.parent)
                if step is None or step == self.seen.get(run):
                    continue
                self.seen[run] = step
                if run in self.killed or step >= self.last_step:
                    continue
                pid = kill_one_worker()
                if pid is not None:
                    self.killed[run] = (step, pid)
            time.sleep(self.poll)
