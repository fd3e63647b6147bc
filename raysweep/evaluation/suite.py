"""The evaluation suite: every chosen figure for one encoder, as Ray tasks, in one JSON-able dict.

``evaluate_model(model, tasks, protocols, data_dir)``:

1. loads and validates every text set first (GoEmotions test for ``emotion``, the Δemb sample for
   ``drift``, each downstream task), so a bad task file fails before any model is loaded;
2. embeds each text set once per model, one Ray task per (model, text set) (the reference model
   embeds only the Δemb sample, and not at all when it is the model itself);
3. runs each metric job (emotion, drift, one probe and one few-shot job per task) as a Ray task on
   those embeddings (passed by object reference, never copied through the driver);
4. fine-tunes per task as Ray Train workers (``downstream.finetune``) when ``finetune`` is asked.

Tasks: ``emotion``, ``drift`` and downstream task names (``sst2``, ``isarcasm``, ``irony``,
``csv:PATH:TEXT:LABEL[:SPLIT]``); protocols (downstream tasks only): ``probe``, ``fewshot``,
``finetune``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from raysweep import __version__, atomic
from raysweep.data.goemotions import LabeledTexts, load_goemotions, resolve_data_dir
from raysweep.data.tasks import Task, check_task_names, drift_texts, load_task
from raysweep.errors import RaysweepError
from raysweep.evaluation.settings import EvaluationSettings
from raysweep.models.embed import embed_texts
from raysweep.models.encoder import check_model_exists

EMOTION = "emotion"
DRIFT = "drift"
PROTOCOLS = ("probe", "fewshot", "finetune")
DEFAULT_TASKS = (EMOTION, DRIFT, "sst2", "isarcasm", "irony")
DEFAULT_PROTOCOLS = ("probe", "fewshot")
RECORD = "raysweep.json"


def model_record(model: str) -> dict[str, Any]:
    """``raysweep.json`` of an exported model folder (config, metrics, baseline), or ``{}``."""
    from raysweep.models.encoder import resolve_model_name

    path = Path(resolve_model_name(model)) / RECORD
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise RaysweepError(f"{path}: unreadable ({type(err).__name__}); re-export the model") from None


def versions() -> dict[str, str]:
    import ray
    import sklearn
    import torch
    import transformers
    from pytorch_metric_learning import __version__ as pml

    return {
        "raysweep": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "ray": ray.__version__,
        "scikit-learn": sklearn.__version__,
        "pytorch-metric-learning": pml,
        "numpy": np.__version__,
    }


# ---------------------------------------------------------------- the Ray tasks


def _timed(fn, *args, **kwargs) -> dict[str, Any]:
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return {**out, "wall_s": time.perf_counter() - t0}


def run_job(kind: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """One metric job on embeddings: ``emotion``, ``drift``, ``probe`` or ``fewshot``."""
    from raysweep.evaluation import downstream
    from raysweep.evaluation.emotion import emotion_metrics
    from raysweep.metrics.drift import drift_metrics

    jobs = {
        "emotion": emotion_metrics,
        "drift": drift_metrics,
        "probe": downstream.linear_probe,
        "fewshot": downstream.few_shot,
    }
    return _timed(jobs[kind], *args, **kwargs)


# ---------------------------------------------------------------- the suite


def parse_list(text: str | list[str] | tuple[str, ...]) -> list[str]:
    items = text.split(",") if isinstance(text, str) else list(text)
    return [i.strip() for i in items if i.strip()]


def load_text_sets(
    tasks: list[str], data_dir: str | None, seed: int, limit: int | None, drift_n: int
) -> tuple[LabeledTexts | None, list[str] | None, dict[str, Task]]:
    """Every text set the chosen tasks need, validated (raises before any model is loaded)."""
    emotion = drift = None
    downstream: dict[str, Task] = {}
    for name in tasks:
        if name == EMOTION:
            emotion = load_goemotions(data_dir).test.sample(limit, seed=seed)
        elif name == DRIFT:
            drift = drift_texts(data_dir, n=min(drift_n, limit or drift_n), seed=seed)
        else:
            task = load_task(name, data_dir, seed)
            downstream[task.name] = dataclasses.replace(
                task, train=task.train.sample(limit, seed=seed), test=task.test.sample(limit, seed=seed)
            )
    return emotion, drift, downstream


def evaluate_model(
    model: str,
    tasks: str | list[str] | tuple[str, ...] = DEFAULT_TASKS,
    protocols: str | list[str] | tuple[str, ...] = DEFAULT_PROTOCOLS,
    data_dir: str | os.PathLike[str] | None = None,
    reference_model: str | None = None,
    seed: int = 0,
    limit: int | None = None,
    pooling: str | None = None,
    max_length: int = 128,
    drift_n: int = 1000,
    finetune_options: dict[str, Any] | None = None,
    finetune_tasks: str | list[str] | tuple[str, ...] | None = None,
    storage: str | os.PathLike[str] | None = None,
    address: str | None = None,
) -> dict[str, Any]:
    """All chosen figures for ``model`` (a folder, hub name or alias) as one JSON-able dict.

    ``reference_model`` (for Δemb) defaults to the base model recorded in the folder's
    ``raysweep.json``, else the model itself; ``pooling`` to the recorded pooling, else ``cls``.
    ``limit`` caps every split (quick runs); ``finetune_options`` go to ``downstream.finetune``, which
    runs on the downstream tasks named in ``finetune_tasks`` (default: all of them).
    """
    t0 = time.perf_counter()
    task_list, protocol_list = parse_list(tasks), parse_list(protocols)
    unknown = [p for p in protocol_list if p not in PROTOCOLS]
    if unknown:
        raise RaysweepError(f"unknown protocol {unknown[0]!r}; use one of {', '.join(PROTOCOLS)}")
    if not task_list:
        raise RaysweepError(f"no tasks given; use some of {', '.join(DEFAULT_TASKS)} or csv:PATH:TEXT:LABEL[:SPLIT]")
    specs = [t for t in task_list if t not in (EMOTION, DRIFT)]
    check_task_names(specs)
    tuned = specs if finetune_tasks is None else parse_list(finetune_tasks)
    stray = [t for t in tuned if t not in specs]
    if stray:
        raise RaysweepError(f"fine-tuning task {stray[0]!r} is not among the downstream tasks; add it to tasks")
    root = resolve_data_dir(None if data_dir is None else str(data_dir))
    emotion, drift, downstream = load_text_sets(task_list, None if root is None else str(root), seed, limit, drift_n)
    tuned_names = {name for spec, name in zip(specs, downstream, strict=False) if spec in tuned}

    record = model_record(model)
    base = record.get("config", {}).get("model", {})
    pooling = pooling or base.get("pooling", "cls")
    reference = reference_model or base.get("name") or model
    resolved, resolved_ref = check_model_exists(model), check_model_exists(reference)

    import ray

    from raysweep.train.cluster import connect

    connect(address)
    # "DEFAULT": not captured by the placement group of a Tune trial that calls this (its 0.01 CPU)
    embed = ray.remote(num_cpus=1, scheduling_strategy="DEFAULT")(embed_texts)
    job = ray.remote(num_cpus=1, scheduling_strategy="DEFAULT")(run_job)
    emb: dict[str, Any] = {}

    def embedded(key: str, texts: list[str]):
        if key not in emb:
            emb[key] = embed.remote(resolved, pooling, texts, max_length)
        return emb[key]

    pending: dict[tuple[str, ...], Any] = {}
    if emotion is not None:
        pending[(EMOTION,)] = job.remote(EMOTION, embedded("goemotions/test", emotion.texts), emotion.labels, seed)
    if drift is not None:
        after = embedded("drift", drift)
        before = after if resolved_ref == resolved else embed.remote(resolved_ref, pooling, drift, max_length)
        pending[(DRIFT,)] = job.remote(DRIFT, before, after)
    for name, task in downstream.items():
        args = (task.train.labels, embedded(f"{name}/test", task.test.texts), task.test.labels, task.num_classes)
        for protocol in ("probe", "fewshot"):
            if protocol in protocol_list:
                kwargs = {"seed": seed}
                pending[(name, protocol)] = job.remote(
                    protocol, embedded(f"{name}/train", task.train.texts), *args, **kwargs
                )
    results = dict(zip(pending, ray.get(list(pending.values())), strict=True))

    out: dict[str, Any] = {
        "model": model,
        "model_path": resolved,
        "reference_model": reference,
        "pooling": pooling,
        "baseline": record.get("baseline"),
        "data_dir": None if root is None else str(root),
        "seed": seed,
        "limit": limit,
        "max_length": max_length,
        "tasks": task_list,
        "protocols": protocol_list,
        "versions": versions(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if emotion is not None:
        out[EMOTION] = {**results[(EMOTION,)], "n": len(emotion)}
    if drift is not None:
        out[DRIFT] = {**results[(DRIFT,)], "n": len(drift)}
    out["downstream"] = {}
    for name, task in downstream.items():
        entry: dict[str, Any] = {"n_train": len(task.train), "n_test": len(task.test), "dropped": task.dropped}
        entry.update({p: results[(name, p)] for p in ("probe", "fewshot") if (name, p) in results})
        if "finetune" in protocol_list and name in tuned_names:
            from raysweep.evaluation.downstream import finetune

            storage_path = Path(storage) if storage else Path(tempfile.gettempdir()) / "raysweep-finetune"
            run = f"finetune-{name}-{Path(resolved).name}-{time.strftime('%Y%m%d-%H%M%S')}"
            entry["finetune"] = _timed(
                finetune,
                resolved,
                task,
                storage_path,
                run,
                pooling=pooling,
                max_length=max_length,
                seed=seed,
                **(finetune_options or {}),
            )
        out["downstream"][name] = entry
    out["wall_s"] = time.perf_counter() - t0
    return out


def evaluate_with(
    model: str,
    settings: EvaluationSettings,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    reference_model: str | None = None,
    seed: int = 0,
    pooling: str | None = None,
    storage: str | os.PathLike[str] | None = None,
    address: str | None = None,
    finetune_workers: int = 1,
    finetune_cpus_per_worker: float = 1.0,
) -> dict[str, Any]:
    """:func:`evaluate_model` with a study's (or the CLI's) :class:`EvaluationSettings` passed whole:
    the one place the settings' fields are mapped onto the suite and the fine-tuning protocol."""
    settings.validate()
    finetune = {
        "epochs": settings.finetune_epochs,
        "max_steps": settings.finetune_max_steps,
        "lr": settings.finetune_lr,
        "head_lr": settings.finetune_head_lr,
        "train_limit": settings.finetune_train_limit,
        "num_workers": finetune_workers,
        "cpus_per_worker": finetune_cpus_per_worker,
    }
    return evaluate_model(
        model,
        settings.tasks,
        settings.protocols,
        data_dir=data_dir,
        reference_model=reference_model,
        seed=seed,
        limit=settings.limit,
        pooling=pooling,
        max_length=settings.max_length,
        drift_n=settings.drift_n,
        finetune_options=finetune,
        finetune_tasks=settings.finetune_tasks,
        storage=storage,
        address=address,
    )


def check_results_file(path: Path, overwrite: bool = False) -> None:
    """Refuse (one line) an ``--out`` that is a folder, or a file that is not an earlier evaluation
    JSON of raysweep's (unless ``overwrite``): the figures replace it whole."""
    if path.is_dir():
        raise RaysweepError(f"--out {path} is a folder; give a file name for the figures, e.g. {path / 'eval.json'}")
    if not path.exists() or overwrite:
        return
    try:
        previous = json.loads(path.read_text(encoding="utf-8"))
        ours = isinstance(previous, dict) and "versions" in previous and "model" in previous
    except (OSError, ValueError):
        ours = False
    if not ours:
        raise RaysweepError(
            f"--out {path} is an existing file that raysweep did not write; give a new file name, "
            "or pass --overwrite to replace it"
        )


def write_results(path: str | os.PathLike[str], results: dict[str, Any]) -> Path:
    """The results dict as indented JSON, written atomically."""
    atomic.write_text(path, json.dumps(results, indent=2, sort_keys=False) + "\n")
    return Path(path)
