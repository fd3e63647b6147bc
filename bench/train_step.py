"""Training-step benchmark, in one process: raysweep's worker step against a plain PyTorch loop.

    python -m bench.train_step [--data-dir ../shared/data] [--threads 2] [--rounds 4 --steps 5] [--out FILE]

Every variant is built once and then run in interleaved rounds over the *same* batches (the raysweep
m-per-class sampler's indices over real GoEmotions texts, dynamic padding), so load from other users of
the machine hits all variants alike; each ratio is the median over rounds of the per-round ratio.

* ``plain_*``: the hand-written loop of ``raysweep.train.plain_loop.PlainStep`` (transformers
  ``AutoModel`` + ``nn.Linear`` head, PML ``SupConLoss`` on normalised projections + λ·MSE to
  precomputed targets, AdamW, grad clipping), timed per phase; ``plain_bf16_sdpa_pass`` adds the
  dropout-free second forward of raysweep's default VSP (``loss.vsp_dropout: pass``), the same work as
  ``worker_auto``; every study's goodput is measured against the loop of its own configuration.
  Every plain variant cuts padding with the worker's length groups (``train.length_chunks``);
  ``worker_padded`` runs the worker on whole padded batches, so ``length_groups_vs_padded_worker`` is
  what the groups buy.
* ``worker_*``: the objects and the loop body of ``raysweep.train.worker.train_loop_per_worker``
  (``RetrofitModel``, ``SupConObjective``, ``build_optimizer``, the sampler's batches, clipping, the
  finiteness check, scheduler step, running means).

``--quality`` also trains N steps from the packaged model with fp32 and bf16 for 2 seeds each and
reports dev P@1 (and the untrained model's), to show bf16 matches fp32 within seed noise.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from bench import bench_config, data_dir, emit, median, now, peak_rss_mb
from raysweep.train.plain_loop import PlainStep, run_batches


class WorkerStep:
    """The objects and loop body of ``train_loop_per_worker`` for one rank (world size 1), in process."""

    def __init__(self, cfg: Any, data: Any, total_steps: int = 1000) -> None:
        from raysweep.models.length_chunks import resolve_chunks
        from raysweep.models.precision import resolve_attention, resolve_precision
        from raysweep.models.retrofit import RetrofitModel
        from raysweep.train.objectives import StepContext, build_objective
        from raysweep.train.optim import build_optimizer
        from raysweep.train.worker import _Window

        device = torch.device("cpu")
        self.cfg = cfg
        self.precision = resolve_precision(cfg.train.precision, device)
        self.attn = resolve_attention(cfg.model.attn_implementation, self.precision, device)
        self.ctx = StepContext(device=device, precision=self.precision, rank=0, world=1, seed=cfg.train.seed)
        self.objective = build_objective(cfg, data)
        torch.manual_seed(cfg.train.seed)
        self.model = RetrofitModel.from_config(cfg.model, self.attn, head=self.objective.build_head)
        self.model.encoder.chunks = resolve_chunks(cfg.train.length_chunks, device)
        self.objective.setup(self.model, self.ctx)
        self.model.train()
        self.optimizer, self.scheduler = build_optimizer(self.model, cfg.train, total_steps)
        self.window = _Window()
        self.last_loss = float("nan")

    def step(self, idx: np.ndarray) -> None:
        terms = self.objective.loss(self.model, idx, self.ctx)
        self.optimizer.zero_grad(set_to_none=True)
        terms.total.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.train.grad_clip)
        if not torch.isfinite(grad_norm) or not math.isfinite(terms.parts["loss"]):
            raise RuntimeError("diverged")
        self.optimizer.step()
        self.scheduler.step()
        self.window.add(terms.parts, len(idx))
        self.last_loss = terms.parts["loss"]

    def evaluate(self) -> dict[str, float]:
        return self.objective.evaluate(self.model, self.ctx)


def interleave(
    variants: dict[str, Callable[[np.ndarray], None]], batches: list[np.ndarray], rounds: int, steps: int
) -> dict[str, list[float]]:
    """Per-round seconds of each variant over the same batches, variants alternating within a round."""
    times: dict[str, list[float]] = {k: [] for k in variants}
    names = list(variants)
    for r in range(rounds):
        chunk = batches[r * steps : (r + 1) * steps]
        order = names if r % 2 == 0 else names[::-1]  # no variant always runs right after another
        for name in order:
            t0 = now()
            for b in chunk:
                variants[name](b)
            times[name].append(now() - t0)
    return times


def ratio(times: dict[str, list[float]], num: str, den: str) -> float:
    """Median over rounds of time(den) / time(num): > 1 means ``num`` is faster."""
    return median([d / n for n, d in zip(times[num], times[den], strict=True)])


def step_benchmark(cfg: Any, data: Any, rounds: int, steps: int, warmup: int = 2) -> dict[str, Any]:
    from raysweep.models.encoder import resolve_model_name
    from raysweep.models.length_chunks import resolve_chunks

    path = resolve_model_name(cfg.model.name)
    fp32 = cfg.replace(train={"precision": "fp32"})
    chunks = resolve_chunks(cfg.train.length_chunks, "cpu")  # every plain variant cuts padding like the worker
    plain = {
        "plain_fp32_sdpa": PlainStep(path, data, precision="fp32", attn="sdpa", fused=True, chunks=chunks),
        "plain_bf16_eager": PlainStep(path, data, precision="bf16", attn="eager", fused=True, chunks=chunks),
        "plain_bf16_sdpa": PlainStep(path, data, precision="bf16", attn="sdpa", fused=True, chunks=chunks),
        "plain_bf16_eager_foreach": PlainStep(path, data, precision="bf16", attn="eager", fused=False, chunks=chunks),
        "plain_bf16_sdpa_pass": PlainStep(
            path, data, precision="bf16", attn="sdpa", fused=True, clean_pass=True, chunks=chunks
        ),
    }
    worker = {
        "worker_auto": WorkerStep(cfg, data),
        "worker_padded": WorkerStep(cfg.replace(train={"length_chunks": 1}), data),
        "worker_lam0": WorkerStep(cfg.replace(loss={"lam": 0.0}), data),
        "worker_recompute": WorkerStep(cfg.replace(loss={"vsp_targets": "recompute"}), data),
        "worker_fp32": WorkerStep(fp32, data),
    }
    variants: dict[str, Callable[[np.ndarray], None]] = {k: v.step for k, v in {**plain, **worker}.items()}
    batches = run_batches(cfg, data.train_labels, warmup + rounds * steps)
    for fn in variants.values():
        for b in batches[:warmup]:
            fn(b)
    for p in plain.values():  # phases: timed rounds only
        p.phases = dict.fromkeys(p.phases, 0.0)
    times = interleave(variants, batches[warmup:], rounds, steps)
    batch = cfg.sampler.batch_size
    timed_steps = rounds * steps
    widths = [int(data.train_tokens.lengths[b].max()) for b in batches[warmup:]]
    out: dict[str, Any] = {
        "batch": batch,
        "threads": torch.get_num_threads(),
        "timed_steps": timed_steps,
        "mean_padded_width": float(np.mean(widths)),
        "worker_precision": worker["worker_auto"].precision,
        "worker_attention": worker["worker_auto"].attn,
        "length_chunks": chunks,
        "samples_per_s": {k: batch * timed_steps / sum(v) for k, v in times.items()},
        "round_seconds": times,
        "phases_s_per_step": {k: {ph: t / timed_steps for ph, t in p.phases.items()} for k, p in plain.items()},
        "ratios": {
            "worker_vs_plain_same_precision": ratio(times, "worker_auto", "plain_bf16_eager"),
            "length_groups_vs_padded_worker": ratio(times, "worker_auto", "worker_padded"),
            "worker_fp32_vs_plain_fp32": ratio(times, "worker_fp32", "plain_fp32_sdpa"),
            "worker_vs_plain_with_vsp_pass": ratio(times, "worker_auto", "plain_bf16_sdpa_pass"),
            "vsp_pass_cost_plain": 1 / ratio(times, "plain_bf16_sdpa_pass", "plain_bf16_sdpa"),
            "vsp_precomputed_cost_vs_lam0": 1 / ratio(times, "worker_auto", "worker_lam0"),
            "vsp_recompute_cost_vs_lam0": 1 / ratio(times, "worker_recompute", "worker_lam0"),
            "bf16_eager_vs_fp32_plain": ratio(times, "plain_bf16_eager", "plain_fp32_sdpa"),
            "bf16_sdpa_vs_fp32_plain": ratio(times, "plain_bf16_sdpa", "plain_fp32_sdpa"),
            "worker_bf16_vs_fp32_plain": ratio(times, "worker_auto", "plain_fp32_sdpa"),
            "fused_vs_foreach_adamw_step": ratio(times, "plain_bf16_eager", "plain_bf16_eager_foreach"),
            "fused_vs_foreach_adamw_optimizer_only": plain["plain_bf16_eager_foreach"].phases["optimizer"]
            / max(plain["plain_bf16_eager"].phases["optimizer"], 1e-9),
        },
    }
    return out


def quality_check(cfg: Any, data: Any, steps: int, seeds: list[int], lr: float) -> dict[str, Any]:
    """Dev P@1 after ``steps`` fixed steps, fp32 vs bf16, per seed; the untrained model's for reference."""
    from raysweep.metrics.retrieval import retrieval_metrics
    from raysweep.models.embed import embed_tokens
    from raysweep.models.encoder import PooledEncoder, load_encoder

    base = PooledEncoder(load_encoder(cfg.model.name), cfg.model.pooling)
    untrained = retrieval_metrics(embed_tokens(base, data.dev_tokens), data.dev_labels)["p_at_1"]
    del base
    runs: dict[str, list[float]] = {"fp32": [], "bf16": []}
    seconds: dict[str, float] = {"fp32": 0.0, "bf16": 0.0}
    for seed in seeds:
        for precision in ("fp32", "bf16"):
            run_cfg = cfg.replace(train={"precision": precision, "seed": seed, "lr": lr, "max_steps": steps})
            w = WorkerStep(run_cfg, data, total_steps=steps)
            t0 = now()
            for b in run_batches(run_cfg, data.train_labels, steps):
                w.step(b)
            seconds[precision] += now() - t0
            runs[precision].append(w.evaluate()["dev_p_at_1"])
    diff = float(np.mean(runs["bf16"]) - np.mean(runs["fp32"]))
    noise = float(max(np.ptp(runs["fp32"]), np.ptp(runs["bf16"]), 1e-9))
    return {
        "steps": steps,
        "lr": lr,
        "seeds": seeds,
        "dev_rows": len(data.dev_labels),
        "untrained_dev_p_at_1": untrained,
        "dev_p_at_1": runs,
        "bf16_minus_fp32": diff,
        "seed_spread": noise,
        "within_seed_noise": abs(diff) <= noise,
        "train_seconds": seconds,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--model", default="minilm")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--steps", type=int, default=5, help="steps per variant per round")
    p.add_argument("--train-limit", type=int, default=4096)
    p.add_argument("--quality", action="store_true", help="also run the fp32-vs-bf16 dev P@1 check")
    p.add_argument("--quality-steps", type=int, default=40)
    p.add_argument("--quality-lr", type=float, default=5e-5)
    p.add_argument("--quality-seeds", default="0,1")
    p.add_argument("--out", default=None, help="write the JSON result here (default: stdout)")
    a = p.parse_args(argv)

    from raysweep.train.data import prepare_training_data

    torch.set_num_threads(a.threads)
    cfg = bench_config(
        data_dir(a.data_dir), model=a.model, batch=a.batch, train_limit=a.train_limit, torch_threads=a.threads
    )
    data = prepare_training_data(cfg, device="cpu")
    result: dict[str, Any] = {"step": step_benchmark(cfg, data, a.rounds, a.steps)}
    if a.quality:
        seeds = [int(s) for s in a.quality_seeds.split(",")]
        result["quality"] = quality_check(cfg, data, a.quality_steps, seeds, a.quality_lr)
    result["peak_rss_mb"] = peak_rss_mb()
    emit(result, a.out)
    return result


if __name__ == "__main__":
    main()
