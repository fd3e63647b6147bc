"""The per-rank training loop run by ``ray.train.torch.TorchTrainer`` (one process per worker).

Each step: the rank's slice of a global batch (distributed sampler; no DataLoader, batches are
slices of pre-tokenised arrays) -> the objective's loss (``train/objectives/``; SupCon over the
global batch + λ·VSP for the method) -> AdamW with warmup and clipping. Every ``eval_every`` steps
(default: each epoch) the ranks embed disjoint shards of the dev split, rank 0 scores the whole
split once, and every rank reports (rank 0 with a checkpoint). A restarted worker group resumes
from the last checkpoint at the exact step and batch; a diverging run (non-finite loss or
gradients, the same verdict on every rank since gradients are all-reduced) stops and reports
``diverged = 1``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from typing import Any

import numpy as np
import torch
from torch import nn

from raysweep.config import RetrofitConfig
from raysweep.models.checkpoint import load_train_state, load_weights, save_checkpoint
from raysweep.models.retrofit import RetrofitModel
from raysweep.samplers import build_sampler
from raysweep.train.data import threads_for
from raysweep.train.objectives import StepContext, build_objective
from raysweep.train.optim import build_optimizer
from raysweep.train.precision import resolve_attention, resolve_precision
from raysweep.train.training_data import TrainingData


class _Window:
    """Running means of the loss parts and the throughput between two reports."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = {}
        self.steps = 0
        self.samples = 0
        self.t0 = time.perf_counter()

    def add(self, parts: dict[str, torch.Tensor | float], samples: int) -> None:
        for k, v in parts.items():  # device tensors are summed on the device: no host sync per step
            self.sums[k] = self.sums.get(k, 0.0) + (v.detach() if isinstance(v, torch.Tensor) else v)
        self.steps += 1
        self.samples += samples

    def means(self) -> dict[str, float]:
        return {f"train_{k}": float(v) / max(self.steps, 1) for k, v in self.sums.items()}

    def rate(self) -> float:
        return self.samples / max(time.perf_counter() - self.t0, 1e-9)


def train_loop_per_worker(loop_config: dict[str, Any]) -> list[dict[str, Any]]:
    """Train; return the metrics of every report made by this run (``Result.return_value``)."""
    import ray
    import ray.train
    import ray.train.torch

    cfg = RetrofitConfig.from_dict(loop_config["config"])
    data = loop_config["data"]
    if not isinstance(data, TrainingData):  # an ObjectRef to the shared data
        data = ray.get(data)
    train_ctx = ray.train.get_context()
    rank, world = train_ctx.get_world_rank(), train_ctx.get_world_size()
    device = ray.train.torch.get_device()
    torch.set_num_threads(cfg.train.torch_threads or threads_for(cfg.train.cpus_per_worker))
    precision = resolve_precision(cfg.train.precision, device)
    attn = resolve_attention(cfg.model.attn_implementation, precision, device)
    ctx = StepContext(device=device, precision=precision, rank=rank, world=world, seed=cfg.train.seed)

    objective = build_objective(cfg, data)
    torch.manual_seed(cfg.train.seed)  # the same initial head on every rank
    model = RetrofitModel.from_config(cfg.model, attn, head=objective.build_head)
    objective.setup(model, ctx)  # the frozen original is copied before any checkpoint is loaded

    checkpoint = ray.train.get_checkpoint()
    state: dict[str, Any] = {"step": 0}
    if checkpoint is not None:
        with checkpoint.as_directory() as folder:
            load_weights(folder, model)
            state = load_train_state(folder)
    step = int(state["step"])
    torch.manual_seed(cfg.train.seed * 1000 + rank + step)  # dropout streams differ by rank
    if world > 1:
        model = ray.train.torch.prepare_model(model)
    else:
        model = model.to(device)
    inner: RetrofitModel = model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model

    sampler = build_sampler(cfg.sampler, data.train_labels, world, rank, cfg.train.seed)
    spe = sampler.steps_per_epoch
    total = spe * cfg.train.epochs
    if cfg.train.max_steps is not None:
        total = min(total, cfg.train.max_steps)
    eval_every = cfg.train.eval_every or spe
    optimizer, scheduler = build_optimizer(inner, cfg.train, total)
    if "optimizer" in state:
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])

    log_every = max(1, min(50, total // 20))
    window = _Window()
    finite = torch.ones((), dtype=torch.bool, device=device)
    check_every = 1 if device.type == "cpu" else log_every
    history: list[dict[str, Any]] = []
    diverged = False
    model.train()
    if rank == 0:
        resumed = f", resuming at step {step}" if step else ""
        print(
            f"[raysweep] {cfg.loss.objective}: {world} worker(s) on {device.type}, {precision}, "
            f"attention={attn}; {total} steps ({spe}/epoch){resumed}",
            flush=True,
        )
    while step < total and not diverged:
        epoch, in_epoch = divmod(step, spe)
        sampler.set_epoch(epoch, in_epoch)
        for indices in sampler:
            idx = np.asarray(indices)
            terms = objective.loss(model, idx, ctx)
            optimizer.zero_grad(set_to_none=True)
            terms.total.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.train.grad_clip)
            step += 1
            # gradients are all-reduced, so every rank reaches the same verdict. On a GPU the flag
            # stays on the device and is read every few steps (a host sync per step costs ~7 %).
            finite = finite & torch.isfinite(grad_norm) & torch.isfinite(torch.as_tensor(terms.parts["loss"]))
            at_eval = step % eval_every == 0 or step == total
            if (check_every == 1 or step % check_every == 0 or at_eval) and not bool(finite):
                diverged = True
                break
            optimizer.step()
            scheduler.step()
            window.add(terms.parts, len(idx) * world)
            if rank == 0 and step % log_every == 0:
                parts = ", ".join(f"{k[6:]} {v:.4g}" for k, v in window.means().items())
                print(f"[raysweep] step {step}/{total} {parts}; {window.rate():.1f} samples/s", flush=True)
            if at_eval:
                metrics: dict[str, Any] = {
                    "step": step,
                    "epoch": step / spe,
                    "diverged": 0.0,
                    "samples_per_s": window.rate(),
                    **window.means(),
                }
                metrics.update(objective.evaluate(inner, ctx))
                history.append(metrics)
                _report(metrics, inner, optimizer, scheduler, step, cfg, rank)
                window = _Window()
            if step >= total:
                break
    if diverged:
        reason = (
            f"non-finite loss or gradient at step {step} (lr={cfg.train.lr:g}, λ={cfg.loss.lam:g}, τ={cfg.loss.tau:g})"
        )
        if rank == 0:
            print(f"[raysweep] stopping: {reason}", flush=True)
        final = {
            "step": step,
            "epoch": step / spe,
            "diverged": 1.0,
            "train_loss": float("nan"),
            "failure_reason": reason,
        }
        history.append(final)
        ray.train.report(final)
    return history


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
