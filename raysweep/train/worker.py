"""The per-rank training loop run by ``ray.train.torch.TorchTrainer`` (one process per worker).

Each step: the rank's slice of a global batch (distributed sampler; no DataLoader, batches are
slices of pre-tokenised arrays) -> the objective's loss (``train/objectives/``; SupCon over the
global batch + λ·VSP for the method) -> AdamW with warmup and clipping. Every ``eval_every`` steps
(default: each epoch) the ranks embed disjoint shards of the dev split, rank 0 scores the whole
split once, and every rank reports (rank 0 with a checkpoint). A restarted worker group resumes
from the last checkpoint at the exact step and batch; a diverging run (non-finite loss or
gradients, the same verdict on every rank since gradients are all-reduced; or non-finite outputs on
the dev split, which the last step before an evaluation can cause after its loss was checked) stops
and reports ``diverged = 1``. Given an ``early_stop`` (``train.early_stopping``: the fine-tuning's
patience on its dev macro-F1), a run stops after the evaluation that exhausts its patience, and that
report carries ``stopped_early = 1``.

The loop is :func:`run_training`; where it runs is a ``train.session.Session``:
:func:`train_loop_per_worker` (what ``train.launch`` hands to ``TorchTrainer``) runs it in a Ray Train
worker, ``train.local.train_locally`` in this process without Ray.
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
from raysweep.models.checkpoint import load_metrics, load_train_state, load_weights, save_checkpoint
from raysweep.models.encoder import import_model_code
from raysweep.models.length_chunks import resolve_chunks
from raysweep.models.precision import resolve_attention, resolve_precision
from raysweep.models.retrofit import RetrofitModel
from raysweep.samplers import build_sampler
from raysweep.train.data import threads_for
from raysweep.train.early_stopping import EarlyStopping
from raysweep.train.objectives import Objective, StepContext, build_objective
from raysweep.train.optim import build_optimizer
from raysweep.train.run_clock import WARMUP_STEPS, RunClock
from raysweep.train.session import Session


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

    def means(self, world: int = 1) -> dict[str, float]:
        """The window's mean of each part over steps and, with ``world > 1``, over ranks: one
        all-reduce of the sums at log time (every rank calls it at the same step), none per step."""
        keys = sorted(self.sums)
        values = [self.sums[k] for k in keys]
        if world > 1 and keys:
            import torch.distributed as dist

            device = next((v.device for v in values if isinstance(v, torch.Tensor)), torch.device("cpu"))
            stacked = torch.stack([torch.as_tensor(v, dtype=torch.float32, device=device) for v in values])
            dist.all_reduce(stacked)
            values = list(stacked / world)
        return {f"train_{k}": float(v) / max(self.steps, 1) for k, v in zip(keys, values, strict=True)}

    def rate(self) -> float:
        return self.samples / max(time.perf_counter() - self.t0, 1e-9)


def train_loop_per_worker(
    loop_config: dict[str, Any], entered_at: float | None = None, imports_s: float = 0.0
) -> list[dict[str, Any]]:
    """Train; return the metrics of every report made by this run (``Result.return_value``). The loop
    config's optional ``early_stop`` (``{"metric", "patience"}``) stops it once the metric stops improving;
    its ``launched_at`` (``time.time()`` when ``train.launch`` built the trainer) starts the run's clock.
    ``entered_at``: when the worker entered the loop (default now); ``imports_s``: seconds it spent
    importing this module first (``train.entry``), reported with the model's imports."""
    from raysweep.train.session import RaySession

    entered_at = time.time() if entered_at is None else entered_at
    cfg = RetrofitConfig.from_dict(loop_config["config"])
    early_stop = EarlyStopping.from_dict(loop_config.get("early_stop"))
    session = RaySession()
    launched_at = loop_config.get("launched_at")
    return run_training(cfg, loop_config["data"], session, early_stop, launched_at, entered_at, imports_s)


def run_training(
    cfg: RetrofitConfig,
    data: Any,
    session: Session,
    early_stop: EarlyStopping | None = None,
    launched_at: float | None = None,
    entered_at: float | None = None,
    imports_s: float = 0.0,
) -> list[dict[str, Any]]:
    """The loop of one rank, wherever ``session`` says it runs (a Ray Train worker or this process);
    ``data`` is a ``TrainingData`` or what ``session.get_data`` turns into one. Returns the metrics of
    every report, the last one ``diverged = 1`` with a ``failure_reason`` when the run diverged, or
    ``stopped_early = 1`` when ``early_stop`` ended it before its last step. Every evaluation's report
    carries ``steps_total`` (the run's planned steps: a run whose last report has ``step ==
    steps_total`` or ``stopped_early`` ran to its own end, see :mod:`raysweep.train.finished_run`) and
    the run's time counters (``train.run_clock``; start-up from ``launched_at``, raysweep's part
    of it from ``entered_at``, default now; ``imports_s``: seconds of it already spent importing the
    training stack, ``train.entry``, counted with the model's imports)."""
    entered_at = time.time() if entered_at is None else entered_at
    imports_s += import_model_code(cfg.model.name)  # timed apart: transformers' modules, not raysweep's work
    data = session.get_data(data)
    rank, world, device = session.rank, session.world, session.device
    torch.set_num_threads(cfg.train.torch_threads or threads_for(cfg.train.cpus_per_worker))
    precision = resolve_precision(cfg.train.precision, device)
    attn = resolve_attention(cfg.model.attn_implementation, precision, device)
    ctx = StepContext(device=device, precision=precision, rank=rank, world=world, seed=cfg.train.seed)

    objective = build_objective(cfg, data)
    torch.manual_seed(cfg.train.seed)  # the same initial head on every rank
    model = RetrofitModel.from_config(cfg.model, attn, head=objective.build_head)
    model.encoder.chunks = resolve_chunks(cfg.train.length_chunks, device)
    objective.setup(model, ctx)  # the frozen original is copied before any checkpoint is loaded

    state: dict[str, Any] = {"step": 0}
    restored: dict[str, Any] = {}
    with session.get_checkpoint() as folder:
        if folder is not None:
            load_weights(folder, model)
            state = load_train_state(folder)
            restored = load_metrics(folder)
    clock = RunClock(launched_at, restored, entered_at, imports_s, threads=torch.get_num_threads())
    step = int(state["step"])
    torch.manual_seed(cfg.train.seed * 1000 + rank + step)  # dropout streams differ by rank
    model = session.prepare_model(model)
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
    diverged = stopped = False
    broken = "loss or gradient"
    model.train()
    if rank == 0:
        resumed = f", resuming at step {step}" if step else ""
        print(
            f"[raysweep] {cfg.loss.objective}: {world} worker(s) on {device.type}, {precision}, "
            f"attention={attn}, {inner.encoder.chunks} length group(s) per batch; {total} steps ({spe}/epoch){resumed}",
            flush=True,
        )
    clock.start_steps()
    first_step = step
    while step < total and not diverged and not stopped:
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
            if step == first_step + WARMUP_STEPS:
                clock.warmed_up(WARMUP_STEPS * cfg.sampler.batch_size)
            if step % log_every == 0:
                means = window.means(world)  # every rank: the parts are averaged across ranks here
                if rank == 0:
                    parts = ", ".join(f"{k[6:]} {v:.4g}" for k, v in means.items())
                    print(f"[raysweep] step {step}/{total} {parts}; {window.rate():.1f} samples/s", flush=True)
            if at_eval:
                clock.steps_done()
                metrics: dict[str, Any] = {
                    "step": step,
                    "steps_total": total,
                    "epoch": step / spe,
                    "diverged": 0.0,
                    "samples_per_s": window.rate(),
                    **window.means(world),
                }
                dev = _evaluate(objective, inner, ctx)
                if dev is None:
                    diverged, broken = True, "dev outputs after the optimiser step"
                    break
                metrics.update(dev)
                clock.eval_done()
                metrics.update(clock.figures(step, cfg.sampler.batch_size))
                if early_stop is not None and step < total:
                    stopped = early_stop.agreed(metrics, rank, world, device)
                    if stopped:
                        metrics["stopped_early"] = 1.0
                history.append(metrics)
                _report(session, metrics, inner, optimizer, scheduler, step, cfg)
                clock.eval_done()  # the report and its checkpoint: counted in the next report
                window = _Window()
                if stopped:
                    if rank == 0:
                        print(
                            f"[raysweep] stopping early at step {step}/{total}: {early_stop.metric} has not "
                            f"improved on {early_stop.best:.4g} for {early_stop.patience} evaluation(s)",
                            flush=True,
                        )
                    break
            if step >= total:
                break
    if diverged:
        reason = f"non-finite {broken} at step {step} (lr={cfg.train.lr:g}, λ={cfg.loss.lam:g}, τ={cfg.loss.tau:g})"
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
        session.report(final)
    return history


class _FiniteWatch:
    """While entered, ANDs into :attr:`finite` (a flag left on the device) whether every tensor output of
    the watched modules was finite."""

    def __init__(self, modules: list[nn.Module], device: torch.device) -> None:
        self.modules = modules
        self.finite = torch.ones((), dtype=torch.bool, device=device)
        self.handles: list[Any] = []

    def _hook(self, _module: nn.Module, _inputs: Any, output: Any) -> None:
        for out in output if isinstance(output, (tuple, list)) else (output,):
            if isinstance(out, torch.Tensor) and out.is_floating_point():
                self.finite = self.finite & torch.isfinite(out).all()

    def __enter__(self) -> _FiniteWatch:
        self.handles = [m.register_forward_hook(self._hook) for m in self.modules]
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self.handles:
            handle.remove()

    def on_every_rank(self, world: int) -> bool:
        """Whether the outputs were finite on every rank (the same answer on all of them)."""
        ok = self.finite.to(torch.int32)
        if world > 1:
            torch.distributed.all_reduce(ok, op=torch.distributed.ReduceOp.MIN)
        return bool(ok)


def _evaluate(objective: Objective, model: RetrofitModel, ctx: StepContext) -> dict[str, float] | None:
    """The objective's dev metrics, or None on every rank when the encoder or the head gave a non-finite
    output on some rank's dev rows (the optimiser step just taken diverged; its loss and gradients were
    finite). An error the objective raised then (a metric refusing NaN) is that divergence; otherwise it
    is raised, after the ranks have agreed."""
    failure: Exception | None = None
    metrics: dict[str, float] = {}
    with _FiniteWatch([model.encoder, *model.head.modules()], ctx.device) as watch:
        try:
            metrics = objective.evaluate(model, ctx)
        except Exception as err:  # re-raised below unless the outputs explain it
            failure = err
    if not watch.on_every_rank(ctx.world):
        return None
    if failure is not None:
        raise failure
    return metrics


def _report(
    session: Session,
    metrics: dict[str, Any],
    model: RetrofitModel,
    optimizer,
    scheduler,
    step: int,
    cfg: RetrofitConfig,
) -> None:
    """Report ``metrics``; rank 0 with a checkpoint of this step, when the session keeps them."""
    if session.rank != 0 or not session.saves_checkpoints:
        session.report(metrics)
        return
    folder = tempfile.mkdtemp(prefix="raysweep-ckpt-")
    try:
        save_checkpoint(folder, model, optimizer, scheduler, step, cfg.to_dict(), json.loads(json.dumps(metrics)))
        session.report(metrics, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
