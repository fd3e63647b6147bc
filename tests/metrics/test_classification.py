"""The one definition of macro-F1: every class of the task counts, predicted, present or not."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score

from raysweep.metrics.classification import classification_scores, collapsed


def test_a_class_never_predicted_or_absent_counts_as_zero() -> None:
    y = np.array([0, 0, 1, 1, 2, 2])  # class 3 has no row
    p = np.array([0, 0, 1, 0, 1, 1])  # class 2 is never predicted
    f1 = {0: 2 * (2 / 3) / (2 / 3 + 1), 1: 2 * (1 / 3 * 1 / 2) / (1 / 3 + 1 / 2), 2: 0.0, 3: 0.0}
    scores = classification_scores(y, p, 4)
    assert scores == pytest.approx({"macro_f1": sum(f1.values()) / 4, "accuracy": 3 / 6})
    # sklearn's default averages over the labels it sees (0, 1, 2): a different figure
    assert f1_score(y, p, average="macro", zero_division=0) == pytest.approx(sum(f1.values()) / 3)


def test_binary_adds_the_positive_class() -> None:
    scores = classification_scores(np.array([1, 1, 0, 0]), np.array([1, 0, 0, 0]), 2)
    assert scores["pos_f1"] == pytest.approx(2 / 3) and scores["macro_f1"] == pytest.approx((2 / 3 + 0.8) / 2)


def test_collapsed_means_one_class_predicted() -> None:
    assert collapsed(np.zeros(10, dtype=int)) and collapsed(np.array([2]))
    assert not collapsed(np.array([0, 0, 0, 1]))
