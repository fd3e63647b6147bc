"""Training-step throughput and model FLOP utilisation on one GPU, bert-base shaped, no downloads.

    python bench/gpu_step.py [--steps 30] [--warmup 8] [--batch 64] [--seq 128]
    python bench/gpu_step.py --device cpu --steps 3 --small      # a smoke test anywhere

Builds a random ``BertModel(BertConfig())`` (bert-base-uncased's shape, 110M parameters) and runs
raysweep's retrofitting step on it: ``RetrofitModel`` (CLS pooling + linear 64-d head), SupCon(τ=0.1)
over m-per-class labels + λ·MSE to precomputed frozen targets (``SupConVSPLoss``; a hand-written SupCon,
labelled as such, when pytorch-metric-learning is missing), ``build_optimizer`` (fused AdamW + linear
warmup), grad clipping and the worker's finiteness check, batches sliced from pre-tokenised arrays
(``TokenizedTexts.batch``: pinned memory, non-blocking copies). Every row is full length (no padding),
so the FLOP count is exact: per token 6·N (N = non-embedding parameters) + 12·L·H·S for attention,
the usual training-FLOP estimate. Variants: bf16 autocast + SDPA (raysweep's GPU path) and fp32
(SDPA, TF32 off). Prints one JSON line; MFU is against the card's dense bf16 peak (989 TFLOP/s for
H100 SXM and H200).

Needs only torch and transformers (and pytorch-metric-learning if present); run from anywhere.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from raysweep.config import TrainConfig  # noqa: E402
from raysweep.data.tokenized import TokenizedTexts  # noqa: E402
from raysweep.models.encoder import PooledEncoder  # noqa: E402
from raysweep.models.heads import build_head  # noqa: E402
from raysweep.models.retrofit import RetrofitModel  # noqa: E402
from raysweep.train.optim import build_optimizer  # noqa: E402

PEAK_BF16 = {"H100": 989e12, "H200": 989e12 * 1.0, "A100": 312e12, "L4": 121e12, "A10": 125e12}


def make_loss(tau: float, lam: float) -> tuple[Any, str]:
    try:
        from raysweep.losses.supcon_vsp import SupConVSPLoss

        return SupConVSPLoss(tau, lam), "pml SupConLoss (raysweep SupConVSPLoss)"
    except ImportError:
        return _HandLoss(tau, lam), "hand-written SupCon (pytorch-metric-learning missing)"


class _HandLoss:
    """SupCon (Khosla et al.: mean log-probability of each anchor's positives, averaged over anchors that
    have one) + λ·MSE, called and returning like ``SupConVSPLoss``; only when PML is not installed."""

    def __init__(self, tau: float, lam: float) -> None:
        self.tau, self.lam = tau, lam
        self.sync = True

    def __call__(self, emb, proj, labels, targets):
        z = F.normalize(proj.float(), dim=-1)
        sim = z @ z.T / self.tau
        eye = torch.eye(len(z), dtype=torch.bool, device=z.device)
        sim = sim.masked_fill(eye, float("-inf"))
        log_prob = sim - torch.logsumexp(sim, dim=1, keepdim=True)
        pos = (labels[:, None] == labels[None, :]) & ~eye
        n_pos = pos.sum(1)
        per_anchor = -(log_prob.masked_fill(~pos, 0.0)).sum(1) / n_pos.clamp(min=1)
        supcon = per_anchor[n_pos > 0].mean()
        vsp = F.mse_loss(emb.float(), targets.float())
        total = supcon + self.lam * vsp

        class Terms:
            pass

        terms = Terms()
        terms.total = total  # type: ignore[attr-defined]
        terms.parts = {"loss": float(total.detach()) if self.sync else float("nan")}  # type: ignore[attr-defined]
        return terms


def bert_config(small: bool):
    from transformers import BertConfig

    if small:
        return BertConfig(
            hidden_size=128, num_hidden_layers=2, num_attention_heads=2, intermediate_size=512, vocab_size=30522
        )
    return BertConfig()  # bert-base-uncased: 12 x 768, 12 heads, 3072 FFN, vocab 30522


def train_flops_per_step(model: nn.Module, cfg: Any, batch: int, seq: int) -> float:
    """6·N·tokens (N: parameters outside the embeddings) + attention 12·L·H·S per token."""
    n = sum(p.numel() for name, p in model.named_parameters() if "embeddings" not in name)
    tokens = batch * seq
    return tokens * (6 * n + 12 * cfg.num_hidden_layers * cfg.hidden_size * seq)


def run_variant(
    variant: str,
    args: argparse.Namespace,
    device: torch.device,
    tokens: TokenizedTexts,
    labels: torch.Tensor,
    targets: torch.Tensor,
) -> dict[str, Any]:
    from transformers import BertModel

    cfg = bert_config(args.small)
    torch.manual_seed(0)
    encoder = BertModel._from_config(cfg, attn_implementation="sdpa", add_pooling_layer=False)
    model = RetrofitModel(PooledEncoder(encoder, "cls"), build_head("linear", cfg.hidden_size, 64)).to(device)
    model.train()
    total_steps = args.warmup + args.steps
    optimizer, scheduler = build_optimizer(model, TrainConfig(lr=2e-5), total_steps)
    fused = bool(optimizer.defaults.get("fused"))
    loss_fn, loss_kind = make_loss(0.1, 1.0)
    rng = np.random.default_rng(0)
    n = len(tokens)
    # "bf16", "fp32", optionally ":b256" (batch), ":compile" (torch.compile the model), ":nosync" (no
    # per-step host sync: skip the finiteness check and the loss-value read-back of the hand-written loss)
    parts = variant.split(":")
    bf16 = parts[0] == "bf16"
    batch_size = next((int(x[1:]) for x in parts if x.startswith("b") and x[1:].isdigit()), args.batch)
    sync_each_step = "nosync" not in parts
    if isinstance(loss_fn, _HandLoss):
        loss_fn.sync = sync_each_step
    forward = torch.compile(model) if "compile" in parts else model

    def step() -> None:
        idx = rng.choice(n, size=batch_size, replace=False)
        batch = tokens.batch(idx, device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            emb, proj = forward(batch["input_ids"], batch["attention_mask"])
        tgt = targets[idx].to(device, non_blocking=True)
        terms = loss_fn(emb, proj, labels[idx].to(device, non_blocking=True), tgt)
        optimizer.zero_grad(set_to_none=True)
        terms.total.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        if sync_each_step and not torch.isfinite(grad_norm):  # the worker's check: a host sync per step, as in raysweep
            raise RuntimeError("non-finite gradient")
        optimizer.step()
        scheduler.step()

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    for _ in range(args.warmup):
        step()
    sync()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        step()
    sync()
    seconds = time.perf_counter() - t0
    flops = train_flops_per_step(model, cfg, batch_size, args.seq)
    out: dict[str, Any] = {
        "batch": batch_size,
        "samples_per_s": batch_size * args.steps / seconds,
        "step_ms": 1000 * seconds / args.steps,
        "achieved_tflops": flops * args.steps / seconds / 1e12,
        "fused_adamw": fused,
        "loss": loss_kind,
    }
    if device.type == "cuda":
        out["peak_mem_gb"] = torch.cuda.max_memory_allocated() / 1e9
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=8)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--seq", type=int, default=128)
    p.add_argument("--small", action="store_true", help="a 2-layer 128-d BERT, batch 8 x seq 32 (smoke test)")
    p.add_argument(
        "--variants",
        default="bf16,fp32,bf16:nosync,bf16:compile,bf16:b256,bf16:b256:compile",
        help="comma-separated; each bf16|fp32 with optional :bN (batch), :compile, :nosync",
    )
    a = p.parse_args(argv)
    if a.small:
        a.batch, a.seq = min(a.batch, 8), min(a.seq, 32)
    device = torch.device(a.device)
    torch.backends.cuda.matmul.allow_tf32 = False  # fp32 means fp32
    torch.backends.cudnn.allow_tf32 = False

    cfg = bert_config(a.small)
    rng = np.random.default_rng(0)
    rows = max(2048, 4 * a.batch)
    # full-length rows (no [PAD]): the FLOP count is then exact; ids avoid the special tokens
    ids = rng.integers(1000, cfg.vocab_size, size=(rows, a.seq), dtype=np.int32)
    tokens = TokenizedTexts(ids, np.full(rows, a.seq, dtype=np.int32), 0)
    labels = torch.from_numpy(rng.integers(0, 28, size=rows)).long()  # 28 GoEmotions classes
    targets = torch.from_numpy(rng.standard_normal((rows, cfg.hidden_size)).astype(np.float32) * 0.1)

    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    peak = next((v for k, v in PEAK_BF16.items() if k in name), None)
    result: dict[str, Any] = {
        "device": name,
        "model": "bert-base (random, BertConfig())" if not a.small else "small random BERT (smoke test)",
        "batch": a.batch,
        "seq": a.seq,
        "steps": a.steps,
        "torch": torch.__version__,
        "peak_bf16_tflops": peak / 1e12 if peak else None,
    }
    for variant in a.variants.split(","):
        r = run_variant(variant, a, device, tokens, labels, targets)
        if device.type == "cuda":
            torch.cuda.empty_cache()
        if peak:
            r["mfu_vs_bf16_peak"] = r["achieved_tflops"] * 1e12 / peak
        result[variant] = r
    if "bf16" in result and "fp32" in result:
        result["bf16_vs_fp32"] = result["bf16"]["samples_per_s"] / result["fp32"]["samples_per_s"]
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
