"""End to end on TWO Ray nodes: `ray up` of tests/cluster/two_nodes.yaml (head and worker in two network
namespaces joined by a veth pair, see two_nodes.py), a tiny study through `ray exec ... --address auto`
whose Train runs put their 2 DDP workers on different nodes (gloo over the veth), the worker node's
Ray processes SIGKILLed during a Train run (a reclaimed spot node), the study completing all the same,
then `ray down` and nothing of this test left: no marked process, no namespace.

What it shows: a worker joins with token auth (the token copied by the autoscaler); DDP between two
hosts; storage written by both nodes (one shared folder, as EFS would be); a lost worker node costs the
run a restart of its workers from its last registered checkpoint (once the autoscaler has restarted
Ray on that node: the 2 workers do not fit on the head alone), not its trial. What it cannot show:
the AWS autoscaler (launching and terminating instances, spot), GPUs and NCCL, and separate disks.

Only this test's processes are ever stopped, by PID (the ``RAYSWEEP_TEST_CLUSTER`` marker, see
stop_marked.py), and only its own namespaces removed, by name (``rsw2n-<tag>-h/-w``). Set
RAYSWEEP_KEEP_CLUSTER_DIR=1 to keep the temporary folder after a passing run; a failing run keeps it.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import task_fixtures
from fault_injection import SNAPSHOT, registered_step
from local_cluster import missing_tools
from tiny_study import final_results, tiny_space
from two_nodes import HEAD_IP, WORKER_IP, TwoNodeCluster

ROOT = Path(__file__).resolve().parents[2]
STEPS = 10  # tiny_space's runs: 10 steps, a checkpoint every 5 (the kill lands after the first)
NAME = "twonodes"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]
tiny_tasks_dir = pytest.fixture(scope="session")(task_fixtures.tiny_tasks_dir)


def study_command(storage: Path, model: str, data_dir: Path) -> str:
    """What `ray exec` runs on the head: a tiny study (2 search trials, then emo and plm) whose Train
    runs keep their 2 workers (``cpu_workers: as_written``) of 1.5 CPUs each: two do not fit on one
    2-CPU node, so every run spreads over both. Ray Train's state tracking is on, for :func:`train_runs`."""
    space_path = tiny_space(
        storage,
        model,
        num_samples=2,
        seeds=1,
        baselines=("plm",),
        tasks=("emotion", "drift"),
        cpus_per_worker=1.5,
        cpu_workers="as_written",
        asha_grace_period=2,  # ASHA lets every trial finish (a kill as ASHA stops a trial is another race)
    )
    # raysweep writes its study record into a file:// storage with pyarrow, which creates no folders (an
    # object store needs none): a fresh study there fails unless the study's folder exists
    (storage / "sweeps" / NAME).mkdir(parents=True, exist_ok=True)
    args = [
        "python", "-m", "raysweep.run", "--space", str(space_path), "--name", NAME, "--address", "auto",
        "--storage", (storage / "sweeps").as_uri(), "--results-dir", str(storage / "results"),
        "--data-dir", str(data_dir),
    ]  # fmt: skip
    # the storage as a file:// URI: raysweep refuses a plain path on a node's own disk (ext4 here) once the
    # cluster has two nodes, rightly on real machines; here both nodes see that folder, as EFS would be
    return "cd ~/raysweep && RAY_TRAIN_ENABLE_STATE_TRACKING=1 " + shlex.join(args)


def train_runs(cluster: TwoNodeCluster) -> list[dict[str, Any]]:
    """Ray Train's record of every Train run of the study (attempts, each worker's node), read on the head."""
    step = cluster.exec("runs", "cd ~/raysweep && python tests/cluster/two_nodes.py runs", timeout=180)
    line = next(ln for ln in step.log.read_text().splitlines() if ln.startswith("TRAIN_RUNS "))
    return json.loads(line.removeprefix("TRAIN_RUNS "))


def kill_during_a_run(cluster: TwoNodeCluster, study_dir: Path, proc: Any, timeout: float) -> dict[str, Any]:
    """Wait for the first Train run to register a checkpoint before its last step, then SIGKILL the worker
    node's Ray; then wait for that node to be back (the head's autoscaler restarts Ray there) and for the
    run to register a later checkpoint. Returns the run, the step killed at and the timings."""
    deadline = time.monotonic() + timeout
    run, step = None, None
    while time.monotonic() < deadline and proc.poll() is None:
        for snapshot in sorted(study_dir.glob(f"search-*/{SNAPSHOT}")):
            got = registered_step(snapshot.parent)
            if got is not None and got < STEPS:
                run, step = snapshot.parent, got
                break
        if run is not None:
            break
        time.sleep(0.05)
    assert run is not None and step is not None, "no Train run registered a checkpoint before its last step"
    killed_at = time.perf_counter()
    raylet = cluster.worker_raylet()
    killed = cluster.kill_worker_node()
    assert raylet in killed, f"the worker node's raylet ({raylet}) was not among the processes killed: {killed}"
    back = later = None
    while time.monotonic() < deadline and proc.poll() is None and (back is None or later is None):
        if back is None and cluster.worker_raylet(not_in=killed):  # the autoscaler restarted Ray there
            back = time.perf_counter() - killed_at
        got = registered_step(run)
        if later is None and got is not None and got > step:
            later = time.perf_counter() - killed_at
        time.sleep(0.2)
    return {"run": run.name, "step": step, "killed": len(killed), "node_back_s": back, "next_checkpoint_s": later}


def check_study(storage: Path, kill: dict[str, Any], logs_root: Path) -> None:
    """The study is complete, with no trial lost or repeated, and the killed run resumed from its checkpoint
    (``logs_root``: the folder that holds both nodes' Ray temp dirs)."""
    results, study_dir = storage / "results", storage / "sweeps" / NAME
    board = pd.read_csv(results / "leaderboard.csv")
    assert sorted(board["method"]) == ["emo", "plm"], board
    trials = pd.read_csv(results / "trials.csv")
    assert len(trials) == 2 and trials["trial_id"].is_unique, trials
    assert trials["status"].str.lower().eq("terminated").all(), trials[["trial_id", "status"]]
    assert (trials["step"] == STEPS).all(), trials[["trial_id", "step"]]  # every trial ran to its last step
    study = json.loads((results / NAME / "study.json").read_text())
    assert study["search_trials"] == 2 and study["final_runs"] == 2, study
    finals = final_results(study_dir)
    assert finals[("emo", 0)]["reused_run"] in {f"search-{t}" for t in trials["trial_id"]}, finals  # not trained again
    # every search trial's reports (Tune's result.json): steps strictly increasing, none repeated
    reported = sorted((study_dir / "search").glob("*/result.json"))
    assert len(reported) == 2, reported
    for path in reported:
        steps = [json.loads(line)["step"] for line in path.read_text().splitlines() if line.strip()]
        assert steps == sorted(set(steps)) and steps[-1] == STEPS, (path, steps)
    snapshot = json.loads((study_dir / kill["run"] / SNAPSHOT).read_text())
    steps = [r["metrics"]["step"] for r in snapshot["checkpoint_results"]]
    assert steps == sorted(set(steps)) and steps[-1] == STEPS, (kill["run"], steps)
    # rank 0 says so when a restarted worker group loads a checkpoint, in its worker log on its node: the
    # checkpoint registered when the node was killed, or a later one registered before its workers died
    resumed = [
        int(step)
        for path in sorted(logs_root.glob("tmp*/ray/session_*/logs/worker-*.out"))
        for step in re.findall(r"resuming at step (\d+)", path.read_text(errors="replace"))
    ]
    assert resumed and all(kill["step"] <= s < STEPS for s in resumed), (kill, resumed)


def check_runs(runs: list[dict[str, Any]], kill: dict[str, Any]) -> None:
    """Every Train run finished; every attempt's 2 workers were on the two nodes, one each (by node ID, and
    by address: the worker node restarted after the kill has a new ID); the killed run has a failed
    attempt and a later, finished one (its restart from the checkpoint)."""
    names = [r["name"] for r in runs]
    # the 2 search runs: both run to their end, so emo's final is its pick's search trial (exported from its
    # last checkpoint, no Train run of its own; check_study asserts that) and plm trains nothing
    assert len(names) == len(set(names)) == 2, names
    for run in runs:
        assert run["status"] == "FINISHED", run
        for attempt in run["attempts"]:
            ids = {w["node_id"] for w in attempt["workers"]}
            ips = sorted(w["node_ip"] for w in attempt["workers"])
            if attempt["workers"]:  # an attempt that never got its workers lists none
                assert len(ids) == 2 and ips == [HEAD_IP, WORKER_IP], (run["name"], attempt)
        assert run["attempts"][-1]["status"] == "FINISHED", run
    killed = next(r for r in runs if r["name"] == kill["run"])
    assert len(killed["attempts"]) >= 2 and killed["attempts"][0]["status"] != "FINISHED", killed
    others = [r for r in runs if r["name"] != kill["run"]]
    assert all(len(r["attempts"]) == 1 for r in others), others


def test_two_nodes_study_survives_a_lost_node(tiny_bert: str, tiny_tasks_dir: Path) -> None:
    missing = missing_tools() + [tool for tool in ("ip", "nsenter") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"the two-node test needs {', '.join(missing)} (apt-get install openssh-server rsync iproute2)")
    if os.geteuid() != 0:
        pytest.skip("the two-node test makes network namespaces: it needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN)")
    cluster = TwoNodeCluster(repo=ROOT, venv_bin=Path(sys.executable).parent)
    storage = cluster.root / "storage"
    passed, leftovers, netns_left = False, [], []
    timings: dict[str, float] = {}
    try:
        cluster.prepare()
        cluster.start_nodes()
        timings["up"] = cluster.up(timeout=300).seconds
        # the head's autoscaler launches the worker after `ray up` returns: wait for it to join, token auth on
        probe = cluster.exec("probe", "cd ~/raysweep && python tests/cluster/two_nodes.py probe --nodes 2 --wait 300")
        timings["worker_join"] = probe.seconds
        line = next(ln for ln in probe.log.read_text().splitlines() if ln.startswith('{"nodes"'))
        nodes = {n["id"]: n["ip"] for n in json.loads(line)["nodes"]}
        assert sorted(nodes.values()) == [HEAD_IP, WORKER_IP], nodes

        proc, log = cluster.start_exec("study", study_command(storage, tiny_bert, tiny_tasks_dir))
        kill = kill_during_a_run(cluster, storage / "sweeps" / NAME, proc, timeout=900)
        code = cluster.finish_exec("study", proc, log, timeout=1200)
        timings["study"] = cluster.steps[-1].seconds
        assert code == 0, f"the study exited with {code}\n{cluster.diagnostics(log)}"
        assert kill["node_back_s"] is not None, f"the worker node's Ray never came back: {kill}"
        assert kill["next_checkpoint_s"] is not None, f"the killed run registered no later checkpoint: {kill}"
        timings.update(node_back=kill["node_back_s"], next_checkpoint=kill["next_checkpoint_s"])
        check_study(storage, kill, cluster.root)
        check_runs(train_runs(cluster), kill)

        timings["down"] = cluster.down(timeout=180).seconds
        head_left = cluster.wait_gone(include_ssh=False, timeout=30)
        assert not cluster.head_processes(), f"the head's Ray survived `ray down`: {head_left}"
        t0 = time.perf_counter()
        stopped = cluster.stop_worker_ray()
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        timings["worker_stop"] = time.perf_counter() - t0
        assert not cluster.worker_processes(), "the worker's Ray survived its `ray stop`"
        print(
            f"\n[two nodes] up {timings['up']:.1f} s, worker joined {timings['worker_join']:.1f} s, study "
            f"{timings['study']:.1f} s (worker node killed at step {kill['step']} of {kill['run']}: back after "
            f"{timings['node_back']:.1f} s, next checkpoint after {timings['next_checkpoint']:.1f} s), down "
            f"{timings['down']:.1f} s, worker stop {timings['worker_stop']:.1f} s"
        )
        passed = True
    finally:
        if not any(step.name == "down" for step in cluster.steps) and cluster.config.is_file():
            try:  # a failed step still deserves a real `ray down`; the cleanup below is the safety net
                cluster.down(timeout=180)
            except AssertionError as err:
                print(f"[two nodes] `ray down` after the failure failed too: {str(err)[:500]}")
            if cluster.worker_processes():  # what the local provider's `ray down` leaves (see stop_worker_ray)
                try:
                    cluster.stop_worker_ray()
                except subprocess.TimeoutExpired:
                    print("[two nodes] `ray stop` on the worker timed out; the cleanup stops it by PID")
        leftovers = cluster.cleanup(grace=30.0)
        if leftovers:
            print("[two nodes] stopped by PID after `ray down`:\n  " + "\n  ".join(leftovers))
        netns_left = cluster.netns.remove()
        if passed and not os.environ.get("RAYSWEEP_KEEP_CLUSTER_DIR"):
            cluster.remove()
        else:
            print(f"[two nodes] kept {cluster.root} for inspection")
    assert not netns_left, f"could not remove {netns_left}"
    ssh_left = [line for line in leftovers if "ssh" in line and "IN NAMESPACE" not in line]
    assert not [line for line in leftovers if line not in ssh_left], f"processes left behind: {leftovers}"
    assert not [line for line in ssh_left if "UNKILLABLE" in line], f"could not stop: {ssh_left}"
