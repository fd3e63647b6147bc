"""``mperclass``: each batch holds batch_size / m classes with m examples each (PML's
``MPerClassSampler``), distributed so each rank gets whole class groups of the global batch.

PML's sampler keeps state between passes: it draws from a module-global numpy RNG, and each pass
shuffles its own label list in place, so a pass depends on every pass before it. Here each
epoch's plan is one pass of a fresh copy of a PML sampler built once in ``__init__``, drawn with the
module RNG swapped for one seeded by (seed, epoch). The plan for an epoch is then the same on every
rank, in every run, and after a restart, whatever epochs the sampler ran before.
"""

from __future__ import annotations

import copy
import threading

import numpy as np
from pytorch_metric_learning.samplers import MPerClassSampler
from pytorch_metric_learning.utils import common_functions as pml_common

from raysweep.errors import RaysweepError
from raysweep.samplers.distributed import DistributedBatchSampler, epoch_rng

_PML_RNG_LOCK = threading.Lock()


class DistributedMPerClassSampler(DistributedBatchSampler):
    """Global batches of ``batch_size / m`` distinct classes with ``m`` rows each, drawn by PML.

    Classes are drawn afresh for every batch (and rows within a class without replacement, unless
    the class has fewer than ``m`` rows), so an epoch is ``steps_per_epoch`` draws, not a pass over
    the data: rows of rare classes recur and some rows of common classes are not seen. Each rank
    takes a contiguous slice of the global batch; since ``batch_size / num_replicas`` is a multiple
    of ``m`` and each class's ``m`` rows are contiguous, every rank gets whole class groups, so in
    its local batch too every anchor has ``m - 1`` positives.

    Raises ``RaysweepError`` if a rank's batch is not a multiple of ``m`` or if ``m`` times the
    number of classes cannot fill a global batch (besides the base class's checks).
    """

    def __init__(
        self, labels: np.ndarray, m: int, batch_size: int, num_replicas: int = 1, rank: int = 0, seed: int = 0
    ) -> None:
        super().__init__(labels, batch_size, num_replicas, rank, seed)
        self.m = int(m)
        num_classes = len(np.unique(self.labels))
        if self.local_batch_size % self.m:
            raise RaysweepError(
                f"sampler: a worker's batch of {self.local_batch_size} is not a multiple of m={self.m}; "
                "choose batch_size / num_workers divisible by m"
            )
        if self.m * num_classes < self.batch_size:
            raise RaysweepError(
                f"sampler: m={self.m} x {num_classes} classes = {self.m * num_classes} cannot fill a batch "
                f"of {self.batch_size}; raise m to >= {-(-self.batch_size // num_classes)} or lower batch_size"
            )
        self._pml = MPerClassSampler(
            self.labels,
            m=self.m,
            batch_size=self.batch_size,
            length_before_new_iter=self.steps_per_epoch * self.batch_size,
        )
        """The template, never iterated itself: iterating shuffles its label order in place."""

    def global_batches(self, epoch: int) -> np.ndarray:
        pml = copy.deepcopy(self._pml)
        with _PML_RNG_LOCK:
            saved = pml_common.NUMPY_RANDOM
            pml_common.NUMPY_RANDOM = epoch_rng(self.seed, epoch)
            try:
                flat = np.fromiter(iter(pml), dtype=np.int64)
            finally:
                pml_common.NUMPY_RANDOM = saved
        return flat.reshape(self.steps_per_epoch, self.batch_size)
