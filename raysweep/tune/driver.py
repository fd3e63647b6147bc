"""Tune trials. One search trial = one ``TorchTrainer`` run (Train V2: the trial function builds the
trainer and calls ``fit``; ``TuneReportCallback`` forwards rank 0's reports); one final trial = one
method x seed: train (or not, for ``plm``), export, and score with the evaluation suite.

Train runs are named from the Tune trial id, so a restored trial resumes its own Train checkpoint.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from raysweep import atomic
from raysweep.config import RetrofitConfig
from raysweep.errors import RaysweepError
from raysweep.tune.space import DATA_KEYS, apply_params

WORST = {"dev_p_at_1": 0.0, "dev_ami": -1.0, "dev_map_at_r": 0.0, "dev_mrr": 0.0, "dev_delta_emb": 2.0}


def data_key(cfg: RetrofitConfig) -> str:
    """What the prepared training data depends on (trials with the same key share it)."""
    raw = cfg.to_dict()
    return json.dumps({k: raw[k.split(".")[0]][k.split(".")[1]] for k in DATA_KEYS}, sort_keys=True)


def search_trial(params: dict[str, Any], *, base: dict[str, Any], data: dict[str, Any], storage: str) -> None:
    from ray import tune
    from ray.tune.integration.ray_train import TuneReportCallback

    from raysweep.train.launch import build_trainer

    trial_id = tune.get_context().get_trial_id()
    cfg = apply_params(RetrofitConfig.from_dict(base), params)
    trainer = build_trainer(cfg, data[data_key(cfg)], f"search-{trial_id}", storage, callbacks=[TuneReportCallback()])
    result = trainer.fit()
    if result.error is not None:
        raise result.error
    last = result.metrics or {}
    if last.get("diverged"):
        # record the divergence as the trial's final result, with worst-case objective values, so the
        # searcher learns from it and the study goes on; the leaderboard lists it as failed
        tune.report({**WORST, **{k: v for k, v in last.items() if not k.startswith("dev_")}})


def final_trial(
    config: dict[str, Any],
    *,
    base: dict[str, Any],
    data: dict[str, Any],
    storage: str,
    models_dir: str,
    evaluation: dict[str, Any],
    data_dir: str | None,
    mtl_task: str,
) -> None:
    """Train (emo, scl, tlearn, mtl) or take (plm) one model for ``spec`` and evaluate it."""
    from ray import tune

    from raysweep.baselines.mtl import mtl
    from raysweep.baselines.plm import plm
    from raysweep.baselines.tlearn import tlearn
    from raysweep.data.tasks import load_task
    from raysweep.evaluation.suite import evaluate_model
    from raysweep.export import export_checkpoint
    from raysweep.train.launch import fit

    trial_id = tune.get_context().get_trial_id()
    spec = config["spec"]
    method, seed = spec["method"], int(spec["seed"])
    cfg = apply_params(RetrofitConfig.from_dict(base), spec.get("params", {})).replace(train={"seed": seed})
    out = Path(models_dir) / f"{method}-{spec['config_id']}-seed{seed}"
    name = f"final-{trial_id}"
    if method in ("emo", "scl"):
        if method == "scl":
            cfg = cfg.replace(loss={"lam": 0.0})
        result = fit(cfg, data[data_key(cfg)], name, storage)
        with result.checkpoint.as_directory() as folder:
            export_checkpoint(folder, out, extra={"method": method, "run": name})
    elif method == "tlearn":
        tlearn(cfg.replace(sampler={"kind": "stratified"}), out, storage, name=name)
    elif method == "mtl":
        task = load_task(mtl_task, data_dir)
        mtl(cfg.replace(sampler={"kind": "stratified"}), task, out, storage, name=name)
    elif method == "plm":
        plm(cfg.model.name, out, pooling=cfg.model.pooling)
    else:
        raise RaysweepError(f"unknown method {method!r}")
    figures = evaluate_model(
        str(out),
        tasks=evaluation["tasks"],
        protocols=evaluation["protocols"],
        data_dir=data_dir,
        reference_model=cfg.model.name,
        seed=seed,
        limit=evaluation["limit"],
        pooling=cfg.model.pooling,
        max_length=evaluation["max_length"],
        drift_n=evaluation["drift_n"],
        storage=storage,
        finetune_options={
            "epochs": evaluation["finetune_epochs"],
            "head_lr": evaluation["finetune_head_lr"],
            "train_limit": evaluation.get("finetune_train_limit"),
            "num_workers": cfg.train.num_workers,
            "cpus_per_worker": cfg.train.cpus_per_worker,
        },
        finetune_tasks=evaluation.get("finetune_tasks"),
    )
    figures["spec"] = spec
    atomic.write_text(out / "evaluation.json", json.dumps(figures, indent=2))
    tune.report(
        {
            "method": method,
            "seed": seed,
            "config_id": spec["config_id"],
            "model_dir": str(out),
            **flatten_evaluation(figures),
        }
    )


def flatten_evaluation(figures: dict[str, Any]) -> dict[str, float]:
    """The evaluation JSON as flat ``name: float`` columns (emotion, drift, per-task protocol F1s)."""
    flat: dict[str, float] = {}
    for k in ("ami", "ari", "fms", "mrr", "p_at_1", "map_at_r"):
        if k in figures.get("emotion", {}):
            flat[k] = float(figures["emotion"][k])
    for k in ("delta_emb", "knn_overlap", "topology_drift"):
        if k in figures.get("drift", {}):
            flat[k] = float(figures["drift"][k])
    for task, entry in figures.get("downstream", {}).items():
        if "probe" in entry:
            flat[f"{task}_probe_f1"] = float(entry["probe"]["macro_f1"])
            if "pos_f1" in entry["probe"]:
                flat[f"{task}_probe_pos_f1"] = float(entry["probe"]["pos_f1"])
        for shot, stats in entry.get("fewshot", {}).items():
            if isinstance(stats, dict) and "macro_f1_mean" in stats:
                flat[f"{task}_fewshot_{shot}_f1"] = float(stats["macro_f1_mean"])
        if "finetune" in entry:
            flat[f"{task}_finetune_f1"] = float(entry["finetune"]["macro_f1"])
    return flat
