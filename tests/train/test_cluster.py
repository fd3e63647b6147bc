"""Connecting to Ray: the environment every worker gets, and a fast refusal of a dead --address."""

from __future__ import annotations

import os
import socket
import time

import pytest

from raysweep.errors import RaysweepError
from raysweep.train.cluster import MALLOC_ENV, probe_address


def test_workers_get_the_train_settings(ray_local) -> None:
    @ray_local.remote(num_cpus=0)
    def env() -> dict[str, str | None]:
        keys = (
            "RAY_TRAIN_HEALTH_CHECK_INTERVAL_S",
            "RAY_TRAIN_WORKER_GROUP_START_TIMEOUT_S",
            "RAY_TRAIN_ENABLE_PREEMPTION_WATCHER",
            "RAY_ADDRESS",
            *MALLOC_ENV,
        )
        return {k: os.environ.get(k) for k in keys}

    seen = ray_local.get(env.remote())
    assert seen["RAY_TRAIN_HEALTH_CHECK_INTERVAL_S"] == "1.0"
    assert seen["RAY_TRAIN_WORKER_GROUP_START_TIMEOUT_S"] == "600"
    assert seen["RAY_TRAIN_ENABLE_PREEMPTION_WATCHER"] == "0"  # a local cluster: no node is ever drained
    assert seen["RAY_ADDRESS"] == ray_local.get_runtime_context().gcs_address  # pinned by the setup hook
    assert {k: seen[k] for k in MALLOC_ENV} == MALLOC_ENV  # glibc keeps freed blocks (bench/malloc_env.py)


def test_idle_task_workers_outlive_the_actors_beside_them(ray_local) -> None:
    """An evaluation's task workers (imports done) are still there for the next model's evaluation after a
    Train run's actors (the trainable, the controller, the worker: CPUs held) came and went beside them;
    with Ray's default limit (one worker per CPU) they are killed while the actors run."""

    @ray_local.remote(num_cpus=0.5)
    class Busy:  # stand-ins for the actors of the next final run
        def pid(self) -> int:
            return os.getpid()

    @ray_local.remote(num_cpus=1)
    def pid() -> int:
        return os.getpid()

    first = set(ray_local.get([pid.remote(), pid.remote()]))
    actors = [Busy.remote() for _ in range(3)]
    ray_local.get([a.pid.remote() for a in actors])
    time.sleep(3.0)  # Ray kills idle workers over its limit after 1 s
    for a in actors:
        ray_local.kill(a)
    time.sleep(0.5)
    assert set(ray_local.get([pid.remote(), pid.remote()])) & first


FRESH_CLUSTER = """
import os, time
import ray
from raysweep.train.cluster import connect
connect(num_cpus=2)
gcs = ray.get_runtime_context().gcs_address
time.sleep(3.0)  # Ray prestarts the first driver's workers within a second
procs = {}
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        ppid = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
        procs[int(pid)] = (ppid, open(f"/proc/{pid}/cmdline").read().split("\\0"))
    except OSError:
        continue
raylets = {p for p, (_, argv) in procs.items() if argv[0].endswith("raylet") and f"--gcs-address={gcs}" in argv}
print(len(raylets), sum(ppid in raylets and argv[0] == "ray::IDLE" for ppid, argv in procs.values()))
ray.shutdown()
"""


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads the raylet's children from /proc")
def test_a_local_cluster_starts_no_worker_its_job_cannot_use() -> None:
    """Ray starts a worker per CPU for the first driver without the job's runtime environment, which
    raysweep's job always has: such a process could never run a task of the study. A fresh local
    cluster has no worker process before its first task (``LOCAL_SYSTEM_CONFIG``)."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", FRESH_CLUSTER],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "RAY_ADDRESS": ""},
        check=True,
    )
    raylets, idle = map(int, done.stdout.strip().splitlines()[-1].split())
    assert (raylets, idle) == (1, 0)


def test_dead_address_is_refused_in_seconds() -> None:
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.perf_counter()
    with pytest.raises(RaysweepError, match=f"--address 127.0.0.1:{port}: no Ray cluster answered"):
        probe_address(f"127.0.0.1:{port}")
    assert time.perf_counter() - t0 < 5


def test_listening_address_and_auto_pass() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        probe_address(f"127.0.0.1:{server.getsockname()[1]}")
        probe_address(f"ray://127.0.0.1:{server.getsockname()[1]}")
    probe_address("auto")  # left to Ray's discovery
