"""Checks that run before anything starts: a bad input fails here, in one line, with nothing written."""

from __future__ import annotations

import os
from pathlib import Path

from raysweep.config import RetrofitConfig
from raysweep.data.goemotions import GoEmotions, load_goemotions
from raysweep.errors import RaysweepError
from raysweep.models.encoder import check_model_exists
from raysweep.samplers import build_sampler
from raysweep.train.objectives import get_objective


def preflight(cfg: RetrofitConfig) -> GoEmotions:
    """Validate config, data, model and sampler against each other; return the loaded data."""
    cfg.validate()
    data = load_goemotions(cfg.data.data_dir, drop_neutral=cfg.data.drop_neutral)
    check_model_exists(cfg.model.name)
    train = data.train.sample(cfg.data.train_limit, seed=0)
    if get_objective(cfg.loss.objective).uses_sampler_for_contrast:
        build_sampler(cfg.sampler, train.labels, cfg.train.num_workers, 0, cfg.train.seed)
    return data


def check_writable_parent(path: Path, what: str) -> None:
    """``path`` may not exist yet, but the nearest existing folder above it must be writable."""
    probe = path
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK):
        raise RaysweepError(f"{what} {path}: {probe} is not a writable folder; choose a writable location")
