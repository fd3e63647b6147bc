"""PNG plots of a study: the Pareto front, metric vs λ and τ, and Optuna's parameter importance."""

from __future__ import annotations

import io
from pathlib import Path

from raysweep import atomic
from raysweep.results.pareto import DRIFT, pareto_front, usable
from raysweep.results.records import TrialRecord


def _save(fig, path: Path) -> Path:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    atomic.write_bytes(path, buffer.getvalue())
    return path


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def pareto_plot(trials: list[TrialRecord], metric: str, path: Path) -> Path | None:
    points = [t for t in usable(trials, metric) if t["result"].get(DRIFT) is not None]
    if not points:
        return None
    plt = _pyplot()
    front = pareto_front(points, metric)
    fig, ax = plt.subplots(figsize=(5.5, 4))
    lam = [t["config"].get("loss.lam", 0) or 0 for t in points]
    sc = ax.scatter(
        [t["result"][DRIFT] for t in points],
        [t["result"][metric] for t in points],
        c=lam,
        cmap="viridis",
        s=36,
        label="trials",
    )
    ax.plot(
        [t["result"][DRIFT] for t in front],
        [t["result"][metric] for t in front],
        "r-o",
        mfc="none",
        ms=10,
        label="Pareto front",
    )
    fig.colorbar(sc, ax=ax, label="λ")
    ax.set_xlabel("dev Δemb (mean cosine distance to the original; lower is better)")
    ax.set_ylabel(f"{metric} (higher is better)")
    ax.set_title("Emotion awareness vs embedding drift")
    ax.legend(loc="lower right")
    path = _save(fig, path)
    plt.close(fig)
    return path


def hyperparameter_plot(trials: list[TrialRecord], metric: str, path: Path) -> Path | None:
    points = usable(trials, metric)
    keys = [k for k in ("loss.lam", "loss.tau") if any(k in t["config"] for t in points)]
    if not points or not keys:
        return None
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(keys), figsize=(5 * len(keys), 3.8), squeeze=False)
    for ax, key in zip(axes[0], keys, strict=True):
        xs = [t["config"][key] for t in points]
        ax.scatter(xs, [t["result"][metric] for t in points], label=metric)
        ax.set_xscale("log")
        ax.set_xlabel(key.split(".")[1].replace("lam", "λ").replace("tau", "τ"))
        ax.set_ylabel(metric)
        if any(t["result"].get(DRIFT) is not None for t in points):
            twin = ax.twinx()
            twin.scatter(xs, [t["result"].get(DRIFT) for t in points], color="tab:red", marker="x", label="Δemb")
            twin.set_ylabel("dev Δemb", color="tab:red")
    fig.suptitle(f"{metric} and Δemb vs λ and τ (search trials)")
    path = _save(fig, path)
    plt.close(fig)
    return path


def importance_plot(optuna_db: Path, study_name: str, path: Path) -> Path | None:
    """fANOVA importance of each parameter for the first objective (needs >= 2 finished trials)."""
    if not optuna_db.is_file():
        return None
    import optuna

    try:
        study = optuna.load_study(study_name=study_name, storage=f"sqlite:///{optuna_db}")
        finished = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        if len(finished) < 2:
            return None
        target = (lambda t: t.values[0]) if len(study.directions) > 1 else None
        importance = optuna.importance.get_param_importances(study, target=target)
    except (RuntimeError, ValueError, KeyError):  # e.g. a parameter with a single value
        return None
    if not importance:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 0.5 + 0.45 * len(importance)))
    names = list(importance)[::-1]
    ax.barh(names, [importance[n] for n in names])
    ax.set_xlabel("importance (fANOVA) for the emotion metric")
    ax.set_title("Parameter importance")
    path = _save(fig, path)
    plt.close(fig)
    return path
