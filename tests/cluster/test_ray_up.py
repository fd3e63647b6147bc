"""End to end: `ray up` the local-provider config (tests/cluster/local.yaml), `ray exec` a smoke run
of tiny models on the head with ``--address auto``, find its output in the storage, `ray down`, and
check that nothing this test started (Ray processes, sshd, ssh ControlMasters) is left running.

Only this test's processes are ever stopped, by PID: they are the ones whose environment carries
this run's ``RAYSWEEP_TEST_CLUSTER`` marker (see stop_marked.py). Set RAYSWEEP_KEEP_CLUSTER_DIR=1 to
keep the temporary folder (keys, configs, logs) after a passing run; a failing run always keeps it.
"""

from __future__ import annotations

import os
import shlex
import sys
import time
from pathlib import Path

import pytest
import task_fixtures
from local_cluster import LocalCluster, missing_tools
from tiny_study import tiny_space

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]
tiny_tasks_dir = pytest.fixture(scope="session")(task_fixtures.tiny_tasks_dir)


def smoke_run(storage: Path, model: str, data_dir: Path) -> tuple[str, list[str]]:
    """What `ray exec` runs on the head (a real sweep of tiny models through ``--address auto``), and
    the globs (under ``storage``) it must leave behind: its leaderboard among them."""
    space = tiny_space(
        storage, model, num_samples=2, seeds=1, baselines=("plm",), tasks=("emotion", "drift"), cpus_per_worker=0.5
    )
    args = [
        "python", "-m", "raysweep.run", "--space", str(space), "--name", "smoke", "--address", "auto",
        "--storage", str(storage / "sweeps"), "--results-dir", str(storage / "results"), "--data-dir", str(data_dir),
    ]  # fmt: skip
    # run from the synced checkout, so the code under test is the code `ray up` copied to the head
    expected = ["results/leaderboard.csv", "results/comparison.md", "sweeps/smoke/search", "sweeps/smoke/final"]
    return "cd ~/raysweep && " + shlex.join(args), expected


def test_ray_up_exec_down(tiny_bert: str, tiny_tasks_dir: Path) -> None:
    missing = missing_tools()
    if missing:
        pytest.skip(f"`ray up` end-to-end test needs {', '.join(missing)} (apt-get install openssh-server rsync)")
    cluster = LocalCluster(repo=ROOT, venv_bin=Path(sys.executable).parent)
    storage = cluster.root / "storage"
    passed = False
    try:
        cluster.prepare()
        cluster.up(timeout=300)
        # `--address auto` on the head must find this cluster (not another Ray on the machine), token auth on
        cluster.exec("probe", f"cd ~/raysweep && python tests/cluster/probe_cluster.py --cpus {cluster.num_cpus}", 120)
        command, expected = smoke_run(storage, tiny_bert, tiny_tasks_dir)
        cluster.exec("run", command, timeout=900)
        missing_out = [pattern for pattern in expected if not list(storage.glob(pattern))]
        assert not missing_out, (
            f"smoke run finished but {missing_out} is missing under {storage}; its log:\n"
            + cluster.diagnostics(cluster.steps[-1].log)
        )
        down = cluster.down(timeout=120)
        # `ray down` must have stopped every Ray process of this cluster (SSH plumbing may linger
        # for ControlPersist=10s; the cleanup below accounts for it)
        t0 = time.perf_counter()
        ray_left = cluster.wait_gone(include_ssh=False, timeout=30)
        assert not ray_left, f"Ray processes survived `ray down`:\n{ray_left}\n{cluster.diagnostics(down.log)}"
        print(f"\n[ray up e2e] {cluster.timings()} (+{time.perf_counter() - t0:.1f} s until Ray exited)")
        passed = True
    finally:
        if not any(step.name == "down" for step in cluster.steps) and cluster.config.is_file():
            try:  # a failed step still deserves a real `ray down`; the cleanup below is the safety net
                cluster.down(timeout=120)
            except AssertionError as err:
                print(f"[ray up e2e] `ray down` after the failure failed too: {str(err)[:500]}")
        # Ray's dashboard and runtime-env agents exit on their own once their raylet is gone, but first
        # report its error logs to the GCS, which `ray stop` has stopped too: on a loaded machine that
        # call can wait out its GCS timeout (up to 60 s). Anything still running after that is ours.
        leftovers = cluster.cleanup(grace=75.0)
        if leftovers:
            print("[ray up e2e] stopped by PID after `ray down`:\n  " + "\n  ".join(leftovers))
        if passed and not os.environ.get("RAYSWEEP_KEEP_CLUSTER_DIR"):
            cluster.remove()
        else:
            print(f"[ray up e2e] kept {cluster.root} for inspection")
    ssh_left = [line for line in leftovers if "ssh" in line]
    assert not [line for line in leftovers if line not in ssh_left], f"processes left behind: {leftovers}"
    # ssh ControlMasters exit ControlPersist=10s after their last use; anything older is ours to fix
    assert not [line for line in ssh_left if "UNKILLABLE" in line], f"could not stop: {ssh_left}"
