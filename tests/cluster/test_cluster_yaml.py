"""cluster.yaml, offline: Ray's own schema (prepare_config + validate_config) and raysweep's invariants."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CLUSTER_YAML = ROOT / "cluster.yaml"
GPU_FAMILIES = ("g4dn", "g5", "g6", "g6e", "gr6", "p3", "p4d", "p4de", "p5", "p5e")


def load() -> dict[str, Any]:
    return yaml.safe_load(CLUSTER_YAML.read_text())


@pytest.fixture(scope="module")
def prepared() -> dict[str, Any]:
    """cluster.yaml after Ray's defaults are filled in and its schema accepts it."""
    from ray.autoscaler._private.util import prepare_config, validate_config

    config = prepare_config(load())
    validate_config(config)
    return config


def family(instance_type: str) -> str:
    return instance_type.split(".")[0]


def head_and_workers(config: dict[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    types = config["available_node_types"]
    head = types[config["head_node_type"]]
    return head, {name: t for name, t in types.items() if name != config["head_node_type"]}


def all_commands(config: dict[str, Any]) -> str:
    keys = ("initialization_commands", "setup_commands", "head_setup_commands", "worker_setup_commands")
    return "\n".join(cmd for key in keys for cmd in config.get(key) or [])


def test_ray_accepts_it(prepared):
    assert prepared["provider"]["type"] == "aws"
    assert prepared["provider"]["region"], "cluster.yaml must name a region"


def test_head_is_cpu_only_and_on_demand(prepared):
    head, _ = head_and_workers(prepared)
    node = head["node_config"]
    assert family(node["InstanceType"]) not in GPU_FAMILIES, f"head {node['InstanceType']} is a GPU instance"
    assert head.get("resources", {}).get("GPU", 0) == 0
    assert "InstanceMarketOptions" not in node, "the head holds the Tune drivers: never spot"
    assert not node.get("SpotOptions") and head.get("max_workers", 0) == 0
    start = " ".join(prepared["head_start_ray_commands"])
    assert "--num-gpus=0" in start


def test_workers_have_gpus_and_autoscale_from_zero(prepared):
    _, workers = head_and_workers(prepared)
    assert workers, "no worker node type"
    for name, worker in workers.items():
        node = worker["node_config"]
        assert family(node["InstanceType"]) in GPU_FAMILIES, f"{name}: {node['InstanceType']} has no GPU"
        assert worker["resources"].get("GPU", 0) >= 1, f"{name}: resources must announce its GPU to the autoscaler"
        assert worker.get("min_workers", 0) == 0, f"{name}: min_workers must be 0 (no idle GPUs)"
        assert worker["max_workers"] >= 1
        # workers write checkpoints to S3 themselves
        assert "IamInstanceProfile" in node, f"{name}: needs an instance profile that can write the bucket"


def test_setup_installs_this_project_and_pinned_deps(prepared):
    head_cmds = "\n".join(prepared["head_setup_commands"])
    worker_cmds = "\n".join(prepared["worker_setup_commands"])
    for where, cmds in (("head", head_cmds), ("workers", worker_cmds)):
        assert re.search(r"pip install .*-e ~/raysweep", cmds), f"{where}: setup must pip install this checkout"
        assert "torch==2.13.0" in cmds, f"{where}: torch must be the pinned release"
        assert "ray[default]==2.60.0" in cmds, f"{where}: Ray on the nodes must match the project's pin"
    assert "whl/cpu" in head_cmds, "the CPU head should take the CPU wheel of torch"
    assert "whl/cpu" not in worker_cmds, "GPU workers need the CUDA build of torch"
    assert "cuda.is_available()" in worker_cmds, "a GPU worker without CUDA must fail its setup, not its trials"
    assert prepared["file_mounts"].get("~/raysweep") == ".", "the checkout must be synced to ~/raysweep"
    assert ".gitignore" in prepared["rsync_filter"]


def test_storage_is_shared_not_node_local(prepared):
    commands = all_commands(prepared)
    storage = re.search(r"RAYSWEEP_STORAGE=(\S+?)'?(\s|$)", commands)
    assert storage, "setup must export RAYSWEEP_STORAGE (the sweep's storage_path)"
    value = storage.group(1)
    assert value.startswith("s3://"), f"storage {value} is not on S3: every node must reach it"
    assert "validate_storage" in commands, "the head should check the bucket at `ray up`, not at the first trial"


def test_dashboard_only_through_ssh(prepared):
    start = " ".join(prepared["head_start_ray_commands"])
    assert "--dashboard-host=127.0.0.1" in start or "--dashboard-host=localhost" in start
    assert "0.0.0.0" not in start
    extra = prepared["provider"].get("security_group", {}).get("IpPermissions", [])
    ports = [(rule.get("FromPort"), rule.get("ToPort")) for rule in extra]
    assert all(port == (22, 22) for port in ports), f"only SSH may be opened, not {ports}"


def test_token_auth_stays_on(prepared):
    head_start = " ".join(prepared["head_start_ray_commands"])
    worker_start = " ".join(prepared["worker_start_ray_commands"])
    # `ray start --head` only turns token auth on when a token exists or RAY_AUTH_MODE=token
    assert "get-auth-token --generate" in head_start
    assert "RAY_AUTH_MODE=token ray start --head" in head_start
    assert "RAY_AUTH_MODE=token ray start --address" in worker_start
    assert "~/.ray/auth_token" in prepared["cluster_synced_files"], "workers need the head's token"
    assert "RAY_AUTH_MODE=disabled" not in all_commands(prepared) + head_start + worker_start


def test_edit_points_are_marked():
    text = CLUSTER_YAML.read_text()
    for what in ("region", "bucket", "account id", "key"):
        assert re.search(rf"EDIT.*{what}", text, re.IGNORECASE), f"cluster.yaml must say where to edit the {what}"
