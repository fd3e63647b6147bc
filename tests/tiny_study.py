"""A tiny search space on tiny local models: used by the study end-to-end test and the `ray up` test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def tiny_space(
    folder: Path,
    model: str,
    num_samples: int = 3,
    seeds: int = 2,
    baselines: tuple[str, ...] = ("plm", "scl", "tlearn", "mtl"),
    tasks: tuple[str, ...] = ("emotion", "drift", "sst2", "isarcasm", "irony"),
    cpus_per_worker: float = 1.0,
    cpu_workers: str = "as_written",
    search: dict[str, Any] | None = None,
    **study: Any,
) -> Path:
    """The tiny space's YAML in ``folder``; ``cpu_workers`` ``as_written`` (the default) keeps its 2 DDP
    workers per run (what the fault tests kill one of), ``merge`` lets the resource plan merge them;
    ``search`` adds searched keys (e.g. ``model.name``) to λ, τ and the head."""
    space = {
        "name": "tiny",
        "base": {
            "model": {"name": model, "pooling": "mean"},
            "data": {"max_length": 16},
            "sampler": {"kind": "mperclass", "m": 4, "batch_size": 24},
            "train": {
                "max_steps": 10,
                "eval_every": 5,
                "lr": 5.0e-3,
                "num_workers": 2,
                "cpus_per_worker": cpus_per_worker,
                "cpu_workers": cpu_workers,
                "precision": "fp32",
                "max_failures": 1,
            },
        },
        "search": {
            "loss.lam": {"type": "loguniform", "low": 0.1, "high": 10.0},
            "loss.tau": {"type": "uniform", "low": 0.05, "high": 0.3},
            "model.head": {"type": "choice", "values": ["linear", "mlp"]},
            **(search or {}),
        },
        "study": {
            "num_samples": num_samples,
            "metric": "dev_p_at_1",
            "multi_objective": True,
            "sampler": "nsga2" if study.get("multi_objective", True) else "tpe",
            "drift_texts": 40,
            "asha_grace_period": 1,
            "seeds": seeds,
            "pareto_picks": 1,
            "baselines": list(baselines),
            "mtl_task": "irony",
            **study,
        },
        "evaluation": {"tasks": list(tasks), "protocols": ["probe", "fewshot"], "drift_n": 40, "max_length": 16},
    }
    path = folder / "tiny.yaml"
    path.write_text(yaml.safe_dump(space))
    return path


def final_results(study_dir: Path) -> dict[tuple[str, int], dict[str, Any]]:
    """Each final run's last reported result (Tune's record in the study's storage ``study_dir``), by
    (method, seed): a model exported from a search trial that ran to its end says so as ``reused_run``."""
    from raysweep.results.records import load_trials

    out: dict[tuple[str, int], dict[str, Any]] = {}
    for trial in load_trials(str(study_dir / "final")):
        spec = trial["config"]["spec"]
        out[(spec["method"], int(spec["seed"]))] = trial["result"]
    return out
