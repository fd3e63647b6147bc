"""The checkpoint format of a training run: weights as safetensors, the rest as tensors-only state.

A checkpoint folder holds ``model.safetensors`` (encoder + head), ``train_state.pt`` (optimizer,
scheduler, step; loaded with ``weights_only=True``, never unpickled), ``config.json`` (the
``RetrofitConfig``) and ``metrics.json`` (the metrics reported with it). Training writes and resumes
from it (``train/worker.py``); the export and the fine-tuning protocol read it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from raysweep import atomic

WEIGHTS = "model.safetensors"
STATE = "train_state.pt"
CONFIG = "config.json"
METRICS = "metrics.json"


def save_checkpoint(
    folder: str | Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None,
    scheduler: Any,
    step: int,
    config: dict[str, Any],
    metrics: dict[str, float],
) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    weights = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    save_file(weights, str(folder / WEIGHTS), metadata={"step": str(step)})
    state = {"step": step}
    if optimizer is not None:
        state["optimizer"] = optimizer.state_dict()
    if scheduler is not None:
        state["scheduler"] = scheduler.state_dict()
    torch.save(state, folder / STATE)
    atomic.write_text(folder / CONFIG, json.dumps(config, indent=2))
    atomic.write_text(folder / METRICS, json.dumps(metrics, indent=2))
    return folder


def load_weights(folder: str | Path, model: nn.Module) -> None:
    state = load_file(str(Path(folder) / WEIGHTS))
    model.load_state_dict(state)


def load_train_state(folder: str | Path) -> dict[str, Any]:
    path = Path(folder) / STATE
    return torch.load(path, map_location="cpu", weights_only=True) if path.is_file() else {"step": 0}


def load_config(folder: str | Path) -> dict[str, Any]:
    return json.loads((Path(folder) / CONFIG).read_text())


def load_metrics(folder: str | Path) -> dict[str, float]:
    path = Path(folder) / METRICS
    return json.loads(path.read_text()) if path.is_file() else {}
