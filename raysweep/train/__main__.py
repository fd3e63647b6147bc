"""``python -m raysweep.train``: one retrofitting run on Ray Train, exported in HF format.

    python -m raysweep.train --model minilm --lam 1.0 --tau 0.1 --head linear --sampler mperclass \\
        --epochs 1 --num-workers 2 --data-dir ../shared/data --out DIR
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from raysweep.atomic import check_replaceable
from raysweep.config import DataConfig, LossConfig, ModelConfig, RetrofitConfig, SamplerConfig, TrainConfig
from raysweep.errors import cli_errors
from raysweep.storage import check_name, check_path
from raysweep.train.preflight import check_writable_parent, preflight


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    d = RetrofitConfig()
    p = argparse.ArgumentParser(
        prog="python -m raysweep.train", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--model", default=d.model.name, help="HF name, model folder, or alias (minilm)")
    p.add_argument("--pooling", default=d.model.pooling, help="cls | mean")
    p.add_argument("--head", default=d.model.head, help="linear | mlp")
    p.add_argument("--proj-dim", type=int, default=d.model.proj_dim)
    p.add_argument("--lam", type=float, default=d.loss.lam, help="λ, weight of the preservation term")
    p.add_argument("--tau", type=float, default=d.loss.tau, help="τ, SupCon temperature")
    p.add_argument("--vsp-targets", default=d.loss.vsp_targets, help="precomputed | recompute")
    p.add_argument("--sampler", default=d.sampler.kind, help="mperclass | stratified")
    p.add_argument("--m", type=int, default=d.sampler.m, help="examples per class (mperclass)")
    p.add_argument("--batch-size", type=int, default=d.sampler.batch_size, help="global batch size")
    p.add_argument("--epochs", type=int, default=d.train.epochs)
    p.add_argument("--max-steps", type=int, default=None)
    p.add_argument("--eval-every", type=int, default=None, help="steps between evaluations (default: epoch)")
    p.add_argument("--lr", type=float, default=d.train.lr)
    p.add_argument("--seed", type=int, default=d.train.seed)
    p.add_argument("--precision", default=d.train.precision, help="auto | fp32 | bf16")
    p.add_argument("--num-workers", type=int, default=d.train.num_workers)
    p.add_argument(
        "--cpus-per-worker",
        type=float,
        default=None,
        help="CPU share per worker (default: the machine's CPUs / workers)",
    )
    p.add_argument("--gpus-per-worker", type=float, default=0.0)
    p.add_argument("--max-length", type=int, default=d.data.max_length)
    p.add_argument("--train-limit", type=int, default=None, help="train on a stratified sample of N rows")
    p.add_argument("--dev-limit", type=int, default=None, help="evaluate on a stratified sample of N dev rows")
    p.add_argument("--drop-neutral", action="store_true")
    p.add_argument("--data-dir", default=None, help="folder holding goemotions/ (or $RAYSWEEP_DATA_DIR)")
    p.add_argument("--out", required=True, help="folder for the exported model (a new folder, or one raysweep made)")
    p.add_argument(
        "--overwrite", action="store_true", help="replace --out even if it is an existing folder raysweep did not make"
    )
    p.add_argument("--storage", default="results/runs", help="Ray Train storage (checkpoints)")
    p.add_argument("--name", default=None, help="run name (same name resumes)")
    p.add_argument("--address", default=None, help="'auto' to join a running Ray cluster")
    return p.parse_args(argv)


def config_from_args(a: argparse.Namespace) -> RetrofitConfig:
    workers = max(a.num_workers, 1)  # validated below; a share per worker is only meaningful for >= 1
    cpus = a.cpus_per_worker if a.cpus_per_worker is not None else max((os.cpu_count() or 1) / workers, 0.25)
    return RetrofitConfig(
        data=DataConfig(
            data_dir=a.data_dir,
            max_length=a.max_length,
            drop_neutral=a.drop_neutral,
            train_limit=a.train_limit,
            dev_limit=a.dev_limit,
        ),
        model=ModelConfig(name=a.model, pooling=a.pooling, head=a.head, proj_dim=a.proj_dim),
        loss=LossConfig(lam=a.lam, tau=a.tau, vsp_targets=a.vsp_targets),
        sampler=SamplerConfig(kind=a.sampler, m=a.m, batch_size=a.batch_size),
        train=TrainConfig(
            epochs=a.epochs,
            max_steps=a.max_steps,
            eval_every=a.eval_every,
            lr=a.lr,
            seed=a.seed,
            precision=a.precision,
            num_workers=a.num_workers,
            cpus_per_worker=cpus,
            gpus_per_worker=a.gpus_per_worker,
        ),
    ).validate()


@cli_errors
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = check_replaceable(check_path(args.out, "--out"), args.overwrite, "--out")
    check_path(args.storage, "--storage")
    if args.name is not None:
        check_name(args.name)
    cfg = config_from_args(args)
    preflight(cfg)
    check_writable_parent(out, "--out")

    import ray

    from raysweep.export import export_checkpoint
    from raysweep.train.cluster import connect
    from raysweep.train.data import prepare_training_data, share
    from raysweep.train.launch import absolute_storage, fit

    storage = absolute_storage(args.storage)
    name = args.name or f"retrofit-{time.strftime('%Y%m%d-%H%M%S')}"
    connect(args.address)
    t0 = time.perf_counter()
    print(f"[raysweep] preparing data for {cfg.model.name} ...", flush=True)
    data_ref = share(prepare_training_data(cfg))
    print(f"[raysweep] training run {name} (storage {storage}/{name})", flush=True)
    result = fit(cfg, data_ref, name, storage)
    with result.checkpoint.as_directory() as folder:
        export_checkpoint(
            folder, out, extra={"run": name, "wall_s": time.perf_counter() - t0}, overwrite=args.overwrite
        )
    metrics = {k: v for k, v in result.metrics.items() if k.startswith("dev_")}
    print("[raysweep] dev: " + ", ".join(f"{k[4:]} {v:.4f}" for k, v in sorted(metrics.items())))
    print(f"[raysweep] exported to {out} in {time.perf_counter() - t0:.0f} s")
    ray.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
