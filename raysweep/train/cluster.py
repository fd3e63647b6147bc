"""Connecting to Ray: a local cluster sized to this machine, or an existing one with ``--address``."""

from __future__ import annotations

import os

from raysweep.errors import RaysweepError

# Environment every Ray worker process inherits (set before the cluster starts).
WORKER_ENV = {
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
}


def connect(address: str | None = None, num_cpus: int | None = None, **kwargs) -> dict[str, float]:
    """``ray.init`` on ``address`` (None: a fresh local cluster); returns the cluster's resources."""
    import ray

    if ray.is_initialized():
        return dict(ray.cluster_resources())
    env = {**WORKER_ENV, **{k: v for k, v in os.environ.items() if k.startswith(("RAYSWEEP_", "HF_"))}}
    try:
        if address in (None, "local"):
            ray.init(
                address="local",
                num_cpus=num_cpus or os.cpu_count(),
                include_dashboard=False,
                runtime_env={"env_vars": env},
                **kwargs,
            )
        else:
            ray.init(address=address, runtime_env={"env_vars": env}, **kwargs)
    except ConnectionError as err:
        raise RaysweepError(
            f"--address {address}: no Ray cluster answered ({err}); start one with `ray start --head` or "
            "`ray up cluster.yaml`, or leave --address out to run locally"
        ) from None
    return dict(ray.cluster_resources())
