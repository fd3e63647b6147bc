"""The untouched model's dev figures: the reference a search is measured against.

PLM's dev emotion metric is the floor below which a trial counts as not having learned (the
Pareto-aware scheduler never promotes a trial below it on drift alone), and with the λ = 0 point's
drift it is the reference point of the search front's hypervolume. It is computed with the same
objective code, dev split and drift texts as every trial's own evaluation, so the figures compare.
"""

from __future__ import annotations

import torch

from raysweep.config import RetrofitConfig
from raysweep.models.retrofit import RetrofitModel
from raysweep.train.objectives import StepContext, build_objective
from raysweep.train.training_data import TrainingData


def reference_dev_metrics(cfg: RetrofitConfig, data: TrainingData, device: str | None = None) -> dict[str, float]:
    """``objective.evaluate`` of the untouched encoder (one process, fp32): the dev figures of PLM."""
    chosen = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    objective = build_objective(cfg, data)
    torch.manual_seed(cfg.train.seed)
    model = RetrofitModel.from_config(cfg.model, head=objective.build_head).to(chosen).eval()
    ctx = StepContext(device=chosen, precision="fp32", rank=0, world=1, seed=cfg.train.seed)
    with torch.inference_mode():
        return {k: float(v) for k, v in objective.evaluate(model, ctx).items()}
