"""What ``DistributedBatchSampler`` gives an implementation that only writes ``global_batches``."""

from __future__ import annotations

import numpy as np
import pytest

from raysweep.samplers import DistributedBatchSampler, epoch_rng

LABELS = np.repeat(np.arange(4), 5)  # 20 rows, 4 classes


class Shuffled(DistributedBatchSampler):
    """A minimal implementation: a seeded permutation per epoch, cut into global batches."""

    def global_batches(self, epoch: int) -> np.ndarray:
        order = epoch_rng(self.seed, epoch).permutation(len(self.labels))
        return order[: self.steps_per_epoch * self.batch_size].reshape(self.steps_per_epoch, self.batch_size)


class WrongShape(Shuffled):
    def global_batches(self, epoch: int) -> np.ndarray:
        return super().global_batches(epoch)[:, :-1]


def test_base_slices_by_rank_and_resumes() -> None:
    plan = Shuffled(LABELS, batch_size=8).global_batches(2)
    ranks = [Shuffled(LABELS, batch_size=8, num_replicas=2, rank=r) for r in range(2)]
    for s in ranks:
        s.set_epoch(2, start_batch=1)
    assert [len(s) for s in ranks] == [1, 1]
    assert [list(s) for s in ranks] == [[plan[1, :4].tolist()], [plan[1, 4:].tolist()]]
    assert ranks[1].state_dict() == {"seed": 0, "epoch": 2, "start_batch": 1}


def test_epoch_rng_depends_on_seed_and_epoch_only() -> None:
    assert epoch_rng(1, 2).randint(1 << 30) == epoch_rng(1, 2).randint(1 << 30)
    assert len({epoch_rng(s, e).randint(1 << 30) for s, e in [(1, 2), (2, 1), (1, 3)]}) == 3


def test_a_plan_of_the_wrong_shape_is_an_error() -> None:
    with pytest.raises(RuntimeError, match=r"WrongShape.global_batches\(0\) has shape \(2, 7\)"):
        list(WrongShape(LABELS, batch_size=8))
