"""The training step inside Ray Train against the plain loop, both run the way a study runs them.

    RAYSWEEP_DATA_DIR=../shared/data python bench/side_by_side_runs.py [--space smoke] [--steps 50] [--out FILE]

On one node of ``2 x T`` cores a ``train.cpu_workers: trials`` study trains two one-worker, T-thread
runs side by side; its goodput compares each run with the plain loop on T threads with a second copy
beside it (``raysweep.tune.study.measure_plain_rate``). A study's runs read below that loop (0.73-0.93x
on 2 cores), and a study mixes the step with everything else it runs (trial start-ups, evaluations, the
driver). This bench takes the rest away: on a local cluster connected as a study connects
(``raysweep.train.cluster.connect``), the space's base configuration, its prepared data,

* the plain loop, two copies side by side (each loaded first, untimed, then timed together);
* two one-worker Ray Train runs of raysweep's worker, started together, evaluated only at their end,
  each step timestamped (``bench.trial_overhead.timed_loop``); their steady samples/s over the window
  where both are past their warm-up and still in steps;
* the plain-loop pair again, and a second Train pair, and the loop pair a third time (the host's
  speed drifts: each Train pair sits between two loop readings and is read against their mean).

It prints each reading (samples/s and ``cores``, the process's CPU seconds per wall second over the
timed steps) and ``train_vs_plain``, each Train pair's mean rate over the mean of the loop
pairs around it. Nothing else runs on the cluster meanwhile, so what this ratio misses against 1 is
Ray Train's own cost inside the steps (its health-check polls, the reporting threads); what a study's
ratio misses beyond it went to the other work on the same cores (``held`` in the study's goodput).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from statistics import mean
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import emit, machine  # noqa: E402
from bench.trial_overhead import read, steady_rate, timed_loop  # noqa: E402


def window_rate(stamps: list[float], start: float, end: float, batch: int) -> float:
    """Samples/s of the steps whose start falls in ``[start, end]`` (between the first and last of them)."""
    inside = [t for t in stamps if start <= t <= end]
    return steady_rate(inside, batch, skip=0) if len(inside) > 2 else float("nan")


def window_cores(stamps: list[float], cpu: list[tuple[float, float]], start: float, end: float) -> float:
    """The process's CPU seconds per wall second between its first and last step inside ``[start, end]``
    (``cpu``: ``bench.trial_overhead.cpu_sample`` taken with each step's stamp)."""
    inside = [i for i, t in enumerate(stamps) if start <= t <= end]
    if len(inside) < 3:
        return float("nan")
    first, last = inside[0], inside[-1]
    return (cpu[last][0] - cpu[first][0]) / (stamps[last] - stamps[first])


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--space", default="smoke", help="a search space name or YAML file (its base configuration)")
    p.add_argument("--steps", type=int, default=50, help="timed steps of each loop and each run")
    p.add_argument("--out", default=None)
    a = p.parse_args(argv)

    import ray

    from raysweep.train.cluster import connect
    from raysweep.train.data import prepare_training_data
    from raysweep.train.launch import fit
    from raysweep.train.plain_loop import plain_loop_rate
    from raysweep.tune.space import load_space

    space = load_space(a.space)
    cfg = space.config_for(space.data_variants()[0])
    cores = int(os.cpu_count() or 2)
    threads = max(1, cores // 2)
    batch = cfg.sampler.batch_size
    connect(num_cpus=cores)
    storage = tempfile.mkdtemp(prefix="raysweep-side-by-side-")
    out: dict[str, Any] = {"machine": machine(), "space": space.name, "threads_per_run": threads, "steps": a.steps}
    try:
        rows = ray.put(prepare_training_data(cfg, None))
        loop = ray.remote(plain_loop_rate).options(num_cpus=threads)

        @ray.remote(num_cpus=0)
        def one_run(name: str, timing_path: str) -> None:
            run_cfg = cfg.replace(
                train={
                    "num_workers": 1,
                    "cpus_per_worker": float(threads),
                    "max_steps": a.steps + 2,
                    "eval_every": a.steps + 2,
                },
                data={"dev_limit": 64},
            )
            fit(run_cfg, rows, name, storage, loop=timed_loop, extra_loop_config={"timing_path": timing_path})

        def plain_pair(tag: str) -> float:
            ray.get([loop.remote(cfg, rows, steps=0, warmup=0, threads=threads) for _ in range(2)])
            readings = ray.get([loop.remote(cfg, rows, steps=a.steps, warmup=2, threads=threads) for _ in range(2)])
            out[tag] = {k: [r[k] for r in readings] for k in ("samples_per_s", "cores")}
            print(f"{tag}: plain loop x 2 side by side {out[tag]['samples_per_s']}", flush=True)
            return mean(out[tag]["samples_per_s"])

        def train_pair(tag: str) -> float:
            paths = [tempfile.mktemp(prefix=f"{tag}-{i}-", dir=storage) for i in range(2)]
            ray.get([one_run.remote(f"{tag}-{i}", path) for i, path in enumerate(paths)])
            ranks = [read(f"{path}.rank0") for path in paths]
            start = max(r["steps"][2] for r in ranks)  # both past their warm-up
            end = min(r["steps"][-1] for r in ranks)  # both still in steps
            out[tag] = {
                "samples_per_s": [window_rate(r["steps"], start, end, batch) for r in ranks],
                "cores": [window_cores(r["steps"], r["cpu"], start, end) for r in ranks],
                "window_s": round(end - start, 2),
                "torch_threads": [r["torch_threads"] for r in ranks],
            }
            rates = out[tag]["samples_per_s"]
            print(f"{tag}: Ray Train runs x 2 side by side {rates} over {end - start:.1f} s", flush=True)
            return mean(out[tag]["samples_per_s"])

        t0 = time.time()
        loops = [plain_pair("plain_1")]
        runs = [train_pair("train_1")]
        loops.append(plain_pair("plain_2"))
        runs.append(train_pair("train_2"))
        loops.append(plain_pair("plain_3"))
        out["train_vs_plain"] = [round(r / mean(loops[i : i + 2]), 4) for i, r in enumerate(runs)]
        out["wall_s"] = round(time.time() - t0, 1)
        print(f"train_vs_plain (each Train pair over the loop pairs around it): {out['train_vs_plain']}", flush=True)
    finally:
        ray.shutdown()
    emit(out, a.out)
    return out


if __name__ == "__main__":
    main()
