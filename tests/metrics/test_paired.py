"""The comparison test on synthetic figures: its false-positive rate under the null and its power.

Each synthetic figure is a mean over ``n`` evaluation examples of per-example scores
``y = μ_method + u_example + v_seed + ε``: the example effects ``u`` are shared by every method (the
paired draws), each training seed adds ``v`` (model variance) and ``ε`` is per-example noise. The
"standard deviation" of a figure is what the old tables reported as ± over seeds when each seed was
also scored on its own evaluation draw: sqrt(sd(v)² + sd(u + ε)² / n).
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score

from raysweep.metrics.paired import holm, mean_of, paired_test

N, SD_U, SD_E, SD_V = 600, 0.4, 0.1, 0.005
"""Example difficulty (shared by all methods) dominates, as it does for real test sets."""


def runs(rng: np.random.Generator, u: np.ndarray, mu: float, seeds: int) -> list[tuple[np.ndarray]]:
    return [(mu + u + rng.normal(0, SD_V) + rng.normal(0, SD_E, len(u)),) for _ in range(seeds)]


def figure_sd() -> float:
    return float(np.sqrt(SD_V**2 + (SD_U**2 + SD_E**2) / N))


@pytest.mark.parametrize("seeds", [2, 3])
def test_false_positive_rate_and_power(seeds: int) -> None:
    rng = np.random.default_rng(seeds)
    rejected_null = rejected_planted = 0
    reps = 200
    for rep in range(reps):
        u = rng.normal(0, SD_U, N)
        a, b = runs(rng, u, 0.5, seeds), runs(rng, u, 0.5, seeds)
        rejected_null += paired_test(mean_of, a, b, n_boot=100, seed=rep).p_value < 0.05
        planted = runs(rng, u, 0.5 + 2 * figure_sd(), seeds)
        rejected_planted += paired_test(mean_of, planted, b, n_boot=100, seed=rep).p_value < 0.05
    assert 0.02 <= rejected_null / reps <= 0.08, rejected_null / reps
    if seeds >= 3:  # with two seeds the t reference has about two degrees of freedom: valid, not powerful
        assert rejected_planted / reps >= 0.9, rejected_planted / reps


def test_against_a_single_run_and_a_non_mean_figure() -> None:
    """PLM runs once: only the example level counts; macro-F1 is recomputed from resampled predictions."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 900)
    good = np.where(rng.random(900) < 0.8, labels, rng.integers(0, 3, 900))
    bad = np.where(rng.random(900) < 0.6, labels, rng.integers(0, 3, 900))

    def macro_f1(y: np.ndarray, pred: np.ndarray) -> float:
        return float(f1_score(y, pred, average="macro"))

    better = paired_test(macro_f1, [(labels, good)], [(labels, bad)], n_boot=200)
    assert better.delta > 0.1 and better.p_value < 1e-6 and better.ci_low > 0
    same = paired_test(macro_f1, [(labels, good)], [(labels, good)], n_boot=50)
    assert same.delta == 0 and same.p_value == 1.0
    with pytest.raises(ValueError, match="same evaluation examples"):
        paired_test(macro_f1, [(labels, good)], [(labels[:10], bad[:10])])


def test_holm() -> None:
    assert holm([0.01, 0.04, 0.03, float("nan")])[:3] == pytest.approx([0.03, 0.06, 0.06])
    assert np.isnan(holm([0.01, float("nan")])[1])
