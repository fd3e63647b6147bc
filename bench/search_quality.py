"""Search quality: how good a front each way of searching finds on one small budget (its own script,
not a section of ``python -m bench``).

Three arms search the same multi-objective space (the ``cpu`` space's model and search ranges:
packaged all-MiniLM-L6-v2, mean pooling, (dev metric max, dev Δemb min)) with the same number of
trials, the same training length and the same λ = 0 point first, each through the study's own
``run_search`` (``study.scheduler`` and ``study.sampler`` choose the arm):

===== ======================================================================================
``a`` Pareto-ASHA + multi-objective TPE (what a multi-objective study runs)
``b`` ASHA on the emotion metric alone + the same TPE
``c`` random search: Optuna's random sampler, no early stopping (every trial to full fidelity)
===== ======================================================================================

each with ``--seeds`` search seeds (0, 1, ...). For every run it reports the hypervolume of the
full-fidelity front (:func:`raysweep.results.pareto.hypervolume`) against one reference point for
all runs, (PLM's dev metric, the λ = 0 point's full-fidelity dev Δemb; the largest over the runs,
else the largest full-fidelity Δemb of any run), so the hypervolumes compare; the arms' mean
hypervolumes as ratios to arm ``a``'s; and how many full-fidelity trials reached the low-drift end
(dev Δemb at most ``--drift-bound`` with the dev metric at or above the emotion floor, PLM's dev
metric + ``FLOOR_MARGIN``), with the steps each arm trained (early stopping's saving). The table goes
to ``bench/results/search_quality.json`` (atomically), with the machine and the budget.

Budget: the defaults (5 trials an arm, 40 steps of batch 32 on 2,000 training rows, evaluated every
10 steps on 500 dev rows and 200 drift texts) take about 10-15 minutes on 2 CPU cores for one seed
each; ``--seeds 3`` triples it. A dry run that only shows the plumbing works::

    RAYSWEEP_DATA_DIR=/work/shared/data python bench/search_quality.py --trials 2 --seeds 1 --steps 10 \\
        --eval-every 5 --train-limit 600 --dev-limit 200 --out /tmp/sq.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import data_dir, machine  # noqa: E402
from raysweep.errors import RaysweepError, cli_errors  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "search_quality.json"
ARMS: dict[str, dict[str, str]] = {
    "a": {"scheduler": "pareto_asha", "sampler": "tpe", "label": "Pareto-ASHA + MO-TPE"},
    "b": {"scheduler": "asha", "sampler": "tpe", "label": "ASHA (metric) + MO-TPE"},
    "c": {"scheduler": "fifo", "sampler": "random", "label": "random search"},
}
"""Arm -> the study settings it runs with (``study.scheduler``, ``study.sampler``) and its name."""
DRIFT = "dev_delta_emb"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--data-dir", default=None, help="the data folder (default $RAYSWEEP_DATA_DIR)")
    p.add_argument("--space", default="cpu", help="the multi-objective space whose model and ranges are searched")
    p.add_argument("--trials", type=int, default=5, help="search trials per run, the λ = 0 point included")
    p.add_argument("--seeds", type=int, default=1, help="search seeds per arm (0, 1, ...)")
    p.add_argument("--steps", type=int, default=40, help="every trial's full fidelity (train.max_steps)")
    p.add_argument("--eval-every", type=int, default=10, help="steps between evaluations (the rungs sit on them)")
    p.add_argument("--batch-size", type=int, default=32, help="global batch (a multiple of 2 workers x m=4)")
    p.add_argument("--train-limit", type=int, default=2000, help="training rows")
    p.add_argument("--dev-limit", type=int, default=500, help="dev rows (the dev metric and the emotion floor)")
    p.add_argument("--drift-texts", type=int, default=200, help="texts dev Δemb is measured on")
    p.add_argument("--drift-bound", type=float, default=0.05, help="the low-drift end: dev Δemb at most this")
    p.add_argument("--arms", default=",".join(ARMS), help=f"which arms to run, of {', '.join(ARMS)}")
    p.add_argument("--storage", default=None, help="where the studies are kept (default: a temporary folder)")
    p.add_argument("--out", default=str(RESULTS), help="the JSON table")
    args = p.parse_args(argv)
    arms = [a for a in args.arms.split(",") if a]
    unknown = [a for a in arms if a not in ARMS]
    if unknown or not arms:
        raise RaysweepError(f"--arms {args.arms}: unknown arm {unknown[0] if unknown else ''!r}; use some of a,b,c")
    args.arms = arms
    for flag in ("trials", "seeds", "steps", "eval_every", "batch_size", "train_limit", "dev_limit", "drift_texts"):
        if getattr(args, flag) < 1:
            raise RaysweepError(f"--{flag.replace('_', '-')} {getattr(args, flag)}: use a positive number")
    if not args.drift_bound > 0:
        raise RaysweepError(f"--drift-bound {args.drift_bound}: use a positive Δemb, e.g. 0.05")
    return args


def arm_space(args: argparse.Namespace, arm: str, seed: int, data: str) -> Any:
    """The space of one run: the ``--space`` file with the budget's base and the arm's study settings."""
    from raysweep.tune.space import load_space

    base = load_space(args.space).base.to_dict()
    train = {**base["train"], "epochs": 1, "max_steps": args.steps, "eval_every": args.eval_every}
    train.update(num_workers=2, cpus_per_worker=1.0)
    space = load_space(
        args.space,
        {
            "base": {
                "data": {
                    **base["data"],
                    "train_limit": args.train_limit,
                    "dev_limit": args.dev_limit,
                    "data_dir": data,
                },
                "sampler": {**base["sampler"], "batch_size": args.batch_size},
                "train": train,
            },
            "study": {
                "num_samples": args.trials,
                "seed": seed,
                "multi_objective": True,
                "drift_texts": args.drift_texts,
                "asha_grace_period": 1,
                "asha_reduction_factor": 2,
                "max_concurrent_trials": 1,
                "scheduler": ARMS[arm]["scheduler"],
                "sampler": ARMS[arm]["sampler"],
            },
        },
    )
    return space


def run_arm(space: Any, name: str, storage: str, results: Path, data_refs: dict[str, Any], plan: Any) -> dict:
    """One search through the study code; its trials and PLM's dev figures, with the wall time."""
    from raysweep.results.records import load_trials
    from raysweep.tune.study import PLM_DEV, StudyPaths, run_search

    paths = StudyPaths(name=name, storage=storage, results=results)
    t0 = time.perf_counter()
    run_search(space, paths, plan, data_refs, resume=False)
    wall = time.perf_counter() - t0
    plm = json.loads((paths.local_study / PLM_DEV).read_text())[space.study.metric]
    return {"trials": load_trials(f"{paths.root}/search"), "plm": float(plm), "wall_s": wall}


def reference_point(runs: list[dict], metric: str) -> tuple[float, float, str]:
    """One reference for every run: (PLM's dev metric, :func:`~raysweep.results.pareto.reference_drift`
    over every run's full-fidelity trials: the λ = 0 point's dev Δemb, the largest over the runs, else
    the largest full-fidelity Δemb), and which drift it was."""
    from raysweep.results.pareto import full_fidelity, reference_drift

    plm = max(r["plm"] for r in runs)
    full = [t for r in runs for t in full_fidelity(r["trials"], metric) if t["result"].get(DRIFT) is not None]
    drift = reference_drift(full)
    if drift is None:
        raise RaysweepError("no trial of any run reached full fidelity; raise --trials or --steps")
    zero = any(t["config"].get("loss.lam") == 0.0 for t in full)
    return plm, drift, "the λ = 0 point's full-fidelity dev Δemb" if zero else "the largest full-fidelity dev Δemb"


def summarise(run: dict, metric: str, reference: tuple[float, float], floor: float, bound: float) -> dict:
    """A run's row: hypervolume, full-fidelity and low-drift trial counts, steps trained, wall time."""
    from raysweep.results.pareto import full_fidelity, hypervolume, progress

    full = [t for t in full_fidelity(run["trials"], metric) if t["result"].get(DRIFT) is not None]
    low = [t for t in full if t["result"][DRIFT] <= bound and t["result"][metric] >= floor]
    return {
        "hypervolume": hypervolume(full, metric, reference),
        "trials": len(run["trials"]),
        "full_fidelity_trials": len(full),
        "low_drift_trials": len(low),
        "steps_trained": int(sum(progress(t) for t in run["trials"])),
        "wall_s": round(run["wall_s"], 1),
    }


def table(arms: dict[str, dict]) -> str:
    """The arms side by side: mean hypervolume, its ratio to arm a's, low-drift and full-fidelity trials,
    steps trained and wall time (summed over the seeds)."""
    head = ("arm", "search", "HV mean", "HV / a", "low-drift", "full", "steps", "wall s")
    lines = [f"{head[0]:<4} {head[1]:<24} " + " ".join(f"{h:>9}" for h in head[2:])]
    for arm, row in arms.items():
        ratio = "n/a" if row["ratio_to_a"] is None else f"{row['ratio_to_a']:.3f}"
        lines.append(
            f"{arm:<4} {row['label']:<24} {row['mean_hypervolume']:>9.3g} {ratio:>9} {row['low_drift_trials']:>9} "
            f"{row['full_fidelity_trials']:>9} {row['steps_trained']:>9} {row['wall_s']:>9.0f}"
        )
    return "\n".join(lines)


@cli_errors
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    data = data_dir(args.data_dir)
    if not Path(data).is_dir():
        raise RaysweepError(f"--data-dir {data} is not a folder; give the data folder or set RAYSWEEP_DATA_DIR")
    spaces = {(arm, seed): arm_space(args, arm, seed, data) for arm in args.arms for seed in range(args.seeds)}
    from raysweep.train.preflight import preflight

    first = next(iter(spaces.values()))
    for variant in first.data_variants():  # data, model and sampler against each other, before Ray starts
        preflight(first.config_for(variant))

    from raysweep import atomic
    from raysweep.train.cluster import connect
    from raysweep.tune.resources import plan_resources
    from raysweep.tune.schedulers import FLOOR_MARGIN, emotion_floor
    from raysweep.tune.study import prepare_data, stamp

    metric = first.study.metric
    cluster = connect("local", num_cpus=min(os.cpu_count() or 2, 2))
    plan = plan_resources(first.base, cluster, 1)
    started = time.strftime("%Y-%m-%dT%H:%M:%S")
    with tempfile.TemporaryDirectory(prefix="search-quality-") as tmp:
        storage = args.storage or str(Path(tmp) / "storage")
        results = Path(tmp) / "results"
        print(f"[search-quality] preparing data once for {len(spaces)} runs ...", flush=True)
        refs = prepare_data(first, data, plan)  # the arms differ in study settings only: one data for all
        runs: dict[tuple[str, int], dict] = {}
        for (arm, seed), space in spaces.items():
            print(f"[search-quality] arm {arm} ({ARMS[arm]['label']}), search seed {seed}", flush=True)
            runs[arm, seed] = run_arm(space, f"sq-{arm}-s{seed}-{stamp()}", storage, results, refs, plan)
    plm, drift, how = reference_point(list(runs.values()), metric)
    floor = emotion_floor(plm)
    per_run = {key: summarise(run, metric, (plm, drift), floor, args.drift_bound) for key, run in runs.items()}
    arms: dict[str, dict[str, Any]] = {}
    for arm in args.arms:
        rows = [per_run[arm, seed] for seed in range(args.seeds)]
        arms[arm] = {
            **ARMS[arm],
            "mean_hypervolume": sum(r["hypervolume"] for r in rows) / len(rows),
            "low_drift_trials": sum(r["low_drift_trials"] for r in rows),
            "full_fidelity_trials": sum(r["full_fidelity_trials"] for r in rows),
            "steps_trained": sum(r["steps_trained"] for r in rows),
            "wall_s": round(sum(r["wall_s"] for r in rows), 1),
            "runs": [{"seed": seed, **per_run[arm, seed]} for seed in range(args.seeds)],
        }
    base_hv = arms.get("a", {}).get("mean_hypervolume")
    for row in arms.values():
        row["ratio_to_a"] = row["mean_hypervolume"] / base_hv if base_hv else None
    report = {
        "started": started,
        "machine": machine(),
        "budget": {
            "space": args.space,
            "model": first.base.model.name,
            "pooling": first.base.model.pooling,
            "trials_per_run": args.trials,
            "search_seeds": args.seeds,
            "steps_per_trial": args.steps,
            "eval_every": args.eval_every,
            "batch_size": args.batch_size,
            "train_rows": args.train_limit,
            "dev_rows": args.dev_limit,
            "drift_texts": args.drift_texts,
            "workers_per_trial": 2,
            "concurrent_trials": 1,
            "lambda_zero_point_first": True,
        },
        "metric": metric,
        "reference": {metric: plm, DRIFT: drift, "drift_from": how},
        "emotion_floor": floor,
        "floor_margin": FLOOR_MARGIN,
        "low_drift_bound": args.drift_bound,
        "arms": arms,
    }
    atomic.write_text(Path(args.out), json.dumps(report, indent=2) + "\n")
    print(
        f"reference ({metric} {plm:.4g}, Δemb {drift:.4g}: {how}); low-drift end: Δemb <= {args.drift_bound:g} "
        f"with {metric} >= {floor:.4g}; {args.trials} trials x {args.seeds} seed(s) an arm, {args.steps} steps each"
    )
    print(table(arms))
    print(f"[search-quality] wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
