"""``stratified``: every batch keeps the class proportions of the training set.

No library sampler yields equal-sized stratified batches (scikit-learn's stratified folds differ in
size by a few rows, which DDP cannot take), so the plan is built directly: shuffle each class, give
its i-th example the key (i + u_class) / n_class with one offset u_class ~ U(0, 1) per class, and
sort all examples by key. Each class is then evenly spaced along the epoch, so a batch of B rows
holds about B * p_class of it: within one row of its share of the span of keys the batch covers,
a span that varies a little from batch to batch (so counts can stray a little over one row from
B * p_class; under two rows in the tests). Each epoch is a permutation (no repeats); each global
batch's rows are dealt to the ranks class by class, so the local batches are stratified too.
"""

from __future__ import annotations

import numpy as np

from raysweep.samplers.distributed import DistributedBatchSampler, epoch_rng


class DistributedStratifiedSampler(DistributedBatchSampler):
    """Global batches with the training set's class proportions, each epoch a permutation of the rows.

    The plan for an epoch is drawn from ``epoch_rng(seed, epoch)`` alone (see the module docstring
    for how); the last ``len(labels) % batch_size`` rows of the epoch's order are left out, a
    different few each epoch. ``rank_slice`` deals each class's rows round-robin over the ranks, so
    every rank's count of a class is within one of the others'.
    """

    def global_batches(self, epoch: int) -> np.ndarray:
        rng = epoch_rng(self.seed, epoch)
        keys = np.empty(len(self.labels), dtype=np.float64)
        for label in np.unique(self.labels):
            members = np.flatnonzero(self.labels == label)
            rng.shuffle(members)
            keys[members] = (np.arange(len(members)) + rng.random_sample()) / len(members)
        order = np.argsort(keys, kind="stable")
        used = self.steps_per_epoch * self.batch_size
        return order[:used].reshape(self.steps_per_epoch, self.batch_size)

    def rank_slice(self, global_batch: np.ndarray) -> np.ndarray:
        """Deal each class's rows of the global batch round-robin over the ranks (by class, then
        position), so every rank's count of a class is within one of the others'."""
        by_class = global_batch[np.lexsort((np.arange(len(global_batch)), self.labels[global_batch]))]
        return by_class[self.rank :: self.num_replicas]
