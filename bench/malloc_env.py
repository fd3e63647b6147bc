"""The plain loop with glibc's default allocator settings against the loop with large-block ones, side by side.

    RAYSWEEP_DATA_DIR=../shared/data python bench/malloc_env.py [--space smoke] [--steps 20] [--rounds 3] [--out FILE]

By default glibc serves a block above a threshold (which grows to at most 32 MiB) with its own ``mmap``
and returns it when freed, and trims its heap above twice that threshold free: a training step frees
and maps much of its activations again every step, each fresh page a page fault. In a VM that hands free
pages back to its host (free page reporting), a page fault on such a page is a host fault. This bench
runs the plain loop (``raysweep.train.plain_loop.plain_loop_rate``, one thread, the space's base
configuration) in Ray tasks of two worker pools that differ only in their environment: glibc's defaults,
and ``raysweep.train.cluster.MALLOC_ENV`` (``LARGE``: what every study's Ray workers get),
in alternating rounds (one at a time, each after its own warm-up steps), and prints each reading's
samples/s and page faults, and ``large_vs_default``: the median over rounds of the rates' ratio.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import emit, machine, median  # noqa: E402
from raysweep.train.cluster import MALLOC_ENV as LARGE  # noqa: E402  (what every study's workers get)

DEFAULT = {"RAYSWEEP_BENCH_POOL": "default"}
"""No ``MALLOC_*`` variable: glibc's own behaviour (its mmap threshold grows with the blocks it frees);
the variable only gives these tasks a worker pool of their own. (Setting glibc's default values
explicitly turns that growth off: 5.6 million page faults a reading and 0.74x, not the default.)"""


def loop_with_faults(cfg: Any, data: Any, steps: int) -> dict[str, Any]:
    """``plain_loop_rate`` on one thread, with the process's minor page faults over the whole reading
    (the model's load, its warm-up and its timed steps)."""
    import resource

    from raysweep.train.plain_loop import plain_loop_rate

    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    out = plain_loop_rate(cfg, data, steps=steps, warmup=2, threads=1)
    out["faults"] = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--space", default="smoke", help="a search space name or YAML file (its base configuration)")
    p.add_argument("--steps", type=int, default=20, help="timed steps of each reading")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--out", default=None)
    a = p.parse_args(argv)

    import ray

    from raysweep.train.cluster import connect
    from raysweep.train.data import prepare_training_data
    from raysweep.tune.space import load_space

    space = load_space(a.space)
    cfg = space.config_for(space.data_variants()[0])
    connect(num_cpus=int(os.cpu_count() or 2), malloc_env=False)  # each pool sets its own
    out: dict[str, Any] = {"machine": machine(), "space": space.name, "steps": a.steps, "rounds": a.rounds}
    try:
        rows = ray.put(prepare_training_data(cfg, None))
        pools = {
            name: ray.remote(loop_with_faults).options(num_cpus=1, runtime_env={"env_vars": env})
            for name, env in (("default", DEFAULT), ("large", LARGE))
        }
        readings: dict[str, list[dict[str, Any]]] = {name: [] for name in pools}
        for r in range(a.rounds):
            for name in list(pools) if r % 2 == 0 else list(pools)[::-1]:
                reading = ray.get(pools[name].remote(cfg, rows, a.steps))
                readings[name].append(reading)
                print(
                    f"round {r + 1} {name}: {reading['samples_per_s']:.2f} samples/s, "
                    f"{reading['faults']} page faults (load, warm-up and steps)",
                    flush=True,
                )
        for name, rs in readings.items():
            out[name] = {k: [round(x[k], 3) for x in rs] for k in ("samples_per_s", "faults", "cores")}
        large, default = out["large"]["samples_per_s"], out["default"]["samples_per_s"]
        ratios = [lg / df for lg, df in zip(large, default, strict=True)]
        out["large_vs_default"] = round(median(ratios), 4)
        out["env"] = LARGE
        print(f"large_vs_default (median over rounds): {out['large_vs_default']}", flush=True)
    finally:
        ray.shutdown()
    emit(out, a.out)
    return out


if __name__ == "__main__":
    main()
