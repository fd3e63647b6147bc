"""``stratified``: every batch keeps the class proportions of the training set.

No library sampler yields equal-sized stratified batches (scikit-learn's stratified folds differ in
size by a few rows, which DDP cannot take), so the plan is built directly: shuffle each class, give
its i-th example the key (i + u) / n_class with u ~ U(0, 1), and sort all examples by key. Each
class is then spread evenly along the epoch, and any window of B examples holds about B * p_class of
each class. Each epoch is a permutation (no repeats); ranks take interleaved slices of each global
batch so their local batches are stratified too.
"""

from __future__ import annotations

import numpy as np

from raysweep.samplers.distributed import DistributedBatchSampler, epoch_rng


class DistributedStratifiedSampler(DistributedBatchSampler):
    def global_batches(self, epoch: int) -> np.ndarray:
        rng = epoch_rng(self.seed, epoch)
        keys = np.empty(len(self.labels), dtype=np.float64)
        for label in np.unique(self.labels):
            members = np.flatnonzero(self.labels == label)
            rng.shuffle(members)
            keys[members] = (np.arange(len(members)) + rng.random_sample(len(members))) / len(members)
        order = np.argsort(keys, kind="stable")
        used = self.steps_per_epoch * self.batch_size
        return order[:used].reshape(self.steps_per_epoch, self.batch_size)

    def rank_slice(self, global_batch: np.ndarray) -> np.ndarray:
        return global_batch[self.rank :: self.num_replicas]
