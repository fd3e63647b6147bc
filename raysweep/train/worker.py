"""The per-rank training loop run by ``ray.train.torch.TorchTrainer`` (one process per worker).

Each step: the rank's slice of a global batch (distributed sampler, no DataLoader: batches are
slices of pre-tokenised arrays) -> encoder + head under autocast -> SupCon over the whole global
batch + λ·VSP -> AdamW with warmup and clipping. Every ``eval_every`` steps (default: each epoch)
the ranks embed disjoint shards of the dev split, rank 0 gathers them and scores the whole split
once, and every rank reports (rank 0 with a checkpoint). A restarted worker group resumes from the
last checkpoint at the exact step; a diverging run (non-finite gradients) stops and reports
``diverged = 1``.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
import time
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from raysweep.config import RetrofitConfig
from raysweep.evaluation.drift import cosine_drift
from raysweep.evaluation.embed import autocast, embed_tokens
from raysweep.evaluation.emotion import clustering_metrics, retrieval_metrics
from raysweep.losses.supcon_vsp import SupConVSPLoss
from raysweep.models.retrofit import RetrofitModel, frozen_copy
from raysweep.samplers import build_sampler
from raysweep.train.checkpoint import load_train_state, load_weights, save_checkpoint
from raysweep.train.data import TrainingData, threads_for
from raysweep.train.optim import build_optimizer
from raysweep.train.precision import resolve_attention, resolve_precision


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def evaluate(
    model: RetrofitModel, data: TrainingData, rank: int, world: int, device: torch.device, precision: str, seed: int
) -> dict[str, float]:
    """Dev metrics over the whole dev split, computed once on rank 0 ({} on other ranks)."""
    shard = np.arange(rank, len(data.dev_tokens), world)
    emb = embed_tokens(model.encoder, data.dev_tokens, shard, device=device, precision=precision)
    drift_emb = None
    if data.drift_tokens is not None:
        dshard = np.arange(rank, len(data.drift_tokens), world)
        drift_emb = embed_tokens(model.encoder, data.drift_tokens, dshard, device=device, precision=precision)
    parts: list[Any] = [None] * world
    if world > 1:
        dist.all_gather_object(parts, (shard, emb, drift_emb))
    else:
        parts = [(shard, emb, drift_emb)]
    if rank != 0:
        return {}
    full = np.empty((len(data.dev_tokens), emb.shape[1]), dtype=np.float32)
    for idx, part, _ in parts:
        full[idx] = part
    metrics = {f"dev_{k}": v for k, v in retrieval_metrics(full, data.dev_labels).items()}
    metrics.update({f"dev_{k}": v for k, v in clustering_metrics(full, data.dev_labels, seed).items()})
    if data.drift_tokens is not None and data.frozen_drift is not None:
        drift = np.empty((len(data.drift_tokens), full.shape[1]), dtype=np.float32)
        for r, (_, _, d) in enumerate(parts):
            drift[np.arange(r, len(data.drift_tokens), world)] = d
        metrics["dev_delta_emb"] = cosine_drift(data.frozen_drift, drift)
    return metrics


def train_loop_per_worker(loop_config: dict[str, Any]) -> None:
    import ray
    import ray.train
    import ray.train.torch

    cfg = RetrofitConfig.from_dict(loop_config["config"])
    data: TrainingData = loop_config["data"]
    if not isinstance(data, TrainingData):  # an ObjectRef to the shared data
        data = ray.get(data)
    ctx = ray.train.get_context()
    rank, world = ctx.get_world_rank(), ctx.get_world_size()
    device = ray.train.torch.get_device()
    torch.set_num_threads(cfg.train.torch_threads or threads_for(cfg.train.cpus_per_worker))
    precision = resolve_precision(cfg.train.precision, device)
    attn = resolve_attention(cfg.model.attn_implementation, precision, device)

    torch.manual_seed(cfg.train.seed)
    model = RetrofitModel.from_config(cfg.model, attn)
    frozen = None
    if cfg.loss.lam > 0 and (cfg.loss.vsp_targets == "recompute" or data.frozen_train is None):
        frozen = frozen_copy(model.encoder).to(device)

    checkpoint = ray.train.get_checkpoint()
    state: dict[str, Any] = {"step": 0}
    if checkpoint is not None:
        with checkpoint.as_directory() as folder:
            load_weights(folder, model)
            state = load_train_state(folder)
    torch.manual_seed(cfg.train.seed * 1000 + rank + state["step"])  # dropout streams differ by rank
    model = (
        ray.train.torch.prepare_model(model, parallel_strategy_kwargs={"find_unused_parameters": False})
        if world > 1
        else model.to(device)
    )
    inner: RetrofitModel = model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model

    sampler = build_sampler(cfg.sampler, data.train_labels, world, rank, cfg.train.seed)
    spe = sampler.steps_per_epoch
    total = spe * cfg.train.epochs if cfg.train.max_steps is None else min(cfg.train.max_steps, spe * cfg.train.epochs)
    eval_every = cfg.train.eval_every or spe
    optimizer, scheduler = build_optimizer(inner, cfg.train, total)
    if "optimizer" in state:
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
    loss_fn = SupConVSPLoss(cfg.loss.tau, cfg.loss.lam, distributed=world > 1)
    labels_all = torch.from_numpy(data.train_labels)
    frozen_all = torch.from_numpy(data.frozen_train) if data.frozen_train is not None else None

    step = int(state["step"])
    log_every = max(1, min(50, total // 20))
    window = {"loss": 0.0, "supcon": 0.0, "vsp": 0.0, "n": 0}
    t_window = time.perf_counter()
    samples_window = 0
    diverged = False
    model.train()
    if rank == 0:
        print(
            f"[raysweep] {world} worker(s) on {device.type}, {precision}, attention={attn}; "
            f"{total} steps ({spe}/epoch), resuming at step {step}"
            if step
            else f"[raysweep] {world} worker(s) on {device.type}, {precision}, attention={attn}; "
            f"{total} steps ({spe}/epoch)",
            flush=True,
        )
    while step < total and not diverged:
        epoch, in_epoch = divmod(step, spe)
        sampler.set_epoch(epoch, in_epoch)
        for indices in sampler:
            idx = np.asarray(indices)
            batch = data.train_tokens.batch(idx, device)
            labels = labels_all[idx].to(device)
            with autocast(device, precision):
                emb, proj = model(batch["input_ids"], batch["attention_mask"])
            targets = None
            if cfg.loss.lam > 0:
                if frozen is not None:
                    with torch.no_grad(), autocast(device, precision):
                        targets = frozen(batch["input_ids"], batch["attention_mask"])
                else:
                    targets = frozen_all[idx].to(device)
            terms = loss_fn(emb, proj, labels, targets)
            optimizer.zero_grad(set_to_none=True)
            terms.total.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.train.grad_clip)
            step += 1
            if not torch.isfinite(grad_norm) or not math.isfinite(terms.supcon):
                diverged = True
                break
            optimizer.step()
            scheduler.step()
            window["loss"] += terms.supcon + cfg.loss.lam * terms.vsp
            window["supcon"] += terms.supcon
            window["vsp"] += terms.vsp
            window["n"] += 1
            samples_window += len(idx) * world
            if rank == 0 and step % log_every == 0:
                rate = samples_window / max(time.perf_counter() - t_window, 1e-9)
                print(
                    f"[raysweep] step {step}/{total} loss {window['loss'] / window['n']:.4f} "
                    f"(supcon {window['supcon'] / window['n']:.4f}, vsp {window['vsp'] / window['n']:.2e}) "
                    f"{rate:.1f} samples/s",
                    flush=True,
                )
            if step % eval_every == 0 or step == total:
                metrics = {
                    "step": step,
                    "epoch": step / spe,
                    "train_loss": window["loss"] / max(window["n"], 1),
                    "train_supcon": window["supcon"] / max(window["n"], 1),
                    "train_vsp": window["vsp"] / max(window["n"], 1),
                    "samples_per_s": samples_window / max(time.perf_counter() - t_window, 1e-9),
                    "diverged": 0.0,
                }
                metrics.update(evaluate(inner, data, rank, world, device, precision, cfg.train.seed))
                _report(metrics, inner, optimizer, scheduler, step, cfg, rank)
                window = {"loss": 0.0, "supcon": 0.0, "vsp": 0.0, "n": 0}
                samples_window = 0
                t_window = time.perf_counter()
            if step >= total:
                break
    if diverged:
        if rank == 0:
            print(
                f"[raysweep] stopping: non-finite loss or gradient at step {step} "
                f"(lr={cfg.train.lr:g}, λ={cfg.loss.lam:g}, τ={cfg.loss.tau:g})",
                flush=True,
            )
        ray.train.report(
            {
                "step": step,
                "epoch": step / spe,
                "diverged": 1.0,
                "train_loss": float("nan"),
                "failure_reason": f"non-finite loss or gradient at step {step}",
            }
        )


def _report(
    metrics: dict[str, Any], model: RetrofitModel, optimizer, scheduler, step: int, cfg: RetrofitConfig, rank: int
) -> None:
    import ray.train

    if rank != 0:
        ray.train.report(metrics)
        return
    folder = tempfile.mkdtemp(prefix="raysweep-ckpt-")
    try:
        save_checkpoint(folder, model, optimizer, scheduler, step, cfg.to_dict(), json.loads(json.dumps(metrics)))
        ray.train.report(metrics, checkpoint=ray.train.Checkpoint.from_directory(folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
