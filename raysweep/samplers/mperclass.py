"""``mperclass``: each batch holds batch_size / m classes with m examples each (PML's
``MPerClassSampler``), distributed so each rank gets whole class groups of the global batch.

PML's sampler draws from a module-global numpy RNG; here each epoch's plan is drawn with that RNG
swapped for one seeded by (seed, epoch), so all ranks agree on the plan and runs are reproducible.
"""

from __future__ import annotations

import threading

import numpy as np
from pytorch_metric_learning.samplers import MPerClassSampler
from pytorch_metric_learning.utils import common_functions as pml_common

from raysweep.errors import RaysweepError
from raysweep.samplers.distributed import DistributedBatchSampler, epoch_rng

_PML_RNG_LOCK = threading.Lock()


class DistributedMPerClassSampler(DistributedBatchSampler):
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

    def global_batches(self, epoch: int) -> np.ndarray:
        with _PML_RNG_LOCK:
            saved = pml_common.NUMPY_RANDOM
            pml_common.NUMPY_RANDOM = epoch_rng(self.seed, epoch)
            try:
                flat = np.fromiter(iter(self._pml), dtype=np.int64)
            finally:
                pml_common.NUMPY_RANDOM = saved
        return flat.reshape(self.steps_per_epoch, self.batch_size)
