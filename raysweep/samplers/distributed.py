"""The base of raysweep's batch samplers: one global plan per (seed, epoch), sliced by rank.

Every rank builds the same plan of global batches from ``(seed, epoch)`` alone and takes its own
slice of each, so within a step the ranks' batches are disjoint, every rank has the same number of
steps per epoch, and a run is reproducible from ``(seed, epoch, rank)``. ``start_batch`` lets a
resumed run skip the batches it already trained on. Use these as ``batch_sampler=`` of a
``DataLoader`` (and ``prepare_data_loader(..., add_dist_sampler=False)`` so Ray keeps them).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator

import numpy as np
from torch.utils.data import Sampler

from raysweep.errors import RaysweepError


def epoch_rng(seed: int, epoch: int) -> np.random.RandomState:
    """A RandomState determined by (seed, epoch) only: the same on every rank."""
    state = np.random.SeedSequence([int(seed), int(epoch)]).generate_state(1)[0]
    return np.random.RandomState(int(state))


class DistributedBatchSampler(Sampler[list[int]], ABC):
    def __init__(
        self, labels: np.ndarray, batch_size: int, num_replicas: int = 1, rank: int = 0, seed: int = 0
    ) -> None:
        self.labels = np.asarray(labels, dtype=np.int64)
        if batch_size % num_replicas:
            raise RaysweepError(
                f"sampler: global batch {batch_size} does not split over {num_replicas} workers; use a "
                "multiple of the number of workers"
            )
        if not 0 <= rank < num_replicas:
            raise ValueError(f"rank {rank} outside 0..{num_replicas - 1}")
        self.batch_size = int(batch_size)
        self.num_replicas = int(num_replicas)
        self.rank = int(rank)
        self.local_batch_size = self.batch_size // self.num_replicas
        self.seed = int(seed)
        self.epoch = 0
        self.start_batch = 0
        self.steps_per_epoch = len(self.labels) // self.batch_size
        if self.steps_per_epoch == 0:
            raise RaysweepError(
                f"sampler: {len(self.labels)} training rows cannot fill one global batch of "
                f"{self.batch_size}; use a smaller batch_size or more data"
            )
        counts = np.bincount(self.labels)
        present = counts[counts > 0]
        if present.min() < 2:
            rare = int(np.flatnonzero(counts == present.min())[0])
            raise RaysweepError(
                f"sampler: class {rare} has {present.min()} training example; every class needs >= 2 "
                "for contrastive positives; drop the class or add examples"
            )

    def set_epoch(self, epoch: int, start_batch: int = 0) -> None:
        """Select the epoch's plan; skip its first ``start_batch`` batches (resume mid-epoch)."""
        self.epoch = int(epoch)
        self.start_batch = int(start_batch)

    def state_dict(self) -> dict[str, int]:
        return {"seed": self.seed, "epoch": self.epoch, "start_batch": self.start_batch}

    def __len__(self) -> int:
        return self.steps_per_epoch - self.start_batch

    def __iter__(self) -> Iterator[list[int]]:
        plan = self.global_batches(self.epoch)
        assert plan.shape == (self.steps_per_epoch, self.batch_size), plan.shape
        for batch in plan[self.start_batch :]:
            yield self.rank_slice(batch).tolist()

    def rank_slice(self, global_batch: np.ndarray) -> np.ndarray:
        lo = self.rank * self.local_batch_size
        return global_batch[lo : lo + self.local_batch_size]

    @abstractmethod
    def global_batches(self, epoch: int) -> np.ndarray:
        """``(steps_per_epoch, batch_size)`` dataset indices, a pure function of (seed, epoch)."""
