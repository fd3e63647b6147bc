"""Connecting to Ray: a local cluster sized to this machine, or an existing one with ``--address``."""

from __future__ import annotations

import os
import socket

from raysweep.errors import RaysweepError

# Environment every Ray worker process inherits (set before the cluster starts); the user's own
# TRANSFORMERS_* variables override it. transformers logs a LOAD REPORT (a table of unused or newly
# initialised weights, e.g. the pooler a BertModel drops) as a warning each time a process loads a
# model: once per Train worker, final run and evaluation task; errors still show.
WORKER_ENV = {
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
}
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": str(2**30), "MALLOC_TRIM_THRESHOLD_": str(2**30), "MALLOC_TOP_PAD_": str(2**28)}
"""glibc's allocator settings for every Ray worker process (the user's own ``MALLOC_*`` variables win).
By default glibc maps a large block with its own ``mmap`` and returns it when freed, and trims its heap
when much of its top is free, so a training step faults fresh pages in for its activations again and
again (about 300,000 faults a plain-loop reading of 22 steps, smoke space); in a VM that reports free
pages to its host, as the project's do, such a page can cost a host fault. Blocks up to 1 GiB from the
heap and up to 1 GiB kept free in it: about 25,000 faults a reading, and the loop at 1.036x in the same
warm worker processes (``python bench/malloc_env.py``, ``bench/results/malloc_env.json``, 2 cores). A
process keeps the memory of its peak step instead of handing it back between steps."""

# Ray Train V2 settings, defaults that the user's own RAY_TRAIN_* variables override. The controller
# polls its workers every 2 s by default, which costs 2.5-4 s of teardown per trial (bench/); each poll is
# an actor call that the worker's main thread serves beside the training thread, so polling every 0.2 s
# (what raysweep set before) slowed a 1-worker run to 0.79-0.80x of the same step in process, against
# 0.92x at 1 s and 0.91-1.01x at 2 s (`python -m bench.trial_overhead --skip-tune`, 2 cores, 2026-12-07):
# 1 s keeps the speed for half the default's teardown. A worker group that waits more than 60 s for
# resources fails the run, which an autoscaling cluster (minutes to start a GPU node) or a loaded machine
# (workers importing torch) easily exceeds.
# Train V2 patches ``print`` on its workers to log to the root logger, and, because a Ray worker's
# ``sys.stdout`` is not ``sys.__stdout__``, also prints the line itself: every line a worker prints
# reached the worker's log (and the driver's console) twice. Unpatched, it is printed once.
TRAIN_ENV = {
    "RAY_TRAIN_HEALTH_CHECK_INTERVAL_S": "1.0",
    "RAY_TRAIN_WORKER_GROUP_START_TIMEOUT_S": "600",
    "RAY_TRAIN_ENABLE_PRINT_PATCH": "0",
}


LOCAL_TRAIN_ENV = {"RAY_TRAIN_ENABLE_PREEMPTION_WATCHER": "0"}
"""Train V2 settings for a local cluster only (one machine, no autoscaler: no node is ever drained). Each
Train run otherwise starts a PreemptionWatcher actor, one more Python process per run that polls the
GCS for draining nodes every 5 s: about 2 s of CPU per run on a 2-core node, taken from the runs
training beside it. On a cluster (``--address``), where spot nodes are drained, it stays on."""


def pin_ray_address() -> None:
    """Worker-process setup hook: point Ray's auto-discovery (``RAY_ADDRESS``) at this process's own
    cluster. Train V2's PlacementGroupCleaner queries the state API with auto-discovery, which fails
    when a second Ray instance runs on the machine (another study, a test cluster); the cleaner then
    dies and the placement group of a trial stopped early (ASHA) is never freed."""
    import ray

    try:
        os.environ["RAY_ADDRESS"] = ray.get_runtime_context().gcs_address
    except Exception:  # not connected yet: auto-discovery stays as it was
        pass


PROBE_TIMEOUT_S = 5.0

IDLE_WORKERS_PER_CPU = 4
"""Idle Ray worker processes a local cluster keeps per CPU (Ray's ``num_workers_soft_limit``; its default
is one per CPU). Ray counts the processes of actors that hold CPUs against that limit too: a final run's
Tune trainable and Train worker already fill it on a 2-core node, so the evaluation's
task workers (torch and transformers imported) were killed a second after each evaluation, and the next
model's evaluation paid the imports again (11-13 s against 6-7 s per evaluation with them kept, measured on
2 cores). Kept, they cost their resident memory (a few hundred MB each) and no CPU."""

LOCAL_SYSTEM_CONFIG = {"prestart_worker_first_driver": False}
"""Ray system settings of a local cluster besides the idle-worker limit. When the first driver connects,
Ray starts one worker process per CPU for it ahead of any task, without the job's runtime environment;
raysweep's job has one (the variables above and the setup hook), so none of them can ever run its tasks
or actors: each cost 0.6 s of CPU to start and kept 79 MB resident for the whole study (2 of them on
2 cores, 2026-12-08). Every task and actor of a study starts a process with its environment anyway."""


def probe_address(address: str, timeout: float = PROBE_TIMEOUT_S) -> None:
    """Fail in seconds, with one line, when ``address`` cannot be a Ray cluster: it is not
    ``host[:port]``, its host does not resolve, or nothing listens at an explicit ``host:port``
    (``ray.init`` would retry the GCS for minutes). ``auto`` is left to Ray's own discovery."""
    if address == "auto":
        return
    scheme, has_scheme, target = address.partition("://")
    target = target if has_scheme else scheme
    host, sep, port = target.rpartition(":") if ":" in target.strip("[]") or "]:" in target else (target, "", "")
    host = host.strip("[]")
    if not host or (sep and not port.isdigit()) or "/" in target:
        raise RaysweepError(
            f"--address {address!r} is not host:port; give the head's address (e.g. 10.0.0.1:6379), auto on a "
            "cluster node, or leave --address out to run locally"
        )
    try:
        socket.getaddrinfo(host, None)
    except OSError as err:
        raise RaysweepError(
            f"--address {address}: the host {host!r} does not resolve ({err.strerror or type(err).__name__}); "
            "check the name (or use the head's IP address), or leave --address out to run locally"
        ) from None
    if not sep:
        return
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise RaysweepError(
            f"--address {address}: no Ray cluster answered ({reason}); start one with `ray start --head` or "
            "`ray up cluster.yaml`, or leave --address out to run locally"
        ) from None


FORWARDED_PREFIXES = ("RAYSWEEP_", "HF_", "RAY_TRAIN_", "TRANSFORMERS_", "MALLOC_")
"""The driver's variables every worker gets too (they win over the defaults above)."""


def connect(
    address: str | None = None, num_cpus: int | None = None, malloc_env: bool = True, **kwargs
) -> dict[str, float]:
    """``ray.init`` on ``address`` (None: a fresh local cluster); returns the cluster's resources.
    ``malloc_env=False`` leaves glibc's allocator at its defaults (``MALLOC_ENV``; ``bench/malloc_env.py``)."""
    import ray

    if address not in (None, "local"):
        probe_address(address)  # an address that cannot answer is refused even if Ray is already up here
    if ray.is_initialized():
        return dict(ray.cluster_resources())
    env = {
        **WORKER_ENV,
        **(MALLOC_ENV if malloc_env else {}),
        **TRAIN_ENV,
        **(LOCAL_TRAIN_ENV if address in (None, "local") else {}),
        **{k: v for k, v in os.environ.items() if k.startswith(FORWARDED_PREFIXES)},
    }
    runtime_env = {"env_vars": env, "worker_process_setup_hook": "raysweep.train.cluster.pin_ray_address"}
    try:
        if address in (None, "local"):
            cpus = num_cpus or os.cpu_count() or 1
            # the dashboard hosts the state API, which Train V2's PlacementGroupCleaner needs to free the
            # workers' placement group of a trial that Tune stops (ASHA) mid-fit; without it they leak
            ray.init(
                address="local",
                num_cpus=cpus,
                include_dashboard=True,
                dashboard_host="127.0.0.1",
                runtime_env=runtime_env,
                _system_config={"num_workers_soft_limit": IDLE_WORKERS_PER_CPU * int(cpus), **LOCAL_SYSTEM_CONFIG},
                **kwargs,
            )
        else:
            ray.init(address=address, runtime_env=runtime_env, **kwargs)
    except ConnectionError as err:
        raise RaysweepError(
            f"--address {address}: no Ray cluster answered ({err}); start one with `ray start --head` or "
            "`ray up cluster.yaml`, or leave --address out to run locally"
        ) from None
    return dict(ray.cluster_resources())


def largest_node_cpus(default: float = 0.0) -> float:
    """CPU cores of the largest live node of the connected cluster (``default`` when none reports any):
    a task or a Train run asking for more would never be scheduled."""
    import ray

    return max((n["Resources"].get("CPU", 0.0) for n in ray.nodes() if n.get("Alive")), default=default)
