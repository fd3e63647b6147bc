"""Scores of class predictions: the one definition of macro-F1, accuracy and positive-class F1, and of
a collapsed classifier (one that predicts a single class for every test row).

Macro-F1 averages over all ``num_classes`` labels (``labels=range(num_classes)``), so a class that
is never predicted, or absent from a small split, counts as F1 0 (``zero_division=0``) instead of
being dropped from the average. Dev metrics during the search and test figures afterwards both come
from here, so the two agree on the same predictions.
"""

from __future__ import annotations

import numpy as np


def classification_scores(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> dict[str, float]:
    """Macro-F1 and accuracy; for two classes also the F1 of the positive class (label 1)."""
    from sklearn.metrics import accuracy_score, f1_score

    labels = list(range(num_classes))
    scores = {
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
    }
    if num_classes == 2:
        scores["pos_f1"] = float(f1_score(y_true, y_pred, pos_label=1, average="binary", zero_division=0))
    return scores


def collapsed(y_pred: np.ndarray) -> bool:
    """True when the predictions hold one class only: the classifier learnt the majority class (or
    nothing), and its scores say so rather than how well it separates the classes."""
    return len(np.unique(np.asarray(y_pred))) <= 1
