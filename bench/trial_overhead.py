"""Per-trial costs around the training step: data preparation, trial start-up/teardown, DDP, memory.

    python -m bench.trial_overhead [--data-dir ../shared/data] [--out FILE]

* data: ``prepare_training_data`` cold (tokenise, then frozen targets) and again (in-memory and on-disk
  caches), in a fresh ``RAYSWEEP_CACHE_DIR``; ``share`` (one ``ray.put``) for all trials.
* Ray Tune: a trivial function trainable (reference) and a trial that runs a real 1-worker Ray Train
  retrofit (``raysweep.train.launch.build_trainer``) for a few steps, with Train V2's health-check
  interval at its default and lowered; timestamps from the driver, the trainable and the worker give
  start-up (trial start -> first training step) and teardown (worker loop done -> ``Tuner.fit`` returns).
* Ray Train without Tune: 1 worker (2 threads) vs 2 DDP workers (gloo, 1 thread each), same global
  batch, steady-state samples/s from per-step timestamps; and the same step in this process beside it.
* Peak RSS of each worker and of this driver.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import ROOT, bench_config, data_dir, emit, peak_rss_mb

HEALTH_ENV = "RAY_TRAIN_HEALTH_CHECK_INTERVAL_S"
RAY_DEFAULT_HEALTH_S = 2.0


def timed_loop(loop_config: dict[str, Any]) -> list[dict[str, Any]]:
    """``train_loop_per_worker`` with timestamps: entry, each step's start, each report, exit, peak RSS."""
    import ray.train

    import raysweep.train.worker as worker
    from raysweep.train.objectives.supcon import SupConObjective

    entry = time.time()
    steps: list[float] = []
    cpu: list[tuple[float, float]] = []
    reports: list[float] = []
    loss = SupConObjective.loss

    def stamped_loss(self: Any, *args: Any, **kwargs: Any) -> Any:
        steps.append(time.time())
        cpu.append(cpu_sample())
        return loss(self, *args, **kwargs)

    report = worker._report

    def stamped_report(*args: Any, **kwargs: Any) -> None:
        t0 = time.time()
        report(*args, **kwargs)
        reports.append(time.time() - t0)

    SupConObjective.loss = stamped_loss  # type: ignore[method-assign]
    worker._report = stamped_report
    try:
        history = worker.train_loop_per_worker(loop_config)
    finally:
        SupConObjective.loss = loss  # type: ignore[method-assign]
        worker._report = report
    rank = ray.train.get_context().get_world_rank()
    record = {
        "entry": entry,
        "steps": steps,
        "report_s": reports,
        "exit": time.time(),
        "peak_rss_mb": peak_rss_mb(),
        "health_env": os.environ.get(HEALTH_ENV),
        "cpu": cpu,
        "torch_threads": __import__("torch").get_num_threads(),
        "affinity": sorted(os.sched_getaffinity(0)),
        "thread_env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "KMP_AFFINITY")},
    }
    Path(f"{loop_config['timing_path']}.rank{rank}").write_text(json.dumps(record))
    return history


def cpu_sample() -> tuple[float, float]:
    """(this process's CPU seconds, the whole machine's busy CPU seconds) now."""
    t = os.times()
    fields = [float(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    busy = (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # minus idle and iowait
    return t.user + t.system, busy


def cpu_share(stamps: list[float], cpu: list[tuple[float, float]], skip: int = 2) -> dict[str, float]:
    """Cores used by the training process and by everything else on the machine over the steady steps."""
    wall = stamps[-1] - stamps[skip]
    own = cpu[-1][0] - cpu[skip][0]
    busy = cpu[-1][1] - cpu[skip][1]
    return {"own_cores": own / wall, "other_cores": (busy - own) / wall}


def trivial_trial(config: dict[str, Any]) -> None:
    from ray import tune

    entry = time.time()
    Path(config["timing_path"]).write_text(json.dumps({"entry": entry, "exit": time.time()}))
    tune.report({"done": 1})


def retrofit_trial(config: dict[str, Any], data: Any = None) -> None:
    """A Tune trial that runs one Ray Train retrofit, as a study's trial would."""
    from ray import tune

    from raysweep.config import RetrofitConfig
    from raysweep.train.launch import build_trainer

    entry = time.time()
    seen = os.environ.get(HEALTH_ENV)
    # make sure the controller gets it even if Tune did not pass it on; "default" is Ray's own 2 s,
    # set explicitly since raysweep's runtime environment sets 1.0 for every worker
    os.environ[HEALTH_ENV] = str(RAY_DEFAULT_HEALTH_S if config.get("health") is None else config["health"])
    cfg = RetrofitConfig.from_dict(config["cfg"])
    trainer = build_trainer(
        cfg, data, config["name"], config["storage"], loop=timed_loop, extra_loop_config={"timing_path": config["tp"]}
    )
    result = trainer.fit()
    fit_done = time.time()
    Path(config["tp"] + ".trial").write_text(json.dumps({"entry": entry, "fit_done": fit_done, "env_seen": seen}))
    tune.report({"dev_p_at_1": float(result.metrics.get("dev_p_at_1", float("nan")))})


def tune_run(trainable: Any, config: dict[str, Any], storage: str, name: str) -> tuple[float, float]:
    from ray import tune

    t0 = time.time()
    tuner = tune.Tuner(
        tune.with_resources(trainable, {"cpu": 1}),
        param_space=config,
        run_config=tune.RunConfig(name=name, storage_path=storage, verbose=0),
    )
    results = tuner.fit()
    t_end = time.time()
    errors = [r.error for r in results if r.error is not None]
    if errors:
        raise RuntimeError(f"tune run {name} failed: {errors[0]}")
    return t0, t_end


def read(path: str) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def prepare_section(cfg: Any, cache: Path) -> tuple[Any, dict[str, Any]]:
    """Cold and warm ``prepare_training_data`` in a fresh cache folder."""
    from raysweep.data import tokenized
    from raysweep.train.data import prepare_training_data, share

    os.environ["RAYSWEEP_CACHE_DIR"] = str(cache)
    t0 = time.perf_counter()
    prepare_training_data(cfg.replace(loss={"lam": 0.0}), device="cpu")  # tokenise only
    t_tok = time.perf_counter() - t0
    t0 = time.perf_counter()
    data = prepare_training_data(cfg, device="cpu")  # tokens from memory, frozen targets computed
    t_frozen = time.perf_counter() - t0
    t0 = time.perf_counter()
    prepare_training_data(cfg, device="cpu")
    t_again_memory = time.perf_counter() - t0
    tokenized._tokenize_cached.cache_clear()  # what a new driver process (or a restarted study) sees
    t0 = time.perf_counter()
    prepare_training_data(cfg, device="cpu")
    t_again_disk = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref = share(data)
    t_share = time.perf_counter() - t0
    n = len(data.train_labels)
    nbytes = data.train_tokens.input_ids.nbytes + data.dev_tokens.input_ids.nbytes + data.frozen_train.nbytes
    files = sorted(str(p.relative_to(cache)) for p in cache.rglob("*.npz"))
    return ref, {
        "train_rows": n,
        "dev_rows": len(data.dev_labels),
        "cold_tokenise_s": t_tok,
        "cold_frozen_targets_s": t_frozen,
        "frozen_targets_rows_per_s": n / t_frozen,
        "second_prepare_in_memory_s": t_again_memory,
        "second_prepare_from_disk_s": t_again_disk,
        "second_vs_cold": (t_again_disk) / (t_tok + t_frozen),
        "share_put_s": t_share,
        "shared_mb": nbytes / 1e6,
        "cache_files": files,
        "full_train_frozen_targets_s_extrapolated": 36308 / (n / t_frozen),
    }


def tune_section(cfg: Any, ref: Any, storage: str, healths: list[float | None], steps: int) -> dict[str, Any]:
    from ray import tune

    out: dict[str, Any] = {}
    tp = tempfile.mktemp(prefix="trivial-", dir=storage)
    t0, t_end = tune_run(trivial_trial, {"timing_path": tp}, storage, "trivial")
    rec = read(tp)
    out["trivial"] = {"start_s": rec["entry"] - t0, "teardown_s": t_end - rec["exit"], "total_s": t_end - t0}
    trial_cfg = cfg.replace(train={"max_steps": steps, "eval_every": steps}, data={"dev_limit": 128})
    for i, health in enumerate(healths):
        label = f"health_{'default' if health is None else health}"
        os.environ[HEALTH_ENV] = str(RAY_DEFAULT_HEALTH_S if health is None else health)  # driver, before the Tuner
        tp = tempfile.mktemp(prefix=f"{label}-", dir=storage)
        config = {"cfg": trial_cfg.to_dict(), "name": f"run{i}", "storage": storage, "tp": tp, "health": health}
        t0, t_end = tune_run(tune.with_parameters(retrofit_trial, data=ref), config, storage, f"tune{i}")
        w, trial = read(tp + ".rank0"), read(tp + ".trial")
        start = w["steps"][0] - trial["entry"]
        teardown = t_end - w["exit"]
        out[label] = {
            "tune_start_s": trial["entry"] - t0,
            "trial_entry_to_worker_entry_s": w["entry"] - trial["entry"],
            "worker_entry_to_first_step_s": w["steps"][0] - w["entry"],
            "startup_s": start,
            "train_s": w["steps"][-1] - w["steps"][0],
            "eval_and_report_s": w["exit"] - w["steps"][-1],
            "checkpoint_report_s": w["report_s"],
            "worker_exit_to_fit_return_s": trial["fit_done"] - w["exit"],
            "teardown_s": teardown,
            "startup_plus_teardown_s": start + teardown,
            "excess_over_trivial_s": start + teardown - out["trivial"]["start_s"] - out["trivial"]["teardown_s"],
            "total_s": t_end - t0,
            "env_seen_by_trainable": trial["env_seen"],
            "env_seen_by_worker": w["health_env"],
            "worker_peak_rss_mb": w["peak_rss_mb"],
        }
    os.environ.pop(HEALTH_ENV, None)
    return out


def steady_rate(stamps: list[float], global_batch: int, skip: int = 2) -> float:
    s = stamps[skip:]
    return global_batch * (len(s) - 1) / max(s[-1] - s[0], 1e-9)


def ddp_section(cfg: Any, ref: Any, data: Any, storage: str, steps: int) -> dict[str, Any]:
    from bench.train_step import WorkerStep
    from raysweep.train.launch import fit
    from raysweep.train.plain_loop import run_batches

    out: dict[str, Any] = {}
    # the same step in this process, right before the Ray Train runs (2 threads, like the 1-worker run)
    import torch

    torch.set_num_threads(2)
    w = WorkerStep(cfg.replace(train={"torch_threads": 2}), data)
    stamps, cpu = [], []
    for b in run_batches(cfg, data.train_labels, steps):
        stamps.append(time.time())
        cpu.append(cpu_sample())
        w.step(b)
    out["in_process_samples_per_s"] = steady_rate(stamps, cfg.sampler.batch_size)
    out["in_process_cpu"] = cpu_share(stamps, cpu)
    del w
    for workers in (1, 2):
        run_cfg = cfg.replace(
            train={
                "num_workers": workers,
                "cpus_per_worker": 2 / workers,
                "torch_threads": 2 // workers,
                "max_steps": steps,
                "eval_every": steps,
            },
            data={"dev_limit": 128},
        )
        tp = tempfile.mktemp(prefix=f"ddp{workers}-", dir=storage)
        t0 = time.time()
        fit(run_cfg, ref, f"ddp{workers}", storage, loop=timed_loop, extra_loop_config={"timing_path": tp})
        ranks = [read(f"{tp}.rank{r}") for r in range(workers)]
        out[f"workers_{workers}"] = {
            "samples_per_s": steady_rate(ranks[0]["steps"], cfg.sampler.batch_size),
            "startup_s": ranks[0]["steps"][0] - t0,
            "worker_peak_rss_mb": [r["peak_rss_mb"] for r in ranks],
            "torch_threads": [r["torch_threads"] for r in ranks],
            "cpu": cpu_share(ranks[0]["steps"], ranks[0]["cpu"]),
            "thread_env": ranks[0]["thread_env"],
            "affinity": ranks[0]["affinity"],
        }
    out["ray_train_1w_vs_in_process"] = out["workers_1"]["samples_per_s"] / out["in_process_samples_per_s"]
    out["ddp_2w_vs_1w"] = out["workers_2"]["samples_per_s"] / out["workers_1"]["samples_per_s"]
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--model", default="minilm")
    p.add_argument("--train-limit", type=int, default=2048)
    p.add_argument("--trial-steps", type=int, default=6)
    p.add_argument("--ddp-steps", type=int, default=12)
    p.add_argument("--healths", default="default,1.0,0.2", help="health-check intervals to try")
    p.add_argument("--skip-ddp", action="store_true")
    p.add_argument("--skip-tune", action="store_true")
    p.add_argument("--out", default=None)
    a = p.parse_args(argv)

    import ray

    from raysweep.train.cluster import WORKER_ENV

    healths = [None if h == "default" else float(h) for h in a.healths.split(",") if h]
    cfg = bench_config(data_dir(a.data_dir), model=a.model, train_limit=a.train_limit, cpus_per_worker=2)
    work = Path(tempfile.mkdtemp(prefix="raysweep-bench-"))
    result: dict[str, Any] = {}
    env = {**WORKER_ENV, "PYTHONPATH": str(ROOT), "RAYSWEEP_CACHE_DIR": str(work / "cache")}
    env.update({k: v for k, v in os.environ.items() if k.startswith("HF_")})
    # 3 logical CPUs: one for the (idle) Tune trainable, two for the training worker(s) on 2 cores
    ray.init(address="local", num_cpus=3, include_dashboard=False, runtime_env={"env_vars": env}, log_to_driver=False)
    try:
        ref, result["data"] = prepare_section(cfg, work / "cache")
        data = ray.get(ref)
        storage = str(work / "runs")
        os.makedirs(storage, exist_ok=True)
        if not a.skip_tune:
            result["tune"] = tune_section(cfg, ref, storage, healths, a.trial_steps)
        result["driver_peak_rss_mb_before_in_process_step"] = peak_rss_mb()
        if not a.skip_ddp:
            result["ddp"] = ddp_section(cfg, ref, data, storage, a.ddp_steps)
        result["driver_peak_rss_mb"] = peak_rss_mb()
    finally:
        ray.shutdown()
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    emit(result, a.out)
    return result


if __name__ == "__main__":
    main()
