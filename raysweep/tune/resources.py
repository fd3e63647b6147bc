"""How many trials run at once and what each worker gets, from the cluster's resources."""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path

from raysweep.config import RetrofitConfig, TrainConfig
from raysweep.errors import RaysweepError

TRIAL_CPU = 0.01
"""The Tune trial itself only waits on its TorchTrainer (and launches evaluation tasks)."""
BOOTSTRAP = Path.home() / "ray_bootstrap_config.yaml"
"""Written by `ray up` on the head: the node types the autoscaler may still start."""


@dataclass
class ResourcePlan:
    total_cpus: float
    total_gpus: float
    max_concurrent_trials: int
    num_workers: int
    cpus_per_worker: float
    gpus_per_worker: float
    merged_from: int | None = None
    """The space's ``num_workers`` when the plan merged a CPU run's workers into one (see
    :func:`plan_resources`); None when it runs them as written."""
    split_from: int | None = None
    """The space's ``num_workers`` when the plan runs a CPU run as one worker of one worker's CPUs, more
    runs at once in their place (``train.cpu_workers: trials``); None otherwise."""

    def describe(self) -> str:
        gpu = f", {self.gpus_per_worker:g} GPU" if self.gpus_per_worker else ""
        how = ""
        if self.merged_from:
            how = (
                f" ({self.merged_from} CPU workers merged into one on a node: DDP inside one CPU node only adds "
                "the gradient all-reduce; train.cpu_workers: trials or as_written otherwise)"
            )
        elif self.split_from:
            how = (
                f" ({self.split_from} CPU workers of a run become runs side by side, one worker each: a run's "
                "start-up and evaluation overlap another's steps; train.cpu_workers: merge or as_written)"
            )
        return (
            f"cluster: {self.total_cpus:g} CPUs, {self.total_gpus:g} GPUs -> {self.max_concurrent_trials} "
            f"concurrent trial(s) x {self.num_workers} worker(s) x ({self.cpus_per_worker:g} CPU{gpu}){how}"
        )


def autoscaling_capacity(path: Path = BOOTSTRAP) -> tuple[float, float]:
    """(CPUs, GPUs) the cluster can grow to, from the autoscaler's config on a `ray up` head (0, 0 if none)."""
    if not path.is_file():
        return 0.0, 0.0
    try:
        config = json.loads(path.read_text())
    except (ValueError, OSError):
        return 0.0, 0.0
    cpus = gpus = 0.0
    for node in (config.get("available_node_types") or {}).values():
        res = node.get("resources") or {}
        count = max(int(node.get("max_workers", 0)), int(node.get("min_workers", 0)))
        cpus += float(res.get("CPU", 0)) * count
        gpus += float(res.get("GPU", 0)) * count
    return cpus, gpus


def cpu_workers_for(train: TrainConfig, node_cpus: float) -> str:
    """``train.cpu_workers`` with ``auto`` resolved for a node of ``node_cpus`` CPUs: ``trials`` where one
    merged run would hold the whole node (one run at a time leaves the node half idle while it starts and
    evaluates: measured on 2 cores, ``bench/results/smoke_cpu_workers.md``), else ``merge``."""
    if train.cpu_workers != "auto":
        return train.cpu_workers
    return "trials" if train.num_workers * train.cpus_per_worker >= node_cpus - 1e-9 else "merge"


def plan_resources(
    cfg: RetrofitConfig,
    cluster: dict[str, float],
    requested: int | str = "auto",
    capacity: tuple[float, float] | None = None,
    node_cpus: float | None = None,
) -> ResourcePlan:
    """Fit ``cfg``'s workers to the cluster: shrink CPU shares that cannot fit, and derive how many
    trials can train at once (GPU-bound on GPU clusters, CPU-bound otherwise).

    A CPU run (no GPUs) whose workers all fit on one node of ``node_cpus`` CPUs (default: the cluster's)
    runs by ``train.cpu_workers``:

    * ``auto`` (the default): ``trials`` where one merged run would hold a whole node, ``merge``
      elsewhere (:func:`cpu_workers_for`).
    * ``merge``: one worker holding their CPUs together. Measured on a 2-core node (MiniLM,
      batch 32, ``bench/study_goodput.py``), 2 DDP workers of one thread each trained at 0.40x the plain
      loop's samples/s inside their steps, one worker of two threads at 0.75-0.87x
      (``bench/results/study_goodput.json``, ``run_vs_plain``): the gradient all-reduce between processes
      of one node is pure overhead there.
    * ``trials``: one worker of one worker's CPUs per run and as many runs at once as the cluster holds,
      so that a run's start-up and evaluation overlap another's steps. The smoke study on 2 cores took
      262-271 s this way (5 runs) against 294 and 320 s merged, interleaved on one host (2026-12-07,
      ``bench/results/smoke_cpu_workers.md``; part of it is ASHA, which can compare two trials that run
      at once); with runs of 93 steps (4 search trials) the search was 1.3x faster (266-278 s against
      356-368 s, ``bench/results/cpu_workers.md``). ``auto`` takes it where a merged run would hold a
      whole node, not on bigger nodes: there merged runs already overlap each other, and splitting runs a
      run per CPU share, more trials at once than a sequential searcher adapts to (unmeasured).
    * ``as_written``: ``num_workers`` DDP processes, e.g. to exercise DDP.

    Either way a share that divides the cluster is not lost to each trial's 0.01-CPU sliver: 2 runs of
    one CPU fit 2 CPUs as 0.99 + 0.01 each (threads: :func:`raysweep.train.data.threads_for`). Ray Train
    still runs every run, so the multi-GPU and multi-node paths are the same code."""
    cpus, gpus = float(cluster.get("CPU", 0)), float(cluster.get("GPU", 0))
    grow_cpus, grow_gpus = capacity if capacity is not None else autoscaling_capacity()
    t = cfg.train
    merged_from = split_from = None
    node = node_cpus if node_cpus is not None else cpus
    on_one_node = t.num_workers * t.cpus_per_worker <= node
    if t.gpus_per_worker == 0 and t.num_workers > 1 and on_one_node and t.cpu_workers != "as_written":
        if cpu_workers_for(t, node) == "merge":
            merged_from = t.num_workers
            t = dataclasses.replace(t, num_workers=1, cpus_per_worker=t.num_workers * t.cpus_per_worker)
        else:  # "trials": one worker's share per run, the cluster's other shares to other runs
            split_from = t.num_workers
            t = dataclasses.replace(t, num_workers=1)
    if t.gpus_per_worker > 0:
        reachable = max(gpus, grow_gpus)
        if reachable < t.gpus_per_worker * t.num_workers:
            raise RaysweepError(
                f"the space asks for {t.num_workers} x {t.gpus_per_worker:g} GPU per trial but the cluster has "
                f"{reachable:g} GPUs; use a GPU cluster (`ray up cluster.yaml`) or a CPU space such as --space cpu"
            )
        per_trial = t.gpus_per_worker * t.num_workers
        auto = max(1, math.floor(reachable / per_trial))
        cpus_per_worker = t.cpus_per_worker
        if grow_gpus == 0 and cpus:  # a fixed cluster: do not ask for more CPUs than the nodes have
            cpus_per_worker = min(cpus_per_worker, max((cpus - TRIAL_CPU * auto) / (auto * t.num_workers), 0.1))
    else:
        budget = cpus - TRIAL_CPU
        if budget < 0.1 * t.num_workers:
            raise RaysweepError(
                f"the cluster has {cpus:g} CPUs, too few for {t.num_workers} workers; lower num_workers"
            )
        # as many runs as the cluster holds shares of the space's size, each share shrunk by its trial's
        # 0.01-CPU sliver (1.99 of a 2-core node still counts as 2 threads: train.data.threads_for)
        fits = max(1, math.floor(cpus / (t.num_workers * t.cpus_per_worker) + 1e-9))
        cpus_per_worker = min(t.cpus_per_worker, (cpus - TRIAL_CPU * fits) / (fits * t.num_workers))
        # (at most budget / num_workers already; at least 0.1, which the budget check above leaves room for),
        # rounded down to the milli-CPU so that the shares still fit
        cpus_per_worker = math.floor(max(cpus_per_worker, 0.1) * 1000 + 1e-6) / 1000
        auto = max(1, math.floor(cpus / (t.num_workers * cpus_per_worker + TRIAL_CPU) + 1e-9))
    concurrent = auto if requested == "auto" else min(int(requested), auto)
    return ResourcePlan(
        cpus,
        gpus,
        concurrent,
        t.num_workers,
        round(cpus_per_worker, 3),
        t.gpus_per_worker,
        merged_from,
        split_from,
    )
