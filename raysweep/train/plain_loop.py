"""The plain PyTorch loop a study's goodput is measured against: the speed this hardware trains the
study's model at with nothing but the training step in the way.

Written by hand on purpose (no Ray, no raysweep objective; only its rows come from the run's sampler):
it is the definition of "the plain loop" in ``python -m bench`` (``bench/train_step.py`` times raysweep's
own step against it) and in every study's goodput (``raysweep.tune.goodput``). One :class:`PlainStep` is transformers'
``AutoModel`` + an ``nn.Linear`` head, PML's ``SupConLoss`` on normalised projections + λ·MSE to
precomputed targets, AdamW and gradient clipping, on the batch size and padded widths of the study's
own training rows. With ``clean_pass`` it does what raysweep's default VSP does (``loss.vsp_dropout:
pass``): the VSP term reads a second, dropout-free forward of the same batch, which costs about a
third more per step, so the study's runs are measured against a loop doing the same work. With
``chunks`` > 1 its encoder forward cuts padding the way the study's runs do (``train.length_chunks``,
``raysweep.models.length_chunks.chunked_forward``: the one raysweep function it calls, so both do the
same arithmetic).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from raysweep.models.length_chunks import chunked_forward, resolve_chunks


class PlainStep:
    """A plain PyTorch SupCon + VSP step of one model on tokenised training rows (``TrainingData``).

    Args:
        model_path: a local model folder (``raysweep.models.encoder.resolve_model_name``).
        data: a ``TrainingData`` with ``frozen_train`` targets (precomputed VSP targets).
        precision: ``fp32`` or ``bf16`` (CPU autocast; CUDA autocast on a GPU ``device``).
        attn: transformers' attention implementation (``sdpa`` or ``eager``).
        fused: fused AdamW (else ``foreach``).
        pooling: ``cls`` or ``mean``, the embedding the losses see.
        clean_pass: VSP on a second forward in eval mode (dropout off), as ``loss.vsp_dropout: pass``.
        chunks: length-sorted groups per batch (1: the padded batch), as ``train.length_chunks``.
    """

    def __init__(
        self,
        model_path: str,
        data: Any,
        *,
        precision: str,
        attn: str,
        fused: bool,
        pooling: str = "cls",
        lam: float = 1.0,
        tau: float = 0.1,
        seed: int = 0,
        device: torch.device | None = None,
        clean_pass: bool = False,
        chunks: int = 1,
    ) -> None:
        from pytorch_metric_learning.losses import SupConLoss
        from transformers import AutoModel

        torch.manual_seed(seed)
        self.device = device or torch.device("cpu")
        self.encoder = AutoModel.from_pretrained(model_path, attn_implementation=attn, add_pooling_layer=False)
        self.encoder.to(self.device).train()
        self.head = nn.Linear(self.encoder.config.hidden_size, 64).to(self.device)
        self.params = [*self.encoder.parameters(), *self.head.parameters()]
        self.opt = torch.optim.AdamW(self.params, lr=2e-5, weight_decay=0.01, fused=fused, foreach=not fused)
        self.supcon = SupConLoss(temperature=tau)
        self.ids, self.lengths = data.train_tokens.input_ids, data.train_tokens.lengths
        self.labels = torch.from_numpy(np.asarray(data.train_labels, dtype=np.int64))
        # VSP targets recomputed by the objective (no precomputed ones): the plain loop trains SupCon only
        frozen = data.frozen_train
        self.targets = torch.zeros(len(self.labels), 1) if frozen is None else torch.from_numpy(np.asarray(frozen))
        self.lam, self.pooling = (lam if frozen is not None else 0.0), pooling
        self.clean_pass = clean_pass and self.lam > 0
        self.bf16 = precision == "bf16"
        self.chunks = chunks
        self.phases: dict[str, float] = {"forward": 0.0, "backward": 0.0, "clip": 0.0, "optimizer": 0.0}

    def pooled(self, ids: torch.Tensor, mask: torch.Tensor, tokens: torch.Tensor | None = None) -> torch.Tensor:
        """The encoder's [CLS] or masked-mean embedding of a padded batch, in ``chunks`` length groups;
        ``tokens``: the batch's word embeddings already looked up (one lookup for all groups and passes)."""
        if tokens is None and self.chunks > 1:
            tokens = self.encoder.get_input_embeddings()(ids)
        return chunked_forward(self._pooled, ids if tokens is None else tokens, mask, self.chunks)

    def _pooled(self, inputs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        given = {"inputs_embeds": inputs} if inputs.is_floating_point() else {"input_ids": inputs}
        hidden = self.encoder(**given, attention_mask=mask).last_hidden_state
        if self.pooling == "mean":
            weights = mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1)
        return hidden[:, 0]

    def step(self, idx: np.ndarray) -> None:
        """One optimizer step on the rows ``idx`` (padded to their longest), timed per phase."""
        t0 = time.perf_counter()
        width = int(self.lengths[idx].max())
        ids = torch.from_numpy(self.ids[idx, :width].astype(np.int64)).to(self.device)
        lengths = torch.from_numpy(self.lengths[idx]).to(self.device)
        mask = (torch.arange(width, device=self.device)[None, :] < lengths[:, None]).long()
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            tokens = self.encoder.get_input_embeddings()(ids) if self.clean_pass else None
            emb = self.pooled(ids, mask, tokens)
            proj = self.head(emb)
            if self.clean_pass:  # VSP's embedding without dropout, like its targets
                self.encoder.eval()
                try:
                    emb = self.pooled(ids, mask, tokens)
                finally:
                    self.encoder.train()
        labels, targets = self.labels[idx].to(self.device), self.targets[idx].to(self.device)
        loss = self.supcon(F.normalize(proj.float(), dim=-1), labels)
        if self.lam:
            loss = loss + self.lam * F.mse_loss(emb.float(), targets)
        t1 = time.perf_counter()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        t2 = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(self.params, 1.0)
        t3 = time.perf_counter()
        self.opt.step()
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        t4 = time.perf_counter()
        for k, a, b in (("forward", t0, t1), ("backward", t1, t2), ("clip", t2, t3), ("optimizer", t3, t4)):
            self.phases[k] += b - a


def plain_loop_rate(cfg: Any, data: Any, steps: int = 6, warmup: int = 2, threads: int | None = None) -> dict[str, Any]:
    """The plain loop's training samples/s for ``cfg``'s model, pooling, precision and batch size on
    ``data``'s training rows, with ``threads`` (default: every thread of this process): ``{"samples_per_s",
    "steps", "batch", "precision", "attention", "threads", "vsp_pass", "length_chunks"}``, with the clean
    VSP pass where ``cfg`` has it (``loss.vsp_dropout: pass`` and λ > 0) and ``cfg``'s length groups,
    ``"device"``, and ``"cpu_s"`` / ``"cores"``: the process's CPU seconds in the timed steps and their
    ratio to the steps' wall seconds (about ``threads`` when nothing else ran on its cores).
    ``warmup`` steps are run first and not timed. The batches are the first ones a run of ``cfg`` trains
    on (``cfg``'s sampler and seed, one rank): a batch's cost follows its longest row, and the rows of
    uniformly drawn batches came out 2-3 % shorter than the sampler's (597 vs 610-620 tokens a batch of
    32, ``smoke``), a bias in the loop's favour."""
    from raysweep.models.encoder import resolve_model_name
    from raysweep.models.precision import resolve_attention, resolve_precision

    if threads is not None:
        torch.set_num_threads(threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    precision = resolve_precision(cfg.train.precision, device)
    attn = resolve_attention(cfg.model.attn_implementation, precision, device)
    loop = PlainStep(
        resolve_model_name(cfg.model.name),
        data,
        precision=precision,
        attn=attn,
        fused=True,
        pooling=cfg.model.pooling,
        lam=cfg.loss.lam,
        tau=cfg.loss.tau,
        seed=cfg.train.seed,
        device=device,
        clean_pass=cfg.loss.vsp_dropout == "pass",
        chunks=resolve_chunks(cfg.train.length_chunks, device),
    )
    batch = cfg.sampler.batch_size
    batches = run_batches(cfg, data.train_labels, warmup + steps)
    for idx in batches[:warmup]:
        loop.step(idx)
    t0, cpu0 = time.perf_counter(), time.process_time()
    for idx in batches[warmup:]:
        loop.step(idx)
    seconds, cpu_s = time.perf_counter() - t0, time.process_time() - cpu0
    return {
        "samples_per_s": sum(len(b) for b in batches[warmup:]) / max(seconds, 1e-9),
        "device": device.type,
        "cpu_s": round(cpu_s, 4),
        "cores": round(cpu_s / max(seconds, 1e-9), 4),
        "steps": steps,
        "batch": batch,
        "precision": precision,
        "attention": attn,
        "threads": torch.get_num_threads(),
        "vsp_pass": loop.clean_pass,
        "length_chunks": loop.chunks,
    }


def run_batches(cfg: Any, labels: Any, count: int) -> list[np.ndarray]:
    """The first ``count`` global batches a run of ``cfg`` trains on: its sampler's, seeded as the run's,
    epoch after epoch (``raysweep.samplers``)."""
    from raysweep.samplers import build_sampler

    sampler = build_sampler(cfg.sampler, np.asarray(labels), 1, 0, cfg.train.seed)
    batches: list[np.ndarray] = []
    epoch = 0
    while len(batches) < count:
        sampler.set_epoch(epoch, 0)
        batches.extend(np.asarray(b) for b in sampler)
        epoch += 1
    return batches[:count]
