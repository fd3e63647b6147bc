"""The dataclasses that travel: one validated config goes from the YAML file or CLI to the Tune trial,
to every Train worker and into the loss, and is never re-parsed on the way.

``RetrofitConfig.to_dict()`` gives plain JSON-able dicts (what Ray ships to workers and what a
checkpoint and a model card record); ``RetrofitConfig.from_dict()`` rebuilds and validates.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from raysweep.errors import RaysweepError
from raysweep.rules import check_fields, one_of, ranged

POOLINGS = ("cls", "mean")
HEADS = ("linear", "mlp")
SAMPLERS = ("mperclass", "stratified")
OBJECTIVES = ("supcon", "ce", "mtl")
VSP_TARGETS = ("precomputed", "recompute")
VSP_DROPOUT = ("off", "pass", "train")
PRECISIONS = ("auto", "fp32", "bf16")
CPU_WORKERS = ("auto", "merge", "trials", "as_written")
ATTENTIONS = ("auto", "eager", "sdpa")
MAX_NODE_CPUS = 1024
"""``train.cpus_per_worker`` and ``train.torch_threads`` at most: no node has more cores, more threads only
oversubscribe them, and a count past the process's thread limit crashes the worker (OpenMP cannot create
the threads; 2**31 overflows torch)."""


@dataclass
class DataConfig:
    """Where GoEmotions comes from and how it is cut and tokenised."""

    data_dir: str | None = None
    """Folder holding ``goemotions/{train,dev,test}.tsv``; None: ``$RAYSWEEP_DATA_DIR``, then the hub."""
    max_length: int = ranged(128, ge=8, fix="use >= 8 tokens (the model's maximum at most)")
    drop_neutral: bool = False
    train_limit: int | None = ranged(None, gt=0, fix="give a positive row count or leave it unset")
    """Keep a seeded, stratified sample of this many training rows (quick runs)."""
    dev_limit: int | None = ranged(None, gt=0, fix="give a positive row count or leave it unset")
    """Keep a seeded, stratified sample of this many dev rows for the per-epoch evaluation."""

    def validate(self) -> None:
        check_fields(self, "data")
        _check(self.data_dir != "", "data.data_dir", "is empty", "name the data folder or leave it unset")


@dataclass
class ModelConfig:
    """The encoder, its pooling and the projection head."""

    name: str = "minilm"
    """HF model name or local path; ``minilm`` is the packaged offline all-MiniLM-L6-v2."""
    pooling: str = one_of("cls", POOLINGS, "pooling")
    head: str = one_of("linear", HEADS, "head")
    proj_dim: int = ranged(64, ge=1, le=8192, fix="use a width in 1 .. 8192, such as 64 (the paper's)")
    attn_implementation: str = one_of("auto", ATTENTIONS, "attention", fix="use auto, eager or sdpa")
    """``auto`` picks eager attention for bf16 on CPU (the fast path there) and SDPA otherwise."""

    def validate(self) -> None:
        check_fields(self, "model")
        _check(bool(self.name.strip()), "model.name", "is empty", "give a model folder, a hub name or minilm")


@dataclass
class LossConfig:
    """SupCon(τ) on the projections + λ · MSE(encoder embedding, frozen embedding)."""

    objective: str = one_of("supcon", OBJECTIVES, "objective")
    """``supcon`` (the method), ``ce`` (cross-entropy classifier on the training labels: the TLearn
    baseline on GoEmotions, fine-tuning on a downstream task) or ``mtl`` (emotion cross-entropy and a
    downstream task's cross-entropy trained jointly)."""
    lam: float = ranged(1.0, ge=0, label="loss.lam (λ)", fix="use λ >= 0 (0 turns the preservation term off)")
    tau: float = ranged(0.1, gt=0, label="loss.tau (τ)", fix="use a temperature τ > 0, e.g. 0.1")
    vsp_targets: str = one_of("precomputed", VSP_TARGETS, "mode")
    """``precomputed``: frozen embeddings computed once and looked up by index; ``recompute``: run
    the frozen encoder on every batch. Both give the same loss."""
    vsp_dropout: str = one_of("pass", VSP_DROPOUT, "mode")
    """How VSP's embedding matches its dropout-free targets: ``pass`` (the default: SupCon on the usual
    dropout forward, VSP on a second, dropout-free forward of the encoder in the same step; VSP = 0 at
    step 0), ``off`` (the encoder trains without dropout: one forward, but SupCon loses dropout's
    regularisation) or ``train`` (VSP on the dropout embedding, as before: a floor it never goes below,
    and a pull towards dropout invariance). Measured on MiniLM (60 steps, batch 32, one seed, 2 cores):
    VSP at step 0 0.0054 / 0 / 0 (train / off / pass), speed 1 / 0.97 / 0.69, dev AMI 0.180 / 0.153 /
    0.177, dev Δemb 0.082 / 0.092 / 0.082."""
    vsp_normalize: bool = True
    """Divide VSP by the targets' mean square (a relative error), so one λ range means the same for
    384-d MiniLM and 768-d BERT/RoBERTa, whatever their embeddings' scale."""

    def validate(self) -> None:
        check_fields(self, "loss")


@dataclass
class SamplerConfig:
    """How batches are drawn. ``batch_size`` is the global batch, split evenly over the workers."""

    kind: str = one_of("mperclass", SAMPLERS, "sampler")
    m: int = ranged(4, ge=1, fix="use e.g. m 4")
    """Examples per class in a batch (``mperclass``): at least 2, so every anchor has a positive."""
    batch_size: int = ranged(64, ge=2, fix="use a global batch of at least 2, e.g. 64")

    def validate(self, num_workers: int = 1) -> None:
        check_fields(self, "sampler")
        _check(
            num_workers >= 1 and self.batch_size % num_workers == 0,
            "sampler.batch_size",
            f"{self.batch_size} does not split over {num_workers} workers",
            "use a global batch size divisible by the number of workers",
        )
        if self.kind == "mperclass":
            _check(
                self.m >= 2,
                "sampler.m",
                f"m={self.m} leaves every anchor without a positive (SupCon would be 0)",
                "use m >= 2 with the mperclass sampler",
            )
            local = self.batch_size // num_workers
            _check(
                local % self.m == 0,
                "sampler.m",
                f"a worker's batch of {local} is not a multiple of m={self.m}",
                "choose batch_size / num_workers divisible by m",
            )


@dataclass
class TrainConfig:
    """Optimisation and the shape of the distributed run."""

    epochs: int = ranged(1, ge=1, fix="use >= 1")
    max_steps: int | None = ranged(None, gt=0, fix="use a positive step count or leave it unset")
    """Stop after this many optimiser steps (overrides ``epochs`` when smaller)."""
    eval_every: int | None = ranged(None, gt=0, fix="use a positive step count or leave it unset")
    """Evaluate, report and checkpoint every N steps; None: once per epoch."""
    lr: float = ranged(2e-5, gt=0, fix="use a learning rate such as 2e-5")
    head_lr: float | None = ranged(None, gt=0, fix="use a positive learning rate or leave it unset")
    """Learning rate of the projection head; None: the same as ``lr``."""
    weight_decay: float = ranged(0.01, ge=0, fix="use a decay >= 0, e.g. 0.01")
    warmup_ratio: float = ranged(0.06, ge=0, lt=1, fix="use a ratio in [0, 1), e.g. 0.06")
    grad_clip: float = ranged(1.0, gt=0, fix="use a positive gradient-norm bound, e.g. 1.0")
    seed: int = ranged(0, ge=0, lt=2**32, fix="use a seed in 0 .. 2**32 - 1")
    precision: str = one_of("auto", PRECISIONS, "precision")
    """``auto``: bf16 autocast on GPUs and on CPUs with AMX; fp32 elsewhere."""
    num_workers: int = ranged(1, ge=1, fix="use >= 1")
    cpu_workers: str = one_of("auto", CPU_WORKERS, "cpu_workers")
    """CPU-only runs whose workers would all sit on one node: ``auto`` (the default: ``trials`` where one
    merged run would hold a whole node, so that runs side by side fill each other's start-up and
    evaluation; ``merge`` where merged runs already share a node), ``merge`` (the study's resource plan runs
    them as one worker with their CPUs together: DDP inside one CPU node only adds the gradient
    all-reduce), ``trials`` (one worker of one worker's CPUs per run, and as many runs at once as the
    cluster holds: a run's start-up and evaluation then overlap another's steps; same global batch) or
    ``as_written`` (keep ``num_workers`` DDP processes, e.g. to exercise DDP). See
    :func:`raysweep.tune.resources.plan_resources` for what each measured."""
    cpus_per_worker: float = ranged(
        1.0,
        gt=0,
        le=MAX_NODE_CPUS,
        fix=f"give each worker a positive (possibly fractional) CPU share, at most {MAX_NODE_CPUS} (one node)",
    )
    """Ray's CPU share per worker, and (without ``torch_threads``) its intra-op thread count."""
    gpus_per_worker: float = ranged(0.0, ge=0, fix="use 0 (CPU) or a positive GPU share")
    max_failures: int = ranged(2, ge=0, fix="use 0 or more restarts (Ray reads a negative count as unlimited)")
    """Worker-group restarts (from the last checkpoint) before the run fails."""
    torch_threads: int | None = ranged(
        None, ge=1, le=MAX_NODE_CPUS, fix=f"use 1 .. {MAX_NODE_CPUS} threads (a node's cores at most) or leave it unset"
    )
    """Intra-op threads per worker; None: the worker's CPU share, at least 1."""
    length_chunks: int | None = ranged(
        None, ge=1, le=64, fix="use 1 .. 64 length-sorted groups per batch (1: the padded batch) or leave it unset"
    )
    """The encoder runs each rank's batch as this many length-sorted groups trimmed to their own longest
    text (``models/length_chunks.py``: the same embeddings and gradients from 1.24 instead of 2.05 token
    positions per real token of GoEmotions at batch 64; a CPU step 1.55x faster there, 1.18x at batch
    32); None: 4 on CPU (measured fastest there), 1 on a GPU."""

    def validate(self) -> None:
        check_fields(self, "train")
        for name, lr in (("lr", self.lr), ("head_lr", self.head_lr)):
            if lr is None:
                continue
            _check(
                lr * self.weight_decay < 1,
                "train.weight_decay",
                f"{name} x weight_decay = {lr * self.weight_decay:g} is not below 1, so AdamW's decay step "
                "(w <- w * (1 - lr * weight_decay)) zeroes or flips the weights",
                f"lower {name} or use weight_decay < 1 / {name} (e.g. 0.01)",
            )


@dataclass
class RetrofitConfig:
    """Everything one retrofitting run needs."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def validate(self) -> RetrofitConfig:
        """Every field within its range (``raysweep.rules``), then the relations between them."""
        self.data.validate()
        self.model.validate()
        self.loss.validate()
        self.train.validate()
        self.sampler.validate(self.train.num_workers)
        return self

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> RetrofitConfig:
        parts = {f.name: f.type for f in fields(cls)}
        unknown = set(raw) - set(parts)
        _check(not unknown, "config", f"unknown section(s) {sorted(unknown)}", f"use only {', '.join(parts)}")
        built: dict[str, Any] = {}
        for f in fields(cls):
            section_cls = f.default_factory  # type: ignore[misc]
            built[f.name] = _build_section(f.name, section_cls, raw.get(f.name, {}))
        return cls(**built).validate()

    def replace(self, **sections: dict[str, Any]) -> RetrofitConfig:
        """A copy with some fields of some sections changed: ``cfg.replace(loss={"lam": 0.0})``."""
        raw = self.to_dict()
        for name, updates in sections.items():
            raw.setdefault(name, {}).update(updates)
        return RetrofitConfig.from_dict(raw)


def _build_section(name: str, section_cls: Any, values: dict[str, Any]) -> Any:
    known = {f.name for f in dataclasses.fields(section_cls)}
    unknown = set(values) - known
    _check(not unknown, name, f"unknown key(s) {sorted(unknown)}", f"use only {', '.join(sorted(known))}")
    return section_cls(**values)


def _check(ok: bool, key: str, problem: str, fix: str) -> None:
    if not ok:
        raise RaysweepError(f"{key}: {problem}; {fix}")
