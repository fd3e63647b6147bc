"""The plain loop a study measures at its start: the whole node's, and, where the plan's runs hold part of
a node, a run's own threads' too (what each run's speed is compared with)."""

from __future__ import annotations

from pathlib import Path

import pytest
import task_fixtures
from tiny_study import tiny_space

from raysweep.train.data import prepare_training_data
from raysweep.tune.resources import ResourcePlan
from raysweep.tune.space import load_space
from raysweep.tune.study import data_key, measure_plain_rate, run_threads

tiny_tasks_dir = pytest.fixture(scope="session")(task_fixtures.tiny_tasks_dir)

MERGED = ResourcePlan(2, 0, 1, num_workers=1, cpus_per_worker=1.99, gpus_per_worker=0, merged_from=2)
SPLIT = ResourcePlan(2, 0, 2, num_workers=1, cpus_per_worker=0.99, gpus_per_worker=0, split_from=2)
AS_WRITTEN = ResourcePlan(2, 0, 1, num_workers=2, cpus_per_worker=0.99, gpus_per_worker=0)


def test_a_runs_threads_count_all_its_workers() -> None:
    assert run_threads(MERGED) == 2 and run_threads(SPLIT) == 1 and run_threads(AS_WRITTEN) == 2


def test_runs_of_part_of_the_node_get_a_loop_of_their_own_threads(
    ray_local, tiny_bert: str, tiny_tasks_dir: Path, tmp_path: Path
) -> None:
    space = load_space(str(tiny_space(tmp_path, tiny_bert)), {"base": {"data": {"data_dir": str(tiny_tasks_dir)}}})
    cfg = space.config_for(space.data_variants()[0])
    data = {data_key(cfg): prepare_training_data(cfg)}
    split = measure_plain_rate(space, data, SPLIT)
    assert split["threads"] == 2 and split["per_run"]["threads"] == 1
    assert split["per_run"]["samples_per_s"] > 0 and split["per_run"]["batch"] == split["batch"]
    assert split["per_run"]["side_by_side"] == 2  # two one-thread loops at once, as two runs share the node
    merged = measure_plain_rate(space, data, MERGED)
    assert merged["threads"] == 2 and "per_run" not in merged  # a run holds the node: one loop is enough
