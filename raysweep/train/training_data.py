"""What a training run's workers share: the ``TrainingData`` an objective reads its batches from.

Prepared once per study (or per CLI run) by ``train.data.prepare_training_data`` and shared through
Ray's object store; an objective that needs more (``mtl``: a downstream task's rows) subclasses it.
A module of its own so that the objectives (which read it) and the preparation (which asks the
objective registry what to precompute) both import it from below.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from raysweep.data.tokenized import TokenizedTexts


@dataclass(frozen=True)
class TrainingData:
    label_names: list[str]
    train_tokens: TokenizedTexts
    train_labels: np.ndarray
    dev_tokens: TokenizedTexts
    dev_labels: np.ndarray
    frozen_train: np.ndarray | None
    """``(n_train, hidden)`` frozen-encoder embeddings of the training rows, or None (recompute)."""
    drift_tokens: TokenizedTexts | None = None
    """Non-GoEmotions texts on which Δemb is tracked during training (optional)."""
    frozen_drift: np.ndarray | None = None
    class_weights: np.ndarray | None = None
    """Per-class weights of a classifier's cross-entropy (``ce``), e.g. inverse class frequency for an
    imbalanced downstream task; None: every class weighs 1."""

    @property
    def num_classes(self) -> int:
        return len(self.label_names)
