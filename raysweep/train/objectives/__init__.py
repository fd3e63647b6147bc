"""The objectives a training run can optimise, and the one registry of them by name.

* ``supcon`` (:mod:`.supcon`): the method, SupCon(τ) + λ·VSP on a projection head;
* ``ce`` (:mod:`.ce`): a linear classifier with cross-entropy (TLearn; the fine-tuning protocol);
* ``mtl`` (:mod:`.mtl`): emotion and a downstream task's cross-entropy trained jointly (MTL).

What an objective must provide is :class:`~raysweep.train.objectives.base.Objective`'s docstring.
A new one is a module importing ``base`` only, with its class added to ``OBJECTIVES`` here; the
contract tests (``tests/train/test_objectives_contract.py``) then run it too. Everything that
depends on the objective (what data to precompute, whether preflight checks the sampler, the model
card's wording) reads the class attributes, never compares the name.
"""

from __future__ import annotations

from raysweep.config import RetrofitConfig
from raysweep.errors import RaysweepError
from raysweep.train.objectives.base import Objective, StepContext, gather_rows, shard
from raysweep.train.objectives.ce import ClassifierObjective
from raysweep.train.objectives.mtl import MTLObjective, MTLTrainingData
from raysweep.train.objectives.supcon import SupConObjective
from raysweep.train.training_data import TrainingData

OBJECTIVES: dict[str, type[Objective]] = {cls.name: cls for cls in (SupConObjective, ClassifierObjective, MTLObjective)}
"""``loss.objective`` -> the objective's class."""


def get_objective(name: str) -> type[Objective]:
    """The class registered as ``name``; a one-line error naming the choices otherwise."""
    try:
        return OBJECTIVES[name]
    except KeyError:
        raise RaysweepError(
            f"loss.objective: unknown objective {name!r}; use one of {', '.join(sorted(OBJECTIVES))}"
        ) from None


def build_objective(cfg: RetrofitConfig, data: TrainingData) -> Objective:
    """``cfg.loss.objective``'s objective on ``data``."""
    return get_objective(cfg.loss.objective)(cfg, data)


__all__ = [
    "OBJECTIVES",
    "ClassifierObjective",
    "MTLObjective",
    "MTLTrainingData",
    "Objective",
    "StepContext",
    "SupConObjective",
    "build_objective",
    "gather_rows",
    "get_objective",
    "shard",
]
