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
    """The batch sampler of one DDP worker: its slice of each global batch of an epoch's plan.

    What an implementation provides is ``global_batches(epoch)``: the epoch's plan, an integer array
    of shape ``(steps_per_epoch, batch_size)`` whose rows are the global batches, in order, as
    indices into ``labels``. The plan must be a pure function of ``(self.seed, epoch)`` and the
    constructor's arguments other than ``rank``: the same on every rank (ranks never communicate;
    each computes the plan and keeps its slice), the same in every run, and the same whether or not
    the sampler produced other epochs' plans first, because a run resumed at epoch ``k`` builds a
    fresh sampler and must continue the plan the interrupted run was on. Draw randomness from
    ``epoch_rng(self.seed, epoch)``; never from global RNGs or from state that ``global_batches``
    changes. An implementation may add constructor checks (raise ``RaysweepError`` naming the
    setting to change), and may override ``rank_slice`` if a contiguous slice would not keep what
    its batches are made of; the slices of one global batch must still partition it.

    What the base provides:

    - validation: ``batch_size`` splits evenly over ``num_replicas``, ``rank`` is one of them, the
      labels fill at least one global batch, and every class has the two rows contrastive positives
      need; an unusable plan shape from ``global_batches`` is an error when iterated.
    - ``steps_per_epoch`` (``len(labels) // batch_size``; the last partial batch is dropped) and
      ``local_batch_size`` (``batch_size // num_replicas``).
    - rank slicing: ``rank_slice`` gives rank ``r`` rows ``[r * local, (r + 1) * local)`` of each
      global batch, so within a step the ranks' batches are disjoint and together the global batch.
    - resume: ``set_epoch(epoch, start_batch)`` selects the plan and skips its first
      ``start_batch`` batches; ``__iter__`` then yields this rank's remaining batches as lists of
      ints and ``__len__`` counts them. The worker calls ``set_epoch(*divmod(step, steps_per_epoch))``
      before every epoch, so a restart from a checkpoint at ``step`` trains on exactly the batches an
      uninterrupted run would have.

    ``tests/samplers/test_contract.py`` checks this contract on every kind that ``build_sampler``
    builds.
    """

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
        """What selects this rank's remaining batches, besides the constructor's arguments."""
        return {"seed": self.seed, "epoch": self.epoch, "start_batch": self.start_batch}

    def __len__(self) -> int:
        """The number of batches ``__iter__`` yields: the epoch's steps after ``start_batch``."""
        return self.steps_per_epoch - self.start_batch

    def __iter__(self) -> Iterator[list[int]]:
        """This rank's slice of each global batch of the selected epoch, from ``start_batch`` on."""
        plan = self.global_batches(self.epoch)
        if plan.shape != (self.steps_per_epoch, self.batch_size):
            raise RuntimeError(
                f"{type(self).__name__}.global_batches({self.epoch}) has shape {plan.shape}, not "
                f"(steps_per_epoch, batch_size) = {(self.steps_per_epoch, self.batch_size)}"
            )
        for batch in plan[self.start_batch :]:
            yield self.rank_slice(batch).tolist()

    def rank_slice(self, global_batch: np.ndarray) -> np.ndarray:
        """This rank's ``local_batch_size`` rows of ``global_batch`` (a contiguous block by default)."""
        lo = self.rank * self.local_batch_size
        return global_batch[lo : lo + self.local_batch_size]

    @abstractmethod
    def global_batches(self, epoch: int) -> np.ndarray:
        """The epoch's global batches: ``(steps_per_epoch, batch_size)`` indices into ``labels``, a pure
        function of (seed, epoch), the same on every rank (see the class docstring)."""
