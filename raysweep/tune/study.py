"""The study: search (Tuner + OptunaSearch + ASHA), then the final runs (chosen configurations and
baselines x seeds, each evaluated), both resumable from their storage.

Storage layout (``--storage``, absolute path or URI; ``NAME`` is the study name)::

    NAME/search/        Tune experiment of the search (searcher + scheduler state, trial results)
    NAME/final/         Tune experiment of the final runs
    NAME/search-<trial>/, NAME/final-<trial>/   Train runs (checkpoints), named from the trial id

The Optuna study lives in ``RESULTS/NAME/optuna.db`` (sqlite) so ``optuna-dashboard`` can open it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from raysweep.errors import RaysweepError
from raysweep.methods.registry import LAMBDA_ZERO, LAMBDA_ZERO_CONFIG, PROPOSED, REFERENCE, expand
from raysweep.methods.run_spec import RunSpec
from raysweep.models.declared_pooling import declared_pooling
from raysweep.tune.driver import data_key, final_trial, search_trial
from raysweep.tune.resources import TRIAL_CPU, ResourcePlan
from raysweep.tune.space import SearchSpace

if TYPE_CHECKING:
    from collections.abc import Callable

    from raysweep.config import RetrofitConfig
    from raysweep.tune.schedulers.fidelity import SearchFidelity
    from raysweep.tune.tracking import Tracking

HEAD_RESOURCE = "node:__internal_head__"
"""Ray's resource of the head node (1 there, absent elsewhere): trials ask for a sliver of it, so they
run on the head (beside the driver and the results folder, never on a spot worker)."""


@dataclass
class StudyPaths:
    name: str
    storage: str
    results: Path

    @property
    def root(self) -> str:
        return f"{self.storage.rstrip('/')}/{self.name}"

    @property
    def local_study(self) -> Path:
        return self.results / self.name

    @property
    def optuna_db(self) -> Path:
        return self.local_study / "optuna.db"


def prepare_data(space: SearchSpace, data_dir: str | None, plan: ResourcePlan) -> dict[str, Any]:
    """Tokenised data + frozen targets for every data variant, computed once per study as Ray tasks
    (on a GPU if the cluster has one) and kept in the object store for all trials."""
    import ray

    from raysweep.data.tasks import drift_texts
    from raysweep.train.data import prepare_training_data

    texts = drift_texts(data_dir, n=space.study.drift_texts, seed=1, split="train") if space.study.drift_texts else None
    # nothing else runs yet: on a CPU cluster give the frozen encoder the threads (Ray sets the task's
    # OMP_NUM_THREADS from num_cpus), those of one node: a task asking for the cluster's total would
    # never be scheduled on a cluster of several nodes
    task = ray.remote(prepare_training_data).options(
        num_cpus=task_cpus(plan), num_gpus=1 if plan.total_gpus >= 1 else 0, max_retries=2
    )
    refs: dict[str, Any] = {}
    for variant in space.data_variants():
        cfg = space.config_for(variant)
        key = data_key(cfg)
        if key not in refs:
            refs[key] = task.remote(cfg, texts)
    ray.wait(list(refs.values()), num_returns=len(refs))
    return refs


def task_cpus(plan: ResourcePlan) -> int:
    """CPUs for a study-wide task that runs while no trial does (data, the plain loop, reference
    embeddings): 1 beside a GPU, else one node's cores (at most 16; Ray sets the task's threads from it)."""
    from raysweep.train.cluster import largest_node_cpus

    return 1 if plan.total_gpus >= 1 else max(1, min(int(largest_node_cpus(plan.total_cpus)), 16))


def measure_plain_rate(space: SearchSpace, data: dict[str, Any], plan: ResourcePlan) -> dict[str, Any]:
    """The plain loop's samples/s (``train.plain_loop``) for the base configuration on its prepared data,
    with one node's cores (a GPU where the cluster has one): what the study's goodput is measured
    against, on this hardware, in this study. Where the plan's CPU runs hold fewer threads than a node
    (``train.cpu_workers: trials``: one-thread runs side by side on 2 cores), ``per_run`` is the loop with
    a run's threads too, as many copies side by side as runs fill a node (``side_by_side``; their mean
    samples/s, CPU seconds and cores), the way the plan runs them: each run's speed is compared with that
    loop (against the two-thread loop a one-thread run reads about 0.55x however little it loses; against one one-thread
    loop alone on an idle node it would be charged for its neighbour's share of memory bandwidth)."""
    import ray

    from raysweep.train.plain_loop import plain_loop_rate

    cfg = space.config_for(space.data_variants()[0])
    cores = task_cpus(plan)
    rows = data[data_key(cfg)]
    remote_rate = ray.remote(plain_loop_rate)
    task = remote_rate.options(num_cpus=cores, num_gpus=1 if plan.total_gpus >= 1 else 0)
    plain = ray.get(task.remote(cfg, rows, threads=cores))
    threads = run_threads(plan)
    if plan.total_gpus < 1 and threads < cores:  # runs of part of a node: their own loop to be measured against
        per_run = remote_rate.options(num_cpus=threads)
        side_by_side = max(1, int(cores // threads))  # as many loops as runs share a node, as the plan runs them
        # each copy's process first imports torch and loads the model untimed (a fresh Ray worker takes
        # seconds to): the timed copies then start together and run side by side throughout, instead of
        # one warm copy timing its steps while the other is still importing
        ray.get([per_run.remote(cfg, rows, steps=0, warmup=0, threads=threads) for _ in range(side_by_side)])
        loops = ray.get([per_run.remote(cfg, rows, threads=threads) for _ in range(side_by_side)])
        plain["per_run"] = {
            **loops[0],
            **{k: sum(loop[k] for loop in loops) / len(loops) for k in ("samples_per_s", "cpu_s", "cores")},
            "side_by_side": side_by_side,
        }
    return plain


def run_threads(plan: ResourcePlan) -> int:
    """The intra-op threads one CPU Train run of ``plan`` trains with, over all its workers."""
    from raysweep.train.data import threads_for

    return plan.num_workers * threads_for(plan.cpus_per_worker)


def precompute_study_reference(
    space: SearchSpace, data_dir: str | None, plan: ResourcePlan, models: list[str]
) -> dict[str, str | None]:
    """Each reference model's embeddings of the study's Δemb texts (``models``: the picks' model names),
    computed once into the cache of the head, where every final run is scored, before any final run
    starts: concurrent evaluations then all read them instead of each computing them."""
    import ray

    from raysweep.train.cluster import largest_node_cpus

    cores = max(1, min(int(largest_node_cpus(plan.total_cpus)), 16))  # the head's CPUs, GPU or not
    task = ray.remote(_precompute).options(num_cpus=cores, resources={HEAD_RESOURCE: 0.001})
    refs = {
        model: task.remote(
            cores,
            model,
            space.evaluation,
            data_dir=data_dir,
            draw_seed=space.study.seed,
            pooling=space.base.model.pooling,
        )
        for model in models
    }
    return {model: ray.get(ref) for model, ref in refs.items()}


def _precompute(threads: int, *args: Any, **kwargs: Any) -> str | None:
    import torch

    from raysweep.evaluation.suite import precompute_reference

    torch.set_num_threads(threads)
    return precompute_reference(*args, **kwargs)


def refuse_existing(path: str, resume: bool) -> None:
    """A ``RaysweepError`` when a Tune experiment exists at ``path`` and this is not ``--resume``."""
    from ray import tune

    if not resume and tune.Tuner.can_restore(path):
        raise RaysweepError(f"a study already exists at {path}; pass --resume to continue it or --name for a new one")


def _tuner_or_restore(path: str, trainable, resume: bool, make):
    from ray import tune

    if tune.Tuner.can_restore(path):
        refuse_existing(path, resume)
        return tune.Tuner.restore(path, trainable=trainable, resume_unfinished=True, resume_errored=True)
    return make()


PLM_DEV = "plm_dev.json"
"""PLM's dev figures of the study (results/NAME/): the search's emotion floor and its front's reference."""


def plm_dev_figure(space: SearchSpace, data: dict[str, Any], paths: StudyPaths) -> float | None:
    """PLM's dev value of the study metric, through the trials' own evaluation code (a Ray task on the
    base data variant), recorded in ``results/NAME/plm_dev.json``."""
    import json

    import ray

    from raysweep import atomic
    from raysweep.train.reference import reference_dev_metrics

    cfg = space.config_for(space.data_variants()[0])
    prepared = data.get(data_key(cfg))
    if prepared is None:  # no prepared data for the base variant: no floor
        return None
    figures = ray.get(ray.remote(reference_dev_metrics).options(num_cpus=1).remote(cfg, prepared))
    atomic.write_text(paths.local_study / PLM_DEV, json.dumps(figures, indent=2) + "\n")
    print(f"[raysweep] PLM dev {space.study.metric} {figures.get(space.study.metric, float('nan')):.3g}", flush=True)
    return figures.get(space.study.metric)


def run_search(
    space: SearchSpace,
    paths: StudyPaths,
    plan: ResourcePlan,
    data: dict[str, Any],
    resume: bool,
    verbose: int = 0,
    tracking: Tracking | None = None,
):
    """The search; ``verbose`` is Ray Tune's (0: only :class:`ConsoleReporter`'s lines, 1-2: Tune's
    trial tables too), ``tracking`` an optional tracker of ``--tracking``."""
    import optuna
    from ray import tune

    from raysweep.tune.console import ConsoleReporter
    from raysweep.tune.optuna_samplers import build_sampler
    from raysweep.tune.schedulers import SchedulerStateCallback, build_scheduler, emotion_floor
    from raysweep.tune.searcher import PrunedOptunaSearch

    s = space.study
    base = space.base.to_dict()
    base["train"].update(cpus_per_worker=plan.cpus_per_worker, num_workers=plan.num_workers)
    # the trial (and so its Train controller) on the head, which is never a spot node: a lost worker node
    # then costs the run a restart of its workers from their checkpoint, not the trial
    trainable = tune.with_resources(
        tune.with_parameters(search_trial, base=base, data=data, storage=paths.root),
        {"CPU": TRIAL_CPU, HEAD_RESOURCE: 0.001},
    )

    def make():
        paths.local_study.mkdir(parents=True, exist_ok=True)
        storage = optuna.storages.RDBStorage(f"sqlite:///{paths.optuna_db}")
        sampler = build_sampler(s.sampler, seed=s.seed, num_samples=s.num_samples)
        # full fidelity = the finals' length, in steps (one for every trial, or the space is refused);
        # the schedulers run on the reported step, which a restored Train run continues
        fidelity = search_length(space, train_rows(data))
        # the emotion floor (PLM's dev metric + FLOOR_MARGIN at full fidelity, rising from PLM's own
        # value at step 0) needs the PLM's dev metric: None = no floor
        plm = plm_dev_figure(space, data, paths) if s.multi_objective else None
        scheduler = build_scheduler(
            space.scheduler_kind(),
            metric=s.metric,
            drift="dev_delta_emb",
            time_attr="step",
            max_t=fidelity.max_t,
            grace_period=fidelity.grace_period(s.asha_grace_period),
            reduction_factor=s.asha_reduction_factor,
            full_fidelity=fidelity.steps,
            floor=emotion_floor(plm),
            floor_from=plm,
        )
        # trials the scheduler stops early reach Optuna as PRUNED, not as complete results
        searcher = PrunedOptunaSearch(
            metric=[s.metric, "dev_delta_emb"] if s.multi_objective else s.metric,
            mode=["max", "min"] if s.multi_objective else "max",
            storage=storage,
            study_name=paths.name,
            sampler=sampler,
            stop_record=scheduler,
            anchor=space.lambda_zero_point(),  # SCL (λ = 0) on the same front, run first
        )
        return tune.Tuner(
            trainable,
            # every trial's config carries its full length, so its pick's final runs train as long
            param_space={**space.tune_space(), FULL_LENGTH: fidelity.steps},
            tune_config=tune.TuneConfig(
                search_alg=searcher,
                scheduler=scheduler,
                num_samples=s.num_samples,
                max_concurrent_trials=plan.max_concurrent_trials,
            ),
            run_config=tune.RunConfig(
                name="search",
                storage_path=paths.root,
                failure_config=tune.FailureConfig(max_failures=s.trial_max_failures),
                # Tune does not checkpoint schedulers: this callback keeps the rungs with the experiment
                callbacks=[
                    SchedulerStateCallback(scheduler),
                    ConsoleReporter("search", s.metric, s.num_samples, full_steps=fidelity.steps),
                    *(tracking.callbacks(paths.local_study, paths.name, "search") if tracking else []),
                ],
                verbose=verbose,
            ),
        )

    return _tuner_or_restore(f"{paths.root}/search", trainable, resume, make).fit()


FULL_LENGTH = "train.max_steps"
"""The key that pins every search trial (and so its pick's final runs) to the search's full fidelity."""


def train_rows(data: dict[str, Any]) -> Callable[[RetrofitConfig], int]:
    """The training rows of a config's prepared data (one Ray task per data variant, counted once)."""
    import ray

    keys = list(data)
    count = ray.remote(_train_rows).options(num_cpus=1)
    rows = dict(zip(keys, ray.get([count.remote(data[k]) for k in keys]), strict=True))
    return lambda cfg: rows[data_key(cfg)]


def _train_rows(prepared: Any) -> int:
    return len(prepared.train_labels)


def search_length(space: SearchSpace, rows: Callable[[RetrofitConfig], int]) -> SearchFidelity:
    """The search's full fidelity over every configuration it can sample (``rows``: a config's
    training rows); refuses a space whose configurations train for different lengths."""
    from raysweep.tune.schedulers.fidelity import search_fidelity

    configs = [(params, space.config_for(params)) for params in space.covering_params()]
    return search_fidelity(configs, rows, space.path)


TRAINING_KEYS = ("train.", "sampler.batch_size", "data.max_length")
"""Searched settings a trained baseline takes from its model's first pick: the same learning rate, steps
and batch (so every trained method gets the same budget, recorded as ``train_samples``)."""


def final_specs(
    space: SearchSpace,
    picks: list[dict[str, Any]],
    finished: list[str | None] | None = None,
    zero_trial: str | None = None,
) -> list[dict[str, Any]]:
    """Every final run, planned from the method records: the proposed method and every method that
    re-runs a pick (SCL) once per pick; every other baseline once per model name among the picks, with
    that model and its first pick's training settings; each with seeds 0..K-1, K from ``StudySettings.seeds_of``
    (PLM: once). ``finished[i]``: the search trial of pick ``i`` when it ran to its end
    (None otherwise): a pick's runs carry it as ``reuse`` (the one of them that trains that trial's
    very config, its seed, exports the trial's checkpoint instead). With ``study.scl_from: lambda_zero``
    SCL runs once, as config ``l0``, on the search's λ = 0 point (``zero_trial``: its search trial when it
    ran to its end, reused like a pick's) instead of once per pick."""
    finished = finished or [None] * len(picks)
    models: list[str] = []
    for p in picks:
        name = str(p.get("model.name", space.base.model.name))
        if name not in models:
            models.append(name)
    specs: list[RunSpec] = []
    keys = [PROPOSED, *space.study.baselines]
    for chosen in (c for key in keys for c in expand(key, space.study, space.evaluation.downstream)):
        method, key = chosen.method, chosen.key
        seeds = range(space.study.seeds_of(method))
        zero = space.lambda_zero_point() if key == LAMBDA_ZERO and space.study.scl_from == "lambda_zero" else None
        if zero is not None:
            specs += [RunSpec(key, LAMBDA_ZERO_CONFIG, zero, s, zero_trial) for s in seeds]
            continue
        if method.from_pick:
            specs += [RunSpec(key, f"c{i}", p, s, finished[i]) for i, p in enumerate(picks) for s in seeds]
            continue
        for j, model in enumerate(models):
            first = next(p for p in picks if str(p.get("model.name", space.base.model.name)) == model)
            params = {k: v for k, v in first.items() if k == "model.name" or k.startswith(TRAINING_KEYS)}
            if method.objective is None:  # not trained: only the model
                params = {k: v for k, v in params.items() if k == "model.name"}
            config_id = "base" if len(models) == 1 else f"base{j}"
            specs += [RunSpec(key, config_id, params, s) for s in seeds]
            native = declared_pooling(model) if key == REFERENCE else None
            if native is not None and native != space.base.model.pooling:  # PLM read out as it was trained too
                specs += [RunSpec(f"{REFERENCE}:{native}", config_id, params, s) for s in seeds]
    return [spec.to_dict() for spec in specs]


def run_finals(
    space: SearchSpace,
    paths: StudyPaths,
    plan: ResourcePlan,
    data: dict[str, Any],
    specs: list[dict[str, Any]],
    data_dir: str | None,
    resume: bool,
    verbose: int = 0,
    tracking: Tracking | None = None,
):
    """The final runs; ``verbose`` and ``tracking`` as for :func:`run_search`."""
    from ray import tune

    from raysweep.tune.console import ConsoleReporter

    base = space.base.to_dict()
    base["train"].update(cpus_per_worker=plan.cpus_per_worker, num_workers=plan.num_workers)
    trainable = tune.with_resources(
        tune.with_parameters(
            final_trial,
            base=base,
            data=data,
            storage=paths.root,
            models_dir=str(paths.local_study / "models"),
            evaluation=space.evaluation,
            data_dir=data_dir,
            study=space.study,
        ),
        # on the head, beside the driver: a final run writes its model folder into the results folder,
        # which is the head's own disk on a cluster (the driver reads it back for the tables); and the
        # head is never a spot node
        {"CPU": TRIAL_CPU, HEAD_RESOURCE: 0.001},
    )

    def make():
        return tune.Tuner(
            trainable,
            param_space={"spec": tune.grid_search(specs)},
            # a final trial always runs to its end (no scheduler stops one), so its process is handed to
            # the next final trial: no fresh trial process (Ray, Tune and the evaluation's imports) per run
            tune_config=tune.TuneConfig(max_concurrent_trials=plan.max_concurrent_trials, reuse_actors=True),
            run_config=tune.RunConfig(
                name="final",
                storage_path=paths.root,
                failure_config=tune.FailureConfig(max_failures=space.study.trial_max_failures),
                callbacks=[
                    ConsoleReporter("final", space.study.metric.removeprefix("dev_"), len(specs)),
                    *(tracking.callbacks(paths.local_study, paths.name, "final") if tracking else []),
                ],
                verbose=verbose,
            ),
        )

    return _tuner_or_restore(f"{paths.root}/final", trainable, resume, make).fit()


def stamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")
