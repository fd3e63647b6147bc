"""Distributed batch samplers: ``mperclass`` and ``stratified``."""

from __future__ import annotations

import numpy as np

from raysweep.config import SamplerConfig
from raysweep.errors import RaysweepError
from raysweep.samplers.distributed import DistributedBatchSampler, epoch_rng
from raysweep.samplers.mperclass import DistributedMPerClassSampler
from raysweep.samplers.stratified import DistributedStratifiedSampler


def build_sampler(
    cfg: SamplerConfig, labels: np.ndarray, num_replicas: int = 1, rank: int = 0, seed: int = 0
) -> DistributedBatchSampler:
    if cfg.kind == "mperclass":
        return DistributedMPerClassSampler(labels, cfg.m, cfg.batch_size, num_replicas, rank, seed)
    if cfg.kind == "stratified":
        return DistributedStratifiedSampler(labels, cfg.batch_size, num_replicas, rank, seed)
    raise RaysweepError(f"unknown sampler {cfg.kind!r}; use mperclass or stratified")


__all__ = [
    "DistributedBatchSampler",
    "DistributedMPerClassSampler",
    "DistributedStratifiedSampler",
    "build_sampler",
    "epoch_rng",
]
