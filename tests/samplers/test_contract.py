"""The contract of ``DistributedBatchSampler``, checked on every kind in ``raysweep.config.SAMPLERS``.

Each test runs once per sampler kind, built through ``build_sampler`` as the worker builds it, so a
new kind is checked as soon as it is registered. What a kind's batches are made of differs by kind:
``COMPOSITION`` holds one check per kind, and a kind without one fails ``test_batch_composition``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from raysweep.config import SAMPLERS, SamplerConfig
from raysweep.samplers import DistributedBatchSampler, build_sampler

LABELS = np.random.default_rng(0).choice(10, size=600, p=[0.3, 0.2, 0.1, 0.1, 0.08, 0.07, 0.06, 0.04, 0.03, 0.02])
M = 4
BATCH = 32  # splits over 1, 2 and 4 workers into local batches that are multiples of M
STEPS = len(LABELS) // BATCH
SEED = 3

Factory = Callable[..., DistributedBatchSampler]


def factory(kind: str) -> Factory:
    """Build a ``kind`` sampler over ``LABELS`` for ``rank`` of ``world`` workers."""

    def make(world: int = 1, rank: int = 0, seed: int = SEED) -> DistributedBatchSampler:
        return build_sampler(SamplerConfig(kind=kind, m=M, batch_size=BATCH), LABELS, world, rank, seed)

    return make


FACTORIES = [pytest.param(factory(kind), id=kind) for kind in SAMPLERS]
parametrize_samplers = pytest.mark.parametrize("make", FACTORIES)


def run_epochs(sampler: DistributedBatchSampler, epochs: range) -> list[list[list[int]]]:
    """Iterate ``sampler`` through ``epochs`` as the worker does: ``set_epoch`` then ``__iter__``."""
    out = []
    for epoch in epochs:
        sampler.set_epoch(epoch)
        out.append(list(sampler))
    return out


def check_m_per_class(global_batch: np.ndarray) -> None:
    counts = np.bincount(LABELS[global_batch])
    assert set(counts[counts > 0]) == {M} and (counts > 0).sum() == BATCH // M


def check_stratified(global_batch: np.ndarray) -> None:
    share = np.bincount(LABELS, minlength=10) / len(LABELS)
    assert np.abs(np.bincount(LABELS[global_batch], minlength=10) - share * BATCH).max() < 2.0  # roughly


COMPOSITION: dict[str, Callable[[np.ndarray], None]] = {"mperclass": check_m_per_class, "stratified": check_stratified}


@parametrize_samplers
def test_plan_shape(make: Factory) -> None:
    s = make()
    for epoch in range(3):
        plan = s.global_batches(epoch)
        assert plan.shape == (STEPS, BATCH) and s.steps_per_epoch == len(s) == STEPS
        assert np.issubdtype(plan.dtype, np.integer)
        assert plan.min() >= 0 and plan.max() < len(LABELS)
        assert all(len(set(batch)) == BATCH for batch in plan)  # no row twice in a global batch


@pytest.mark.parametrize("kind", SAMPLERS)
def test_batch_composition(kind: str) -> None:
    assert kind in COMPOSITION, f"add a check of what a {kind!r} batch is made of to COMPOSITION"
    s = factory(kind)()
    for epoch in range(3):
        for batch in s.global_batches(epoch):
            COMPOSITION[kind](batch)


@parametrize_samplers
@pytest.mark.parametrize("world", [1, 2, 4])
def test_ranks_partition_each_global_batch(make: Factory, world: int) -> None:
    samplers = [make(world, rank) for rank in range(world)]
    plans = [s.global_batches(1) for s in samplers]
    for plan in plans[1:]:
        np.testing.assert_array_equal(plan, plans[0])  # the same plan on every rank
    local = [run_epochs(s, range(1, 2))[0] for s in samplers]
    for step, global_batch in enumerate(plans[0]):
        parts = [batches[step] for batches in local]
        assert all(len(part) == BATCH // world for part in parts)
        assert sorted(i for part in parts for i in part) == sorted(global_batch.tolist())  # union, no overlap


@parametrize_samplers
@pytest.mark.parametrize("epoch", [1, 2, 3])
def test_plan_for_an_epoch_does_not_depend_on_earlier_epochs(make: Factory, epoch: int) -> None:
    """A restart at ``epoch`` builds a fresh sampler; it must resume the plan the run was on."""
    fresh = make(2, 1)
    uninterrupted = make(2, 1)
    run_epochs(uninterrupted, range(epoch))
    np.testing.assert_array_equal(fresh.global_batches(epoch), uninterrupted.global_batches(epoch))
    assert run_epochs(fresh, range(epoch, epoch + 1)) == run_epochs(uninterrupted, range(epoch, epoch + 1))


@parametrize_samplers
@pytest.mark.parametrize("epoch", [0, 1])
@pytest.mark.parametrize("start_batch", [0, 1, 7, STEPS - 1, STEPS])
def test_resume_mid_epoch_yields_the_tail_of_the_uninterrupted_epoch(
    make: Factory, epoch: int, start_batch: int
) -> None:
    uninterrupted = run_epochs(make(2, 1), range(epoch + 1))[epoch]
    resumed = make(2, 1)
    resumed.set_epoch(epoch, start_batch=start_batch)
    assert len(resumed) == STEPS - start_batch
    assert list(resumed) == uninterrupted[start_batch:]


@parametrize_samplers
def test_plans_differ_by_epoch(make: Factory) -> None:
    s = make()
    plans = [s.global_batches(epoch) for epoch in range(4)]
    assert all(not np.array_equal(a, b) for i, a in enumerate(plans) for b in plans[i + 1 :])


@parametrize_samplers
@pytest.mark.parametrize("epoch", [0, 2])
def test_plans_differ_by_seed(make: Factory, epoch: int) -> None:
    plans = [make(seed=seed).global_batches(epoch) for seed in range(4)]
    assert all(not np.array_equal(a, b) for i, a in enumerate(plans) for b in plans[i + 1 :])
