"""Evaluation settings: which protocols a final run of each seed is scored with."""

from __future__ import annotations

from raysweep.evaluation.settings import EvaluationSettings


def test_finetune_seeds_drops_fine_tuning_for_the_later_seeds_only() -> None:
    settings = EvaluationSettings(protocols=["probe", "fewshot", "finetune"], finetune_seeds=1)
    assert settings.for_seed(0) == settings
    for seed in (1, 2):
        later = settings.for_seed(seed)
        assert later.protocols == ["probe", "fewshot"]
        assert later.tasks == settings.tasks and later.limit == settings.limit  # nothing else changes


def test_every_seed_is_fine_tuned_by_default() -> None:
    settings = EvaluationSettings(protocols=["probe", "finetune"])
    assert all(settings.for_seed(seed) == settings for seed in range(5))
    two = EvaluationSettings(protocols=["probe", "finetune"], finetune_seeds=2)
    assert [("finetune" in two.for_seed(s).protocols) for s in range(3)] == [True, True, False]
