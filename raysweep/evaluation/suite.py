"""The evaluation suite: every chosen figure for one encoder, as Ray tasks, in one JSON-able dict.

``evaluate_model(model, tasks, protocols, data_dir)``:

1. loads and validates every text set first (GoEmotions test for ``emotion``, the Δemb sample for
   ``drift``, each downstream task), so a bad task file fails before any model is loaded;
2. embeds each text set once per model, one Ray task per (model, text set), in length-sorted
   batches trimmed to their longest row (``models.embed``), in the evaluation's ``precision``
   (``auto``: bf16 on a CUDA device that supports it and on a CPU where it is measured faster, as
   training's ``auto``, else fp32; the figures record the precision used). The reference model embeds
   only the Δemb sample, and not at all when it is the model itself; its embeddings are computed once
   and cached on disk (``evaluation.reference_cache``), so the later methods of a study read them back,
   as do all the text sets of the reference scored as itself (PLM); the figures'
   ``reference_embeddings`` says, per text set, ``cached`` or ``computed``;
3. runs each metric job (emotion, drift, one probe and one few-shot job per task) as a Ray task on
   those embeddings (passed by object reference, never copied through the driver); all of them are
   submitted before anything is waited on, so they run side by side as CPUs allow;
4. fine-tunes per task as Ray Train workers (``downstream.finetune``) when ``finetune`` is asked, while
   the metric jobs run (it waits on none of them), stopping once its dev macro-F1 has not improved for
   ``patience`` evaluations.

Two seeds, two jobs. ``draw_seed`` fixes every row the evaluation draws: the subsample of each split
(``limit``), the Δemb texts, the few-shot draws, the fine-tuning's train/dev split and the k-means
initialisations; a study passes its own seed, so every method and every training seed (PLM included)
is scored on the same rows, and a method's spread over seeds is model variance only. ``seed`` is the
fine-tuning's training randomness only. The figures record ``draw_seed`` and, under ``draws``, the
SHA-256 of every text set in order (``data.tasks.texts_fingerprint``), so two evaluations can be checked
to have seen the same rows.

Given ``per_example`` (a dict), the suite fills it with the per-example outputs behind the figures
(the layout of ``evaluation.npz``, see ``results/README.md``): ``emotion/labels``, ``emotion/clusters``,
``emotion/queries``, ``emotion/rr``, ``emotion/p_at_1``, ``emotion/ap_at_r``, ``drift/distance``,
``drift/overlap``, and per task ``{task}/test_labels``, ``{task}/probe/pred``,
``{task}/fewshot/k{K}/pred`` (draws x test rows) and ``{task}/finetune/pred``.

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
from raysweep.data.tasks import Task, check_task_names, drift_texts, load_task, texts_fingerprint
from raysweep.errors import RaysweepError
from raysweep.evaluation import reference_cache
from raysweep.evaluation.settings import EvaluationSettings
from raysweep.models.embed import embed_texts, embedding_precision
from raysweep.models.encoder import check_model_exists
from raysweep.train.run_clock import COUNTERS

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


Outputs = tuple[dict[str, Any], dict[str, np.ndarray]]
"""A job's figures (JSON-able, with its ``wall_s``) and its per-example arrays."""


def run_job(kind: str, *args: Any, **kwargs: Any) -> Outputs:
    """One metric job on embeddings: ``emotion``, ``drift``, ``probe`` or ``fewshot``."""
    from raysweep.evaluation import downstream
    from raysweep.evaluation.emotion import emotion_outputs
    from raysweep.metrics.drift import per_text_drift, summarise_drift

    def drift(before: np.ndarray, after: np.ndarray) -> Outputs:
        per_text = per_text_drift(before, after)
        return summarise_drift(per_text), per_text

    jobs = {
        "emotion": emotion_outputs,
        "drift": drift,
        "probe": downstream.linear_probe_outputs,
        "fewshot": downstream.few_shot_outputs,
    }
    t0 = time.perf_counter()
    figures, arrays = jobs[kind](*args, **kwargs)
    return {**figures, "wall_s": time.perf_counter() - t0}, arrays


def timed_embed(*args: Any) -> tuple[np.ndarray, float]:
    """``embed_texts(*args)`` and the seconds it took (a study's goodput counts embedding time)."""
    t0 = time.perf_counter()
    out = embed_texts(*args)
    return out, time.perf_counter() - t0


def timing_of(
    results: dict[Any, dict[str, Any]], embed_seconds: list[float], tuned: dict[str, Any]
) -> dict[str, float]:
    """What an evaluation spent its time on: its embedding tasks, its metric jobs (each on one core), and
    its fine-tuning runs' samples and time counters (``train.run_clock``), summed over tasks."""
    out = {"embedding_s": float(sum(embed_seconds)), "metrics_s": float(sum(r["wall_s"] for r in results.values()))}
    for key in ("train_samples", *COUNTERS):
        out[f"finetune_{key}"] = float(sum(t.get("timing", {}).get(key, 0.0) for t in tuned.values()))
    out["finetune_wall_s"] = float(sum(t.get("wall_s", 0.0) for t in tuned.values()))
    return out


# ---------------------------------------------------------------- the suite


def parse_list(text: str | list[str] | tuple[str, ...]) -> list[str]:
    items = text.split(",") if isinstance(text, str) else list(text)
    return [i.strip() for i in items if i.strip()]


def evaluation_drift_texts(data_dir: str | None, draw_seed: int, limit: int | None, drift_n: int) -> list[str]:
    """The Δemb texts an evaluation drawn with ``draw_seed`` scores (``drift_n`` of them, at most ``limit``)."""
    return drift_texts(data_dir, n=min(drift_n, limit or drift_n), seed=draw_seed)


def precompute_reference(
    reference_model: str,
    settings: EvaluationSettings,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    draw_seed: int = 0,
    pooling: str = "cls",
) -> str | None:
    """Embed a study's Δemb texts with its reference model into the cache now (in this process), before
    its final models are scored, so that concurrent evaluations all read them instead of each computing
    them once: ``"computed"``, ``"cached"`` (already there) or None (the settings score no drift)."""
    import torch

    settings.validate()
    if DRIFT not in settings.tasks:
        return None
    root = resolve_data_dir(None if data_dir is None else str(data_dir))
    texts = evaluation_drift_texts(None if root is None else str(root), draw_seed, settings.limit, settings.drift_n)
    resolved = check_model_exists(reference_model)
    precision = embedding_precision(settings.precision, "cuda" if torch.cuda.is_available() else "cpu")
    key = reference_cache.reference_key(resolved, pooling, texts, settings.max_length, precision)
    if reference_cache.load(key, len(texts)) is not None:
        return "cached"
    reference_cache.store(key, embed_texts(resolved, pooling, texts, settings.max_length, precision))
    return "computed"


def load_text_sets(
    tasks: list[str], data_dir: str | None, draw_seed: int, limit: int | None, drift_n: int
) -> tuple[LabeledTexts | None, list[str] | None, dict[str, Task]]:
    """Every text set the chosen tasks need, drawn with ``draw_seed`` and validated (raises before any
    model is loaded): the GoEmotions test split, the Δemb texts (test splits), each downstream task,
    every split capped at ``limit`` rows."""
    emotion = drift = None
    downstream: dict[str, Task] = {}
    for name in tasks:
        if name == EMOTION:
            emotion = load_goemotions(data_dir).test.sample(limit, seed=draw_seed)
        elif name == DRIFT:
            drift = evaluation_drift_texts(data_dir, draw_seed, limit, drift_n)
        else:
            task = load_task(name, data_dir, draw_seed)
            downstream[task.name] = dataclasses.replace(
                task,
                train=task.train.sample(limit, seed=draw_seed),
                test=task.test.sample(limit, seed=draw_seed),
                dev=None if task.dev is None else task.dev.sample(limit, seed=draw_seed),
            )
    return emotion, drift, downstream


def evaluate_model(
    model: str,
    tasks: str | list[str] | tuple[str, ...] = DEFAULT_TASKS,
    protocols: str | list[str] | tuple[str, ...] = DEFAULT_PROTOCOLS,
    data_dir: str | os.PathLike[str] | None = None,
    reference_model: str | None = None,
    draw_seed: int = 0,
    seed: int = 0,
    limit: int | None = None,
    pooling: str | None = None,
    max_length: int = 128,
    drift_n: int = 1000,
    finetune_options: dict[str, Any] | None = None,
    finetune_tasks: str | list[str] | tuple[str, ...] | None = None,
    storage: str | os.PathLike[str] | None = None,
    address: str | None = None,
    per_example: dict[str, np.ndarray] | None = None,
    precision: str = "auto",
    cache_reference: bool = True,
    job_cpus: float = 1.0,
) -> dict[str, Any]:
    """All chosen figures for ``model`` (a folder, hub name or alias) as one JSON-able dict.

    ``draw_seed`` fixes every row drawn (see the module docstring), ``seed`` the fine-tuning's training
    only. ``reference_model`` (for Δemb) defaults to the base model recorded in the folder's
    ``raysweep.json``, else the model itself; ``pooling`` to the recorded pooling, else ``cls``.
    ``limit`` caps every split (quick runs); ``finetune_options`` go to ``downstream.finetune``, which
    runs on the downstream tasks named in ``finetune_tasks`` (default: all of them). ``per_example``, when
    given, is filled with the per-example outputs (``evaluation.npz``'s keys). ``precision`` (``auto``,
    ``fp32``, ``bf16``) is the embeddings' (``models.embed.embedding_precision``); ``cache_reference``
    False recomputes the reference model's embeddings instead of reading (and writing) the cache.
    ``job_cpus`` is what each embedding and metric job asks of Ray: a study's final run gives its Train
    workers' share (``train.cpus_per_worker``), so that one run's evaluation fits beside another run's
    training on a node that runs two at once (1 CPU would not: two 0.99-CPU runs leave 0.99 free).
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
    text_sets = load_text_sets(task_list, None if root is None else str(root), draw_seed, limit, drift_n)
    emotion, drift, downstream = text_sets
    tuned_names = {name for spec, name in zip(specs, downstream, strict=False) if spec in tuned}

    record = model_record(model)
    base = record.get("config", {}).get("model", {})
    pooling = pooling or base.get("pooling", "cls")
    reference = reference_model or base.get("name") or model
    resolved, resolved_ref = check_model_exists(model), check_model_exists(reference)

    import ray
    import torch
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    from raysweep.train.cluster import connect

    connect(address)
    precision = embedding_precision(precision, "cuda" if torch.cuda.is_available() else "cpu")
    # "DEFAULT": not captured by the placement group of a Tune trial that calls this (its 0.01 CPU); a model
    # folder is on this node's disk, which another node of a cluster does not see: embed on this node
    here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
    local = any(Path(m).is_dir() for m in (resolved, resolved_ref))
    strategy = here if local else "DEFAULT"
    embed_task = ray.remote(num_cpus=job_cpus, num_returns=2, scheduling_strategy=strategy)(timed_embed)
    embed_seconds: list[Any] = []

    def embed_remote(path: str, texts: list[str]):
        """The embeddings' ref (its seconds kept aside for the evaluation's timing)."""
        ref, seconds = embed_task.remote(path, pooling, texts, max_length, precision)
        embed_seconds.append(seconds)
        return ref

    job = ray.remote(num_cpus=job_cpus, scheduling_strategy="DEFAULT", num_returns=2)(run_job)
    is_reference = resolved_ref == resolved
    emb: dict[str, Any] = {}
    reference_sets: dict[str, str] = {}
    uncached: list[tuple[str, Any]] = []

    def reference_embedded(key: str, texts: list[str]):
        """The reference model's embeddings of ``texts``: from the cache, else a Ray task (cached below)."""
        if not cache_reference:
            return embed_remote(resolved_ref, texts)
        cache_key = reference_cache.reference_key(resolved_ref, pooling, texts, max_length, precision)
        cached = reference_cache.load(cache_key, len(texts))
        reference_sets[key] = "computed" if cached is None else "cached"
        if cached is not None:
            return ray.put(cached)
        ref = embed_remote(resolved_ref, texts)
        uncached.append((cache_key, ref))
        return ref

    def embedded(key: str, texts: list[str]):
        if key not in emb:
            emb[key] = reference_embedded(key, texts) if is_reference else embed_remote(resolved, texts)
        return emb[key]

    # every metric job is submitted before anything is waited on: they run side by side, and the
    # fine-tuning below (in this process) overlaps them
    pending: dict[tuple[str, ...], Any] = {}
    if emotion is not None:
        test = embedded("goemotions/test", emotion.texts)
        pending[(EMOTION,)] = job.remote(EMOTION, test, emotion.labels, draw_seed)
    if drift is not None:
        after = embedded("drift", drift)
        before = after if is_reference else reference_embedded("drift", drift)
        pending[(DRIFT,)] = job.remote(DRIFT, before, after)
    for name, task in downstream.items():
        args = (task.train.labels, embedded(f"{name}/test", task.test.texts), task.test.labels, task.num_classes)
        for protocol in ("probe", "fewshot"):
            if protocol in protocol_list:
                train = embedded(f"{name}/train", task.train.texts)
                pending[(name, protocol)] = job.remote(protocol, train, *args, draw_seed=draw_seed)

    tuned_figures: dict[str, dict[str, Any]] = {}
    arrays: dict[str, np.ndarray] = {}
    if "finetune" in protocol_list:
        from raysweep.evaluation.downstream import finetune_outputs

        storage_path = Path(storage) if storage else Path(tempfile.gettempdir()) / "raysweep-finetune"
        for name, task in downstream.items():
            if name not in tuned_names:
                continue
            run = f"finetune-{name}-{Path(resolved).name}-{time.strftime('%Y%m%d-%H%M%S')}"
            started = time.perf_counter()
            figures, tuned_arrays = finetune_outputs(
                resolved,
                task,
                storage_path,
                run,
                pooling=pooling,
                max_length=max_length,
                draw_seed=draw_seed,
                seed=seed,
                precision=precision,
                **(finetune_options or {}),
            )
            tuned_figures[name] = {**figures, "wall_s": time.perf_counter() - started}
            arrays[f"{name}/finetune/pred"] = tuned_arrays["pred"]

    figures_refs = [refs[0] for refs in pending.values()]
    results = dict(zip(pending, ray.get(figures_refs), strict=True))
    if per_example is not None:
        outputs = dict(zip(pending, ray.get([refs[1] for refs in pending.values()]), strict=True))
        arrays.update(_per_example_arrays(outputs, emotion, downstream))
    for cache_key, ref in uncached:  # computed by now (their metric jobs are done): a fetch, then a file
        reference_cache.store(cache_key, ray.get(ref))

    out: dict[str, Any] = {
        "model": model,
        "model_path": resolved,
        "reference_model": reference,
        "pooling": pooling,
        "precision": precision,
        "reference_embeddings": reference_sets,
        "baseline": record.get("baseline"),
        "data_dir": None if root is None else str(root),
        "draw_seed": draw_seed,
        "seed": seed,
        "limit": limit,
        "max_length": max_length,
        "tasks": task_list,
        "protocols": protocol_list,
        "draws": drawn_fingerprints(emotion, drift, downstream, protocol_list, draw_seed),
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
        if name in tuned_figures:
            figures = tuned_figures[name]
            for split, fingerprint in figures.pop("texts").items():
                out["draws"][f"{name}/finetune/{split}"] = fingerprint
            entry["finetune"] = figures
        out["downstream"][name] = entry
    if per_example is not None:
        per_example.update(arrays)
    out["timing"] = timing_of(results, ray.get(embed_seconds), tuned_figures)
    out["wall_s"] = time.perf_counter() - t0
    return out


def drawn_fingerprints(
    emotion: LabeledTexts | None,
    drift: list[str] | None,
    downstream: dict[str, Task],
    protocols: list[str],
    draw_seed: int,
) -> dict[str, str]:
    """The SHA-256 of every text set an evaluation scores, in order: ``goemotions/test``, ``drift``,
    ``{task}/train``, ``{task}/test`` and ``{task}/fewshot`` (the texts of every draw, k by k); the
    fine-tuning adds ``{task}/finetune/train`` and ``{task}/finetune/dev``."""
    from raysweep.evaluation.downstream import few_shot_draws

    prints: dict[str, str] = {}
    if emotion is not None:
        prints["goemotions/test"] = texts_fingerprint(emotion.texts)
    if drift is not None:
        prints["drift"] = texts_fingerprint(drift)
    for name, task in downstream.items():
        prints[f"{name}/train"] = texts_fingerprint(task.train.texts)
        prints[f"{name}/test"] = texts_fingerprint(task.test.texts)
        if "fewshot" in protocols:
            draws = few_shot_draws(task.train.labels, draw_seed=draw_seed)
            prints[f"{name}/fewshot"] = texts_fingerprint(
                [task.train.texts[i] for picks in draws.values() for rows in picks for i in rows]
            )
    return prints


def _per_example_arrays(
    outputs: dict[tuple[str, ...], dict[str, np.ndarray]], emotion: LabeledTexts | None, downstream: dict[str, Task]
) -> dict[str, np.ndarray]:
    """The metric jobs' per-example outputs under their ``evaluation.npz`` keys."""
    arrays: dict[str, np.ndarray] = {}
    if emotion is not None and (EMOTION,) in outputs:
        arrays[f"{EMOTION}/labels"] = np.asarray(emotion.labels, dtype=np.int64)
        arrays.update({f"{EMOTION}/{k}": v for k, v in outputs[(EMOTION,)].items()})
    if (DRIFT,) in outputs:
        arrays.update({f"{DRIFT}/{k}": v for k, v in outputs[(DRIFT,)].items()})
    for name, task in downstream.items():
        arrays[f"{name}/test_labels"] = np.asarray(task.test.labels, dtype=np.int64)
        for protocol in ("probe", "fewshot"):
            for key, value in outputs.get((name, protocol), {}).items():
                arrays[f"{name}/{protocol}/{key}"] = value
    return arrays


def evaluate_with(
    model: str,
    settings: EvaluationSettings,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    reference_model: str | None = None,
    draw_seed: int = 0,
    seed: int = 0,
    pooling: str | None = None,
    storage: str | os.PathLike[str] | None = None,
    address: str | None = None,
    finetune_workers: int = 1,
    finetune_cpus_per_worker: float = 1.0,
    per_example: dict[str, np.ndarray] | None = None,
) -> dict[str, Any]:
    """:func:`evaluate_model` with a study's (or the CLI's) :class:`EvaluationSettings` passed whole:
    the one place the settings' fields are mapped onto the suite and the fine-tuning protocol."""
    settings.validate()
    finetune = {
        "epochs": settings.finetune_epochs,
        "max_steps": settings.finetune_max_steps,
        "eval_every": settings.finetune_eval_every,
        "lr": settings.finetune_lr,
        "head_lr": settings.finetune_head_lr,
        "train_limit": settings.finetune_train_limit,
        "class_weights": settings.finetune_class_weights,
        "patience": settings.finetune_patience,
        "num_workers": finetune_workers,
        "cpus_per_worker": finetune_cpus_per_worker,
    }
    return evaluate_model(
        model,
        settings.tasks,
        settings.protocols,
        data_dir=data_dir,
        reference_model=reference_model,
        draw_seed=draw_seed,
        seed=seed,
        limit=settings.limit,
        pooling=pooling,
        max_length=settings.max_length,
        drift_n=settings.drift_n,
        finetune_options=finetune,
        finetune_tasks=settings.finetune_tasks,
        storage=storage,
        address=address,
        per_example=per_example,
        precision=settings.precision,
        job_cpus=min(1.0, finetune_cpus_per_worker),  # a run's evaluation asks no more than its training
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
