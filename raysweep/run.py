"""``python -m raysweep.run --space NAME``: a whole study, search -> re-runs -> baselines ->
evaluation -> results, on this machine or (``--address auto``) an existing Ray cluster.

    python -m raysweep.run --space smoke --data-dir ../shared/data      # minutes on 2 CPU cores
    python -m raysweep.run --space full --address auto --storage s3://bucket/raysweep/sweeps
    python -m raysweep.run --space cpu --name cpu-20261126 --resume     # continue a stopped study
    python -m raysweep.run --space smoke --tracking mlflow               # + MLflow, results/NAME/mlflow.db

The console gets one line per trial event and a study line per finished trial; ``--verbose`` adds
Ray Tune's trial tables and the workers' own output (``-vv``: Tune's most detailed tables). Ray's
session logs (every worker's output) are copied to ``results/NAME/ray-logs/`` at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from raysweep.errors import RaysweepError, cli_errors
from raysweep.storage import check_name, check_path

if TYPE_CHECKING:
    from raysweep.tune.phase_ledger import PhaseLedger


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m raysweep.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--space", default="smoke", help="search space: smoke, cpu, full, or a YAML file")
    p.add_argument("--name", default=None, help="study name (default: SPACE-TIMESTAMP; with --resume: the latest)")
    p.add_argument(
        "--storage",
        default=os.environ.get("RAYSWEEP_STORAGE", "results/storage"),
        help="absolute path or URI for Ray's storage (default $RAYSWEEP_STORAGE or results/storage)",
    )
    p.add_argument("--results-dir", default="results", help="where leaderboard.csv, comparison.md, plots go")
    p.add_argument("--data-dir", default=None, help="local data folder (or $RAYSWEEP_DATA_DIR); else the hub")
    p.add_argument("--address", default=None, help="'auto' (or host:port) to use a running Ray cluster")
    p.add_argument("--num-samples", type=int, default=None, help="search trials (overrides the space)")
    p.add_argument("--resume", action="store_true", help="continue a stopped study with the same --name")
    p.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="Ray Tune's trial tables and the workers' output on the console (-vv: more detail)",
    )
    p.add_argument(
        "--tracking",
        default=None,
        metavar="KIND[:URI]",
        help="also log every trial to a tracker: mlflow (default store results/NAME/mlflow.db) or mlflow:URI",
    )
    p.add_argument(
        "--dry-run", action="store_true", help="print the space, the trial plan and resources; start nothing"
    )
    return p.parse_args(argv)


def load(args: argparse.Namespace):
    from raysweep.data.goemotions import resolve_data_dir
    from raysweep.tune.space import load_space

    data_dir = resolve_data_dir(args.data_dir)
    overrides: dict[str, dict[str, Any]] = {}
    if args.num_samples is not None:
        overrides["study"] = {"num_samples": args.num_samples}
    space = load_space(args.space)
    if data_dir is not None or space.base.data.data_dir is None:
        base_data = {**space.base.to_dict()["data"], "data_dir": None if data_dir is None else str(data_dir)}
        overrides["base"] = {"data": base_data}
    if overrides:
        space = load_space(args.space, overrides)  # merged into the file's sections key by key
    return space, None if data_dir is None else str(data_dir), overrides


def preflight_study(space, data_dir: str | None) -> None:
    """Everything a user can get wrong, checked before Ray starts: data, models, samplers, tasks."""
    from raysweep.data.tasks import load_tasks
    from raysweep.methods.registry import expand
    from raysweep.train.preflight import preflight

    for variant in space.data_variants():
        preflight(space.config_for(variant))
    tasks = [t for t in space.evaluation.tasks if t not in ("emotion", "drift")]
    for key in space.study.baselines:  # a method trained jointly with a task (MTL) needs that task too
        for chosen in expand(key, space.study, tasks):
            if chosen.method.arg == "task" and chosen.arg and chosen.arg not in tasks:
                tasks.append(chosen.arg)
    load_tasks(tasks, data_dir)


def dry_run(space, cluster: dict[str, float], node_cpus: float, paths, problem: RaysweepError | None) -> int:
    """``--dry-run``: the space, the resource plan on this cluster, the study's cost on GPUs
    (``tune.cost``); then what would stop a real run here, as the one error line (exit 2)."""
    from raysweep.tune.cost import plan_cost
    from raysweep.tune.resources import plan_resources

    print(space.describe())
    try:
        plan = plan_resources(space.base, cluster, space.study.max_concurrent_trials, node_cpus=node_cpus or None)
        print(plan.describe())
    except RaysweepError as err:
        problem = problem or err
    print(f"study {paths.name}: storage {paths.root}, results {paths.results}")
    print(plan_cost(space))
    if problem is not None:
        raise problem
    return 0


def pick_name(args: argparse.Namespace, space, storage: str) -> str:
    from raysweep.tune.study import stamp

    if args.name is not None:
        return check_name(args.name)
    if args.resume:
        root = Path(storage)
        candidates = (
            sorted(
                (d for d in root.glob(f"{space.name}-*") if (d / "raysweep-study.json").is_file()),
                key=lambda d: d.stat().st_mtime,
            )
            if "://" not in storage and root.is_dir()
            else []
        )
        if not candidates:
            raise RaysweepError(f"--resume: no {space.name} study in {storage}; pass --name of the study to resume")
        return candidates[-1].name
    return f"{space.name}-{stamp()}"


def keep_ray_logs(target: Path) -> Path | None:
    """Copy this Ray session's log folder (every worker's output, Ray's own logs) into ``target``/SESSION,
    so the full logs stay with the study; None where the session's folder is not on this machine."""
    import shutil

    import ray

    node = getattr(ray._private.worker, "_global_node", None)  # no public API names the session folder
    logs = Path(node.get_logs_dir_path()) if node is not None else None
    if logs is None or not logs.is_dir():
        return None
    out = target / logs.parent.name
    shutil.copytree(logs, out, dirs_exist_ok=True, ignore_dangling_symlinks=True)
    return out


@cli_errors
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from raysweep.tune.tracking import parse_tracking

    tracking = parse_tracking(args.tracking)
    # transformers' LOAD REPORT (a warning each time a model loads) off here too; workers: WORKER_ENV
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    if args.verbose == 0:  # Tune's newer console prints an experiment header (and a TensorBoard path in
        # Ray's temporary session folder) even at verbose=0; its legacy one prints nothing there
        os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    if args.name is not None:
        check_name(args.name)
    check_path(args.storage, "--storage (or $RAYSWEEP_STORAGE)")
    check_path(args.results_dir, "--results-dir")
    space, data_dir, overrides = load(args)

    from raysweep.storage import validate_storage
    from raysweep.train.launch import absolute_storage
    from raysweep.train.preflight import check_writable_parent
    from raysweep.tune.resources import plan_resources

    storage = absolute_storage(check_path(args.storage, "--storage (or $RAYSWEEP_STORAGE)"))
    results_dir = Path(check_path(args.results_dir, "--results-dir")).expanduser().resolve()
    check_writable_parent(results_dir, "--results-dir")
    problem: RaysweepError | None = None
    try:
        preflight_study(space, data_dir)
    except RaysweepError as err:  # a dry run still prints the plan and its cost, then the problem
        if not args.dry_run:
            raise
        problem = err
    name = pick_name(args, space, storage)

    from raysweep.tune.study import StudyPaths

    if args.dry_run and args.address is None:
        import torch

        cluster = {"CPU": float(os.cpu_count() or 1), "GPU": float(torch.cuda.device_count())}
        node_cpus = cluster["CPU"]
    else:
        from raysweep.train.cluster import connect, largest_node_cpus

        # the workers' output (transformers, Ray Train, each trial's step lines) stays in Ray's session
        # logs unless --verbose; a trial that fails still says why on the console (ConsoleReporter)
        cluster = connect(args.address, log_to_driver=args.verbose > 0)
        node_cpus = largest_node_cpus()
    paths = StudyPaths(name=name, storage=storage, results=results_dir)
    if args.dry_run:  # the plan and its cost even where this machine could not run it (a laptop, no hub)
        return dry_run(space, cluster, node_cpus, paths, problem)
    plan = plan_resources(space.base, cluster, space.study.max_concurrent_trials, node_cpus=node_cpus or None)
    print(space.describe())
    print(plan.describe())
    print(f"study {name}: storage {paths.root}, results {results_dir}")

    import ray

    storage = validate_storage(storage, multi_node=len([n for n in ray.nodes() if n.get("Alive")]) > 1)
    from raysweep.tune.record import write_provenance, write_study_record
    from raysweep.tune.study import refuse_existing

    refuse_existing(f"{paths.root}/search", args.resume)  # before anything is prepared or written
    from raysweep.results.carried_study import carried_study

    carried = carried_study(paths.local_study, f"{paths.root}/search", args.resume)  # storage gone: the export

    record = {
        "name": name,
        "space": space.name,
        "space_path": space.path,
        "overrides": overrides,
        "data_dir": data_dir,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if not args.resume or carried is not None:
        write_study_record(paths.root, record)
    write_provenance(paths.local_study, space.to_dict(), sys.argv[1:] if argv is None else argv, args.resume)
    try:
        return run_study(args, space, plan, paths, data_dir, tracking, carried)
    finally:
        kept = keep_ray_logs(paths.local_study / "ray-logs")
        if kept is not None:
            print(f"[raysweep] Ray logs: {kept}", flush=True)


def run_study(args: argparse.Namespace, space, plan, paths, data_dir: str | None, tracking, carried=None) -> int:
    """The study's phases on a connected cluster: prepare (data, the plain loop's rate), search, finals
    (with the reference embeddings computed first), then the results files and the closing summary.
    ``carried`` (:mod:`raysweep.results.carried_study`): the search and the final runs an export holds,
    which are not run again."""
    from raysweep.results.pareto import is_lambda_zero, pick_per_model
    from raysweep.results.records import load_trials
    from raysweep.train.finished_run import ran_to_end
    from raysweep.tune.phase_ledger import PHASES, PhaseLedger
    from raysweep.tune.study import (
        final_specs,
        measure_plain_rate,
        precompute_study_reference,
        prepare_data,
        run_finals,
        run_search,
    )

    name, s = paths.name, space.study
    ledger = PhaseLedger.open(paths.local_study / PHASES, resume=args.resume)
    with ledger.phase("prepare"):
        print("[raysweep] preparing data (tokens, frozen targets, drift references) once for the study ...", flush=True)
        data = prepare_data(space, data_dir, plan)
        plain = measure_plain_rate(space, data, plan)
        print(f"[raysweep] plain loop on this hardware: {plain['samples_per_s']:.1f} samples/s", flush=True)

    if carried is None:
        with ledger.phase("search"):
            run_search(space, paths, plan, data, args.resume, verbose=args.verbose, tracking=tracking)
    search = carried.search if carried is not None else load_trials(f"{paths.root}/search")
    picks = pick_per_model(search, s.metric, s.pareto_picks, s.multi_objective, s.matched_picks)
    if not picks:
        raise RaysweepError(f"no search trial of study {name} finished with {s.metric}; see {paths.root}/search")
    params = [p["config"] for p in picks]
    print(
        f"[raysweep] re-running {len(params)} configuration(s) x {s.seeds} seeds: "
        + "; ".join(json.dumps(p) for p in params),
        flush=True,
    )
    with ledger.phase("finals"):
        from raysweep.train.placement_leaks import release_leaked_placement_groups

        leaked = release_leaked_placement_groups()  # of search trials that ended while their run started
        if leaked:
            print(f"[raysweep] released {leaked} placement group(s) the search's ended trials left behind", flush=True)
        models = sorted({str(p.get("model.name", space.base.model.name)) for p in params})
        precompute_study_reference(space, data_dir, plan, models)
        # a pick whose trial ran to its end is one of its own final runs already (the trial's seed)
        done = [t for t in search if t["status"] == "TERMINATED" and ran_to_end(t["result"])]
        done_ids = {t["trial_id"] for t in done}
        finished = [p["trial_id"] if p["trial_id"] in done_ids else None for p in picks]
        zero = next((t["trial_id"] for t in done if is_lambda_zero(t)), None)  # SCL's seed 0 with scl_from: lambda_zero
        specs = final_specs(space, params, finished, zero)
        if carried is not None:
            left = carried.remaining(specs)
            print(
                f"[raysweep] carried over from {carried.folder}: {len(search)} search trials and "
                f"{len(specs) - len(left)} of {len(specs)} final runs; running the {len(left)} left",
                flush=True,
            )
            specs = left
        if specs:
            run_finals(space, paths, plan, data, specs, data_dir, args.resume, verbose=args.verbose, tracking=tracking)
    timings = study_timings(ledger)
    finals = load_trials(f"{paths.root}/final")
    records = carried.merge(finals, paths.local_study / "models") if carried is not None else None
    if records is not None:
        finals = records.finals

    goodput = study_goodput_record(space, plan, paths, timings, plain, search, ledger, finals)
    from raysweep.results.writer import export_best, write_results

    write_results(
        paths.root,
        paths.results,
        name,
        space.base,
        s.metric,
        extra={"timings": timings, "goodput": goodput, "picked_trials": [p["trial_id"] for p in picks]},
        records=records,
        export_records=True,
    )
    best = export_best(finals, paths.results, s.metric)
    print_summary(paths, timings, goodput, best, args.tracking if tracking else None)
    return 0


def study_timings(ledger: PhaseLedger) -> dict[str, float]:
    """Each phase's wall seconds summed over every invocation of the study (``tune.phase_ledger``),
    their total, and how many invocations ran it."""
    totals = ledger.totals()
    timings = {f"{phase}_s": totals.get(phase, 0.0) for phase in ("prepare", "search", "finals")}
    return {**timings, "total_s": sum(timings.values()), "invocations": ledger.invocations}


def study_goodput_record(
    space, plan, paths, timings: dict[str, float], plain: dict[str, Any], search, ledger, finals=None
):
    """The study's goodput by phase (``tune.goodput``) from its trials' own counters and the phases'
    walls over every invocation; a resumed study whose earlier invocations left no ledger entry has
    walls of this invocation only, so its goodput is an upper bound (``walls_complete`` false)."""
    import ray

    from raysweep.results.records import load_trials
    from raysweep.tune.goodput import goodput_of_trials

    phases = {
        "prepare": ([], timings["prepare_s"]),
        "search": (search, timings["search_s"]),
        "finals": (finals if finals is not None else load_trials(f"{paths.root}/final"), timings["finals_s"]),
    }
    nodes = max(len([n for n in ray.nodes() if n.get("Alive") and n["Resources"].get("CPU")]), 1)
    run_cores = plan.num_workers * plan.cpus_per_worker
    walls = {"resumed": ledger.resumed, "invocations": ledger.invocations, "walls_complete": ledger.complete}
    return {**goodput_of_trials(phases, plain, run_cores, plan.total_cpus, nodes), **walls}


def print_summary(paths, timings: dict[str, float], goodput: dict[str, Any], best, tracking: str | None) -> None:
    """The closing lines: the leaderboard's figures, the phases' times and goodput, where things are."""
    import pandas as pd

    from raysweep.tune.console import summary_lines
    from raysweep.tune.goodput import describe

    for line in summary_lines(pd.read_csv(paths.results / "leaderboard.csv")):
        print(line, flush=True)
    print(
        f"[raysweep] study {paths.name} done in {timings['total_s']:.0f} s "
        f"(prepare {timings['prepare_s']:.0f}, search {timings['search_s']:.0f}, finals {timings['finals_s']:.0f})"
    )
    for line in describe(goodput).splitlines():
        print(f"[raysweep] {line}")
    print(
        f"[raysweep] leaderboard: {paths.results / 'leaderboard.csv'}; comparison: {paths.results / 'comparison.md'}"
        + (f"; best model: {best}" if best else "")
    )
    print(
        f"[raysweep] dashboards: tensorboard --logdir {paths.root}; "
        f"optuna-dashboard sqlite:///{paths.optuna_db}" + (f"; tracking: {tracking}" if tracking else ""),
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
