"""AdamW (no decay on biases and norms; fused where the build has it) + linear warmup/decay."""

from __future__ import annotations

import torch
from torch import nn
from transformers import get_linear_schedule_with_warmup

from raysweep.config import TrainConfig


def param_groups(model: nn.Module, cfg: TrainConfig) -> list[dict]:
    groups: dict[tuple[bool, bool], list[nn.Parameter]] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        no_decay = p.ndim < 2
        is_head = name.startswith("head.")
        groups.setdefault((is_head, no_decay), []).append(p)
    head_lr = cfg.head_lr or cfg.lr
    return [
        {"params": ps, "lr": head_lr if is_head else cfg.lr, "weight_decay": 0.0 if no_decay else cfg.weight_decay}
        for (is_head, no_decay), ps in groups.items()
    ]


def build_optimizer(model: nn.Module, cfg: TrainConfig, total_steps: int):
    groups = param_groups(model, cfg)
    try:
        optimizer = torch.optim.AdamW(groups, lr=cfg.lr, fused=True)
    except (RuntimeError, TypeError, ValueError):  # no fused kernel for this device / dtype
        optimizer = torch.optim.AdamW(groups, lr=cfg.lr)
    warmup = int(round(cfg.warmup_ratio * total_steps))
    scheduler = get_linear_schedule_with_warmup(optimizer, warmup, max(total_steps, 1))
    return optimizer, scheduler
