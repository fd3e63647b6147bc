"""Checks that run before anything starts: a bad input fails here, in one line, with nothing written."""

from __future__ import annotations

import os
from pathlib import Path

from raysweep.config import RetrofitConfig
from raysweep.data.goemotions import GoEmotions, load_goemotions
from raysweep.errors import RaysweepError
from raysweep.models.encoder import check_model_exists
from raysweep.samplers import build_sampler
from raysweep.train.objectives import OBJECTIVES, get_objective
from raysweep.train.training_data import TrainingData


def preflight(cfg: RetrofitConfig, data_type: type[TrainingData] = TrainingData) -> GoEmotions:
    """Validate config, data, model and sampler against each other; return the loaded data.

    ``data_type`` is what the run will be given to train on (``prepare_training_data``'s
    ``TrainingData`` unless the caller prepares more); an objective that reads more than that (``mtl``
    needs a downstream task's rows) is refused here rather than in every worker.
    """
    cfg.validate()
    objective = get_objective(cfg.loss.objective)
    if not issubclass(data_type, objective.data_type):
        raise RaysweepError(
            f"loss.objective: {objective.name} trains on {objective.data_type.__name__}, which this run does not "
            f"prepare (it trains on GoEmotions alone); use {', '.join(_plain_objectives())} here "
            f"(the {objective.name} baseline prepares its own data)"
        )
    data = load_goemotions(cfg.data.data_dir, drop_neutral=cfg.data.drop_neutral)
    check_model_exists(cfg.model.name)
    train = data.train.sample(cfg.data.train_limit, seed=0)
    if objective.uses_sampler_for_contrast:
        build_sampler(cfg.sampler, train.labels, cfg.train.num_workers, 0, cfg.train.seed)
    return data


def _plain_objectives() -> list[str]:
    """The objectives that train on GoEmotions alone."""
    return sorted(name for name, cls in OBJECTIVES.items() if cls.data_type is TrainingData)


def check_writable_parent(path: Path, what: str) -> None:
    """``path`` may not exist yet, but the nearest existing folder above it must be writable."""
    probe = path
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK):
        raise RaysweepError(f"{what} {path}: {probe} is not a writable folder; choose a writable location")
