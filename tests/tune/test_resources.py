"""The resource plan: CPU workers of one node merged into one worker, GPU and multi-node runs as
written, the thread count of a CPU share."""

from __future__ import annotations

import pytest

from raysweep.config import RetrofitConfig
from raysweep.train.data import threads_for
from raysweep.tune.resources import plan_resources


def config(**train) -> RetrofitConfig:
    return RetrofitConfig.from_dict({"train": {"num_workers": 2, "cpus_per_worker": 1.0, **train}})


def test_cpu_workers_that_fit_one_node_are_merged_into_one() -> None:
    plan = plan_resources(config(), {"CPU": 2.0}, capacity=(0, 0))
    assert (plan.num_workers, plan.cpus_per_worker, plan.merged_from, plan.max_concurrent_trials) == (1, 1.99, 2, 1)
    assert "2 CPU workers merged into one" in plan.describe()
    assert threads_for(plan.cpus_per_worker) == 2  # the 0.01-CPU trial sliver costs no thread
    wide = plan_resources(config(), {"CPU": 16.0}, capacity=(0, 0))
    assert (wide.num_workers, wide.cpus_per_worker, wide.max_concurrent_trials) == (1, 2.0, 7)


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
