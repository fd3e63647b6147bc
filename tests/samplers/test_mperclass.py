"""``DistributedMPerClassSampler`` around PML's ``MPerClassSampler``: what PML's state must not leak."""

from __future__ import annotations

import numpy as np

from raysweep.samplers import DistributedMPerClassSampler

LABELS = np.random.default_rng(1).choice(8, size=400)


def sampler(seed: int = 0) -> DistributedMPerClassSampler:
    return DistributedMPerClassSampler(LABELS, m=4, batch_size=16, seed=seed)


def test_a_plan_does_not_depend_on_the_plans_drawn_before_it() -> None:
    """PML shuffles its label list in place each pass; a restart at epoch 1 must still get epoch 1's plan."""
    fresh = sampler().global_batches(1)
    ran = sampler()
    ran.global_batches(0)
    np.testing.assert_array_equal(ran.global_batches(1), fresh)
    np.testing.assert_array_equal(ran.global_batches(1), fresh)  # and asking again changes nothing


def test_the_pml_template_is_never_iterated() -> None:
    s = sampler()
    order = list(s._pml.labels)
    for epoch in range(3):
        s.global_batches(epoch)
    assert s._pml.labels == order


def test_pml_global_rng_is_left_alone() -> None:
    from pytorch_metric_learning.utils import common_functions as c_f

    before = c_f.NUMPY_RANDOM
    state = np.random.get_state()[1].copy()
    sampler().global_batches(0)
    assert c_f.NUMPY_RANDOM is before
    np.testing.assert_array_equal(np.random.get_state()[1], state)
