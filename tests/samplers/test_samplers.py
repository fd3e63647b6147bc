"""What each kind's batches are made of over two ranks, and its configuration errors."""

from __future__ import annotations

import numpy as np
import pytest

from raysweep.errors import RaysweepError
from raysweep.samplers import DistributedBatchSampler, DistributedMPerClassSampler, DistributedStratifiedSampler

rng = np.random.default_rng(0)
LABELS = rng.choice(10, size=1000, p=[0.3, 0.2, 0.1, 0.1, 0.08, 0.07, 0.06, 0.05, 0.03, 0.01])


def ranks(
    cls: type[DistributedBatchSampler], world: int = 2, seed: int = 0, epoch: int = 0, **kw: int
) -> list[list[list[int]]]:
    """Each rank's batches of ``epoch``, for ``world`` fresh samplers of ``cls``."""
    samplers = [cls(LABELS, num_replicas=world, rank=r, seed=seed, **kw) for r in range(world)]
    for s in samplers:
        s.set_epoch(epoch)
    return [list(s) for s in samplers]


def test_mperclass_m_per_class_and_disjoint_ranks() -> None:
    a, b = ranks(DistributedMPerClassSampler, m=4, batch_size=32)
    assert len(a) == len(b) == 1000 // 32
    for ba, bb in zip(a, b, strict=True):
        assert len(ba) == len(bb) == 16
        for batch in (ba, bb):
            counts = np.bincount(LABELS[batch], minlength=10)
            assert set(counts[counts > 0]) == {4} and (counts > 0).sum() == 4
        assert not set(LABELS[ba]) & set(LABELS[bb])  # different classes, so different rows


def test_stratified_keeps_proportions_and_is_a_permutation() -> None:
    a, b = ranks(DistributedStratifiedSampler, batch_size=100)
    assert len(a) == len(b) == 10
    seen = np.concatenate([np.concatenate(a), np.concatenate(b)])
    assert len(seen) == len(set(seen)) == 1000  # each row once per epoch, disjoint across ranks
    share = np.bincount(LABELS, minlength=10) / 1000
    for ba, bb in zip(a, b, strict=True):
        both = np.bincount(LABELS[ba + bb], minlength=10)
        assert np.abs(both - share * 100).max() <= 1.0  # global batch: within one row per class
        for batch in (ba, bb):
            assert np.abs(np.bincount(LABELS[batch], minlength=10) - share * 50).max() <= 1.0


def test_bad_configurations_are_clear_errors() -> None:
    with pytest.raises(RaysweepError, match="cannot fill a batch"):
        DistributedMPerClassSampler(LABELS, m=2, batch_size=64)
    with pytest.raises(RaysweepError, match="not a multiple of m"):
        DistributedMPerClassSampler(LABELS, m=4, batch_size=20, num_replicas=2)
    with pytest.raises(RaysweepError, match="needs >= 2"):
        DistributedStratifiedSampler(np.array([0, 0, 1, 1, 2]), batch_size=2)
