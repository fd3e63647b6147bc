"""The resource plan: CPU workers of one node merged into one worker or split into runs side by side,
GPU and multi-node runs as written, no share lost to a trial's 0.01-CPU sliver, the thread count of a
CPU share."""

from __future__ import annotations

import pytest

from raysweep.config import RetrofitConfig
from raysweep.train.data import threads_for
from raysweep.tune.resources import TRIAL_CPU, cpu_workers_for, plan_resources


def config(**train) -> RetrofitConfig:
    return RetrofitConfig.from_dict({"train": {"num_workers": 2, "cpus_per_worker": 1.0, **train}})


def test_cpu_workers_that_fit_one_node_are_merged_into_one() -> None:
    plan = plan_resources(config(cpu_workers="merge"), {"CPU": 2.0}, capacity=(0, 0))
    assert (plan.num_workers, plan.cpus_per_worker, plan.merged_from, plan.max_concurrent_trials) == (1, 1.99, 2, 1)
    assert "2 CPU workers merged into one" in plan.describe()
    assert threads_for(plan.cpus_per_worker) == 2  # the 0.01-CPU trial sliver costs no thread
    wide = plan_resources(config(), {"CPU": 16.0}, capacity=(0, 0))  # 8 runs of 2 threads, each share less the sliver
    assert (wide.num_workers, wide.cpus_per_worker, wide.max_concurrent_trials) == (1, 1.99, 8)


def test_trials_runs_one_worker_per_run_and_as_many_runs_at_once_as_the_cluster_holds() -> None:
    plan = plan_resources(config(cpu_workers="trials"), {"CPU": 2.0}, capacity=(0, 0))
    assert (plan.num_workers, plan.cpus_per_worker, plan.split_from, plan.max_concurrent_trials) == (1, 0.99, 2, 2)
    assert plan.merged_from is None and "2 CPU workers of a run become runs side by side" in plan.describe()
    assert threads_for(plan.cpus_per_worker) == 1
    # two runs' workers and their trials' slivers fit the 2 CPUs exactly (Ray would queue the second)
    assert plan.max_concurrent_trials * (plan.cpus_per_worker + TRIAL_CPU) <= 2.0
    wide = plan_resources(config(cpu_workers="trials", cpus_per_worker=4.0), {"CPU": 16.0}, capacity=(0, 0))
    assert (wide.num_workers, wide.cpus_per_worker, wide.max_concurrent_trials, threads_for(wide.cpus_per_worker)) == (
        1,
        3.99,
        4,
        4,
    )
    # workers that do not fit one node, and GPU runs, run as written
    spread = plan_resources(
        config(cpu_workers="trials", cpus_per_worker=4.0), {"CPU": 8.0}, capacity=(0, 0), node_cpus=4.0
    )
    assert (spread.num_workers, spread.split_from) == (2, None)
    gpu = plan_resources(config(cpu_workers="trials", gpus_per_worker=1.0), {"CPU": 8.0, "GPU": 2.0}, capacity=(0, 0))
    assert (gpu.num_workers, gpu.split_from) == (2, None)


@pytest.mark.parametrize(
    ("workers", "share", "cpus", "expected"),
    [(1, 1.0, 2.0, 2), (1, 0.4, 2.0, 5), (2, 1.0, 2.0, 1), (1, 2 / 3, 2.0, 3), (4, 1.0, 16.0, 4), (4, 1.5, 16.0, 2)],
)
def test_a_cpu_share_that_divides_the_cluster_is_not_lost_to_the_trials_sliver(
    workers: int, share: float, cpus: float, expected: int
) -> None:
    plan = plan_resources(
        config(num_workers=workers, cpus_per_worker=share, cpu_workers="as_written"), {"CPU": cpus}, capacity=(0, 0)
    )
    assert plan.max_concurrent_trials == expected
    assert plan.max_concurrent_trials * (plan.num_workers * plan.cpus_per_worker + TRIAL_CPU) <= cpus + 1e-9


def test_as_written_keeps_ddp_and_runs_too_big_for_a_node_or_on_gpus_are_not_merged() -> None:
    kept = plan_resources(config(cpu_workers="as_written"), {"CPU": 2.0}, capacity=(0, 0))
    assert (kept.num_workers, kept.cpus_per_worker, kept.merged_from) == (2, 0.995, None)
    spread = plan_resources(config(cpus_per_worker=4.0), {"CPU": 8.0}, capacity=(0, 0), node_cpus=4.0)
    assert (spread.num_workers, spread.cpus_per_worker, spread.merged_from) == (2, 3.995, None)
    gpu = plan_resources(config(gpus_per_worker=1.0), {"CPU": 8.0, "GPU": 2.0}, capacity=(0, 0))
    assert (gpu.num_workers, gpu.merged_from) == (2, None)


def test_a_bad_cpu_workers_value_is_refused() -> None:
    from raysweep.errors import RaysweepError

    with pytest.raises(RaysweepError, match="cpu_workers"):
        config(cpu_workers="both").validate()


@pytest.mark.parametrize(("cpus", "threads"), [(0.5, 1), (0.995, 1), (1.0, 1), (1.99, 2), (3.99, 4), (4.0, 4)])
def test_threads_for_a_cpu_share(cpus: float, threads: int) -> None:
    assert threads_for(cpus) == threads


def test_auto_splits_where_a_merged_run_would_hold_the_node_and_merges_elsewhere() -> None:
    small = plan_resources(config(), {"CPU": 2.0}, capacity=(0, 0))  # one merged run would be the whole node
    assert (small.num_workers, small.cpus_per_worker, small.split_from, small.max_concurrent_trials) == (1, 0.99, 2, 2)
    wide = plan_resources(config(), {"CPU": 16.0}, capacity=(0, 0))  # 8 merged runs share the node
    assert (wide.num_workers, wide.cpus_per_worker, wide.merged_from, wide.max_concurrent_trials) == (1, 1.99, 2, 8)
    nodes = plan_resources(config(cpus_per_worker=2.0), {"CPU": 8.0}, capacity=(0, 0), node_cpus=4.0)
    assert (nodes.num_workers, nodes.split_from) == (1, 2)  # a merged run would fill one 4-CPU node
    assert cpu_workers_for(config().train, 2.0) == "trials" and cpu_workers_for(config().train, 3.0) == "merge"
    assert cpu_workers_for(config(cpu_workers="merge").train, 2.0) == "merge"
