"""How many trials run at once and what each worker gets, from the cluster's resources."""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path

from raysweep.config import RetrofitConfig
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

    def describe(self) -> str:
        gpu = f", {self.gpus_per_worker:g} GPU" if self.gpus_per_worker else ""
        merged = (
            f" ({self.merged_from} CPU workers merged into one on a node: DDP inside one CPU node only adds "
            "the gradient all-reduce; train.cpu_workers: as_written keeps them)"
            if self.merged_from
            else ""
        )
        return (
            f"cluster: {self.total_cpus:g} CPUs, {self.total_gpus:g} GPUs -> {self.max_concurrent_trials} "
            f"concurrent trial(s) x {self.num_workers} worker(s) x ({self.cpus_per_worker:g} CPU{gpu}){merged}"
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
    runs as one worker holding their CPUs together, unless ``train.cpu_workers`` is ``as_written``:
    measured on a 2-core node (MiniLM, batch 32, ``bench/study_goodput.py``), 2 DDP workers of one thread
    each trained at 0.40x the plain loop's samples/s inside their steps, one worker of two threads at
    0.55-0.61x (``bench/results/study_goodput.json``, ``run_vs_plain``; ``bench/trial_overhead.py`` runs
    both side by side); the gradient all-reduce between processes of one node is pure overhead there. Ray
    Train still runs every run (one worker), so the multi-GPU and multi-node paths are the same code."""
    cpus, gpus = float(cluster.get("CPU", 0)), float(cluster.get("GPU", 0))
    grow_cpus, grow_gpus = capacity if capacity is not None else autoscaling_capacity()
    t = cfg.train
    merged_from = None
    on_one_node = t.num_workers * t.cpus_per_worker <= (node_cpus if node_cpus is not None else cpus)
    if t.gpus_per_worker == 0 and t.num_workers > 1 and t.cpu_workers == "merge" and on_one_node:
        merged_from = t.num_workers
        t = dataclasses.replace(t, num_workers=1, cpus_per_worker=t.num_workers * t.cpus_per_worker)
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
        cpus_per_worker = min(t.cpus_per_worker, budget / t.num_workers)
        auto = max(1, math.floor(cpus / (t.num_workers * cpus_per_worker + TRIAL_CPU)))
    concurrent = auto if requested == "auto" else min(int(requested), auto)
    return ResourcePlan(
        cpus, gpus, concurrent, t.num_workers, round(cpus_per_worker, 3), t.gpus_per_worker, merged_from
    )
