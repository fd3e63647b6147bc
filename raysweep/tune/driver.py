"""Tune trials. One search trial = one ``TorchTrainer`` run (Train V2: the trial function builds the
trainer and calls ``fit``; ``TuneReportCallback`` forwards rank 0's reports); one final trial = one
method x seed: train (or not, for ``plm``), export, and score with the evaluation suite.

Train runs are named from the Tune trial id, so a restored trial resumes its own Train checkpoint.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from raysweep import atomic
from raysweep.config import RetrofitConfig
from raysweep.evaluation.settings import EvaluationSettings
from raysweep.methods.method import RunContext
from raysweep.methods.registry import parse_method
from raysweep.methods.run_spec import RunSpec
from raysweep.train.run_clock import COUNTERS, LOOP_IMPORTS, LOOP_STARTUP, STEP_CPU, WARMUP
from raysweep.tune.space import DATA_KEYS, apply_params

WORST = {"dev_p_at_1": 0.0, "dev_ami": -1.0, "dev_map_at_r": 0.0, "dev_mrr": 0.0, "dev_delta_emb": 2.0}


def data_key(cfg: RetrofitConfig) -> str:
    """What the prepared training data depends on (trials with the same key share it)."""
    raw = cfg.to_dict()
    return json.dumps({k: raw[k.split(".")[0]][k.split(".")[1]] for k in DATA_KEYS}, sort_keys=True)


def search_run_name(trial_id: str) -> str:
    """The Train run of search trial ``trial_id``, under the study's storage."""
    return f"search-{trial_id}"


def search_trial(params: dict[str, Any], *, base: dict[str, Any], data: dict[str, Any], storage: str) -> None:
    from ray import tune
    from ray.tune.integration.ray_train import TuneReportCallback

    from raysweep.train.launch import build_trainer

    trial_id = tune.get_context().get_trial_id()
    cfg = apply_params(RetrofitConfig.from_dict(base), params)
    trainer = build_trainer(
        cfg, data[data_key(cfg)], search_run_name(trial_id), storage, callbacks=[TuneReportCallback()]
    )
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
    evaluation: EvaluationSettings,
    data_dir: str | None,
    study: Any = None,
) -> None:
    """Run one :class:`RunSpec` (``config["spec"]``): the method's ``run`` trains (or takes) the model,
    the evaluation suite scores it, and the figures are reported to Tune."""
    from ray import tune

    trial_id = tune.get_context().get_trial_id()
    spec = RunSpec.from_dict(config["spec"])
    chosen = parse_method(spec.method, study)
    cfg = apply_params(RetrofitConfig.from_dict(base), spec.params).replace(train={"seed": spec.seed})
    cfg = chosen.method.config(cfg, chosen.arg)
    out = Path(models_dir) / spec.folder
    context = RunContext(
        cfg=cfg,
        out=out,
        storage=storage,
        name=f"final-{trial_id}",
        data_dir=data_dir,
        arg=chosen.arg,
        shared_data=lambda c: data[data_key(c)],
        label=chosen.key,
        reuse=None if spec.reuse is None else search_run_name(spec.reuse),
    )
    started = time.perf_counter()
    chosen.method.run(context)
    trained = run_record(out, time.perf_counter() - started)
    from raysweep.evaluation.suite import evaluate_with  # torch and transformers: after the run, not before it

    arrays: dict[str, Any] = {}
    figures = evaluate_with(
        str(out),
        evaluation.for_seed(spec.seed),  # less fine-tuning for seeds past evaluation.finetune_seeds
        data_dir=data_dir,
        reference_model=cfg.model.name,
        draw_seed=study.seed,  # the study's draws, shared by every method and training seed
        seed=spec.seed,
        pooling=cfg.model.pooling,
        storage=storage,
        finetune_workers=cfg.train.num_workers,
        finetune_cpus_per_worker=cfg.train.cpus_per_worker,
        per_example=arrays,
    )
    figures["spec"] = spec.to_dict()
    atomic.save_arrays(out / "evaluation.npz", arrays)
    atomic.write_text(out / "evaluation.json", json.dumps(figures, indent=2))
    tune.report(
        {
            "method": spec.method,
            "seed": spec.seed,
            "config_id": spec.config_id,
            "model_dir": str(out),
            **trained,
            **flatten_evaluation(figures),
        }
    )


def run_record(model_dir: Path, run_s: float | None = None) -> dict[str, Any]:
    """What the run's own record says about its training: the dev figures of its last evaluation
    (what every choice among final models uses: never a test figure), its budget, samples trained
    (steps x global batch), and its time counters (``train.run_clock``), with ``time_teardown_s`` the
    rest of ``run_s`` (the method's whole run: training, then the export); {} for a model that was
    not trained (PLM). A model exported from a search trial (``reused_run``) has its dev figures and
    budget, and only the export as its time: its steps were counted in the search."""
    try:
        record = json.loads((model_dir / "raysweep.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    metrics = record.get("metrics") or {}
    out: dict[str, Any] = {
        k: float(v) for k, v in metrics.items() if k.startswith("dev_") and isinstance(v, (int, float))
    }
    step, batch = metrics.get("step"), (record.get("config") or {}).get("sampler", {}).get("batch_size")
    if isinstance(step, (int, float)) and isinstance(batch, int):
        out["train_samples"] = float(step * batch)
    if record.get("reused_run"):  # a search trial's model: its steps and time were the search's
        out["reused_run"] = str(record["reused_run"])
        if run_s is not None:
            out["time_teardown_s"] = run_s  # the export
        return out
    counted = {k: float(metrics[k]) for k in COUNTERS if isinstance(metrics.get(k), (int, float))}
    out.update(counted)
    # the loop's start-up, its model imports, its warm-up, its steps' CPU
    for key in (LOOP_STARTUP, LOOP_IMPORTS, *WARMUP, *STEP_CPU, "cpu_threads"):
        if isinstance(metrics.get(key), (int, float)):
            out[key] = float(metrics[key])
    if run_s is not None and counted:
        out["time_teardown_s"] = max(run_s - sum(counted.values()), 0.0)
    return out


def flatten_evaluation(figures: dict[str, Any]) -> dict[str, float]:
    """The evaluation JSON as flat ``name: float`` columns (emotion, drift, per-task protocol F1s), with
    ``{task}_probe_collapsed``, ``{task}_finetune_collapsed`` and ``{task}_fewshot_{k}_collapsed``: 1.0
    when that classifier (any draw, for few-shot) predicted one class only, else 0.0."""
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
                if "collapsed" in stats:
                    flat[f"{task}_fewshot_{shot}_collapsed"] = float(any(stats["collapsed"]))
        if "finetune" in entry:
            flat[f"{task}_finetune_f1"] = float(entry["finetune"]["macro_f1"])
        for protocol in ("probe", "finetune"):
            if "collapsed" in entry.get(protocol, {}):
                flat[f"{task}_{protocol}_collapsed"] = float(entry[protocol]["collapsed"])
    for k, v in figures.get("timing", {}).items():  # what the evaluation spent its time on (goodput)
        flat[f"eval_{k}"] = float(v)
    return flat
