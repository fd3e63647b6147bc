"""The dataclasses that travel: one validated config goes from the YAML file or CLI to the Tune trial,
to every Train worker and into the loss, and is never re-parsed on the way.

``RetrofitConfig.to_dict()`` gives plain JSON-able dicts (what Ray ships to workers and what a
checkpoint and a model card record); ``RetrofitConfig.from_dict()`` rebuilds and validates.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from raysweep.errors import RaysweepError

POOLINGS = ("cls", "mean")
HEADS = ("linear", "mlp")
SAMPLERS = ("mperclass", "stratified")
OBJECTIVES = ("supcon", "ce", "mtl")
VSP_TARGETS = ("precomputed", "recompute")
PRECISIONS = ("auto", "fp32", "bf16")


@dataclass
class DataConfig:
    """Where GoEmotions comes from and how it is cut and tokenised."""

    data_dir: str | None = None
    """Folder holding ``goemotions/{train,dev,test}.tsv``; None: ``$RAYSWEEP_DATA_DIR``, then the hub."""
    max_length: int = 128
    drop_neutral: bool = False
    train_limit: int | None = None
    """Keep a seeded, stratified sample of this many training rows (quick runs)."""
    dev_limit: int | None = None
    """Keep a seeded, stratified sample of this many dev rows for the per-epoch evaluation."""

    def validate(self) -> None:
        _check(self.max_length >= 8, "data.max_length", f"{self.max_length} is too short", "use >= 8")
        for name in ("train_limit", "dev_limit"):
            value = getattr(self, name)
            _check(
                value is None or value > 0,
                f"data.{name}",
                f"{value} is not positive",
                "give a positive row count or leave it unset",
            )


@dataclass
class ModelConfig:
    """The encoder, its pooling and the projection head."""

    name: str = "minilm"
    """HF model name or local path; ``minilm`` is the packaged offline all-MiniLM-L6-v2."""
    pooling: str = "cls"
    head: str = "linear"
    proj_dim: int = 64
    attn_implementation: str = "auto"
    """``auto`` picks eager attention for bf16 on CPU (the fast path there) and SDPA otherwise."""

    def validate(self) -> None:
        _check(
            self.pooling in POOLINGS,
            "model.pooling",
            f"unknown pooling {self.pooling!r}",
            f"use one of {', '.join(POOLINGS)}",
        )
        _check(self.head in HEADS, "model.head", f"unknown head {self.head!r}", f"use one of {', '.join(HEADS)}")
        _check(
            self.proj_dim > 0, "model.proj_dim", f"{self.proj_dim} is not positive", "use a positive width such as 64"
        )
        _check(
            self.attn_implementation in ("auto", "eager", "sdpa"),
            "model.attn_implementation",
            f"unknown attention {self.attn_implementation!r}",
            "use auto, eager or sdpa",
        )


@dataclass
class LossConfig:
    """SupCon(τ) on the projections + λ · MSE(encoder embedding, frozen embedding)."""

    objective: str = "supcon"
    """``supcon`` (the method), ``ce`` (cross-entropy classifier on the training labels: the TLearn
    baseline on GoEmotions, fine-tuning on a downstream task) or ``mtl`` (emotion cross-entropy and a
    downstream task's cross-entropy trained jointly)."""
    lam: float = 1.0
    tau: float = 0.1
    vsp_targets: str = "precomputed"
    """``precomputed``: frozen embeddings computed once and looked up by index; ``recompute``: run
    the frozen encoder on every batch. Both give the same loss."""

    def validate(self) -> None:
        _check(
            self.objective in OBJECTIVES,
            "loss.objective",
            f"unknown objective {self.objective!r}",
            f"use one of {', '.join(OBJECTIVES)}",
        )
        _check(
            math.isfinite(self.lam) and self.lam >= 0,
            "loss.lam (λ)",
            f"{self.lam} is negative",
            "use λ >= 0 (0 turns the preservation term off)",
        )
        _check(
            math.isfinite(self.tau) and self.tau > 0,
            "loss.tau (τ)",
            f"{self.tau} is not positive",
            "use a temperature τ > 0, e.g. 0.1",
        )
        _check(
            self.vsp_targets in VSP_TARGETS,
            "loss.vsp_targets",
            f"unknown mode {self.vsp_targets!r}",
            f"use one of {', '.join(VSP_TARGETS)}",
        )


@dataclass
class SamplerConfig:
    """How batches are drawn. ``batch_size`` is the global batch, split evenly over the workers."""

    kind: str = "mperclass"
    m: int = 4
    batch_size: int = 64

    def validate(self, num_workers: int = 1) -> None:
        _check(
            self.kind in SAMPLERS, "sampler.kind", f"unknown sampler {self.kind!r}", f"use one of {', '.join(SAMPLERS)}"
        )
        _check(
            self.batch_size > 0 and self.m > 0,
            "sampler",
            "batch_size and m must be positive",
            "use e.g. batch_size 64, m 4",
        )
        _check(
            self.batch_size % num_workers == 0,
            "sampler.batch_size",
            f"{self.batch_size} does not split over {num_workers} workers",
            "use a global batch size divisible by the number of workers",
        )
        if self.kind == "mperclass":
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

    epochs: int = 1
    max_steps: int | None = None
    """Stop after this many optimiser steps (overrides ``epochs`` when smaller)."""
    eval_every: int | None = None
    """Evaluate, report and checkpoint every N steps; None: once per epoch."""
    lr: float = 2e-5
    head_lr: float | None = None
    """Learning rate of the projection head; None: the same as ``lr``."""
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    grad_clip: float = 1.0
    seed: int = 0
    precision: str = "auto"
    """``auto``: bf16 autocast on GPUs and on CPUs with AMX; fp32 elsewhere."""
    num_workers: int = 1
    cpus_per_worker: float = 1.0
    gpus_per_worker: float = 0.0
    max_failures: int = 2
    """Worker-group restarts (from the last checkpoint) before the run fails."""
    torch_threads: int | None = None
    """Intra-op threads per worker; None: the worker's CPU share, at least 1."""

    def validate(self) -> None:
        _check(self.epochs > 0, "train.epochs", f"{self.epochs} is not positive", "use >= 1")
        _check(
            self.max_steps is None or self.max_steps > 0,
            "train.max_steps",
            f"{self.max_steps} is not positive",
            "use a positive step count or leave it unset",
        )
        _check(
            self.eval_every is None or self.eval_every > 0,
            "train.eval_every",
            f"{self.eval_every} is not positive",
            "use a positive step count or leave it unset",
        )
        _check(
            math.isfinite(self.lr) and self.lr > 0,
            "train.lr",
            f"{self.lr} is not positive",
            "use a learning rate such as 2e-5",
        )
        _check(0 <= self.warmup_ratio < 1, "train.warmup_ratio", f"{self.warmup_ratio} not in [0, 1)", "use e.g. 0.06")
        _check(self.num_workers >= 1, "train.num_workers", f"{self.num_workers} < 1", "use >= 1")
        _check(
            self.cpus_per_worker > 0,
            "train.cpus_per_worker",
            f"{self.cpus_per_worker} <= 0",
            "give each worker a positive (possibly fractional) CPU share",
        )
        _check(
            self.precision in PRECISIONS,
            "train.precision",
            f"unknown precision {self.precision!r}",
            f"use one of {', '.join(PRECISIONS)}",
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
        self.data.validate()
        self.model.validate()
        self.loss.validate()
        self.sampler.validate(self.train.num_workers)
        self.train.validate()
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
