"""A placement group left behind by an ended trial's Train run holds its CPUs until raysweep removes
it between phases; then the next phase's jobs run."""

from __future__ import annotations

from raysweep.train.placement_leaks import release_leaked_placement_groups


def test_a_leaked_group_is_released_and_the_jobs_it_blocked_run(ray_local) -> None:
    ray = ray_local
    from ray.util.placement_group import placement_group, placement_group_table

    leaked = placement_group([{"CPU": 1.99}])  # a worker group granted after its controller died
    assert leaked.wait(timeout_seconds=60)
    job = ray.remote(num_cpus=1)(lambda: 7).remote()
    ready, _ = ray.wait([job], timeout=3)
    assert not ready  # 0.01 CPU free: the evaluation's 1-CPU jobs wait on the leak

    assert release_leaked_placement_groups() >= 1  # (and any other test of this session left)
    assert ray.get(job, timeout=60) == 7
    assert placement_group_table(leaked)["state"] == "REMOVED"
    assert release_leaked_placement_groups() == 0
