"""Train in this process, without Ray: the same loop as a Ray Train worker, as rank 0 of 1.

    from raysweep.config import RetrofitConfig
    from raysweep.train.local import train_locally

    cfg = RetrofitConfig.from_dict({"data": {"data_dir": "../shared/data", "train_limit": 240}})
    history = train_locally(cfg, steps=20)      # a quick check on a laptop: no cluster, no storage
    print(history[-1]["train_loss"], history[-1]["dev_p_at_1"])

Useful for quick checks of a config or an objective on a laptop, for debugging the loop with a plain
debugger, and for tests; a study or an exported model goes through ``train.launch`` (Ray Train).
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from typing import Any

import torch

from raysweep.config import RetrofitConfig
from raysweep.train.data import model_fingerprint, prepare_training_data
from raysweep.train.objectives import get_objective
from raysweep.train.preflight import preflight
from raysweep.train.session import LocalSession
from raysweep.train.training_data import TrainingData
from raysweep.train.worker import run_training

_PREPARED: OrderedDict[str, TrainingData] = OrderedDict()
"""Prepared data of this process's recent local runs, by :func:`data_key` (a handful at most)."""
_KEEP = 4


def data_key(cfg: RetrofitConfig, drift_texts: list[str] | None = None) -> str:
    """What the prepared data depends on: the data section, the model (its name and weights' fingerprint),
    its pooling, whether frozen targets are precomputed, and the drift texts."""
    parts = {
        "data": cfg.to_dict()["data"],
        "data_env": os.environ.get("RAYSWEEP_DATA_DIR"),
        "model": [cfg.model.name, model_fingerprint(cfg.model.name), cfg.model.pooling],
        "frozen": get_objective(cfg.loss.objective).needs_frozen_targets(cfg),
        "drift": list(drift_texts or []),
    }
    return json.dumps(parts, sort_keys=True)


def prepared_data(cfg: RetrofitConfig, drift_texts: list[str] | None = None, device: str = "cpu") -> TrainingData:
    """``prepare_training_data(cfg, drift_texts)``, memoised in this process by :func:`data_key`."""
    key = data_key(cfg, drift_texts)
    if key in _PREPARED:
        _PREPARED.move_to_end(key)
        return _PREPARED[key]
    data = prepare_training_data(cfg, drift_texts, device=device)
    _PREPARED[key] = data
    while len(_PREPARED) > _KEEP:
        _PREPARED.popitem(last=False)
    return data


def train_locally(
    cfg: RetrofitConfig,
    steps: int | None = None,
    data: TrainingData | None = None,
    drift_texts: list[str] | None = None,
    *,
    device: str = "cpu",
) -> list[dict[str, Any]]:
    """Run ``cfg``'s training in this process (``train.worker.run_training`` with a ``LocalSession``);
    return the metrics of every evaluation, as a Ray run's ``Result.return_value``.

    ``preflight(cfg)`` runs first, so a bad config, data folder, model or sampler is the same one-line
    ``RaysweepError`` as from the CLIs. ``data`` defaults to ``prepare_training_data(cfg, drift_texts)``,
    memoised per process (repeated calls with the same data-relevant config reuse it); pass it for an
    objective that trains on more than GoEmotions (``mtl``: ``methods.mtl.mtl_training_data``).
    ``steps`` overrides ``train.max_steps`` and evaluates at the end only. A run that diverges ends its
    history with ``diverged = 1.0`` and a ``failure_reason``. No checkpoint is written; the process's
    torch thread count and CPU random state are restored afterwards.
    """
    if steps is not None:
        cfg = cfg.replace(train={"max_steps": steps, "eval_every": steps})
    preflight(cfg, type(data) if data is not None else TrainingData)
    if data is None:
        data = prepared_data(cfg, drift_texts, device)
    threads = torch.get_num_threads()
    try:
        with torch.random.fork_rng(devices=[]):
            return run_training(cfg, data, LocalSession(device))
    finally:
        torch.set_num_threads(threads)
