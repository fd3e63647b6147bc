"""Run on the head by test_ray_up.py (`ray exec ... python tests/cluster/probe_cluster.py`): joins the
cluster the way the sweep does (``address="auto"``) and checks it is *this* cluster, with token
authentication on. Prints one ``probe ok ...`` line, or exits 1 with the reason."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--cpus", type=float, required=True, help="CPUs the test cluster was started with")
    args = p.parse_args(argv)

    import ray
    from ray._raylet import AuthenticationMode, get_authentication_mode

    ray.init(address="auto", logging_level="ERROR")
    resources = ray.cluster_resources()
    mode = get_authentication_mode()
    ray.shutdown()
    problems = []
    if resources.get("CPU") != args.cpus or resources.get("GPU"):
        problems.append(f"`address=auto` found a cluster with {resources}, not this one ({args.cpus} CPUs, no GPU)")
    if mode != AuthenticationMode.TOKEN:
        problems.append(f"token authentication is off on the head (mode {mode})")
    if problems:
        print("probe failed: " + "; ".join(problems), file=sys.stderr)
        return 1
    print(f"probe ok: CPU {resources['CPU']:g}, token auth on")
    return 0


if __name__ == "__main__":
    sys.exit(main())
