"""PNG plots of a study: the Pareto front, metric vs λ and τ, and Optuna's parameter importance."""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

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


def hypervolume_caption(quality: Mapping[str, Any], metric: str) -> str:
    """The plot's line for the front's quality (``study.json``'s ``front``): its hypervolume as
    recorded there (``repr``, so the number reads back equal) and its reference point."""
    ref = quality["reference"]
    return (
        f"hypervolume {quality['hypervolume']!r} over {quality['full_fidelity_trials']} full-fidelity trials; "
        f"reference ({metric} {ref[metric]:.4g}, Δemb {ref[DRIFT]:.4g})"
    )


def pareto_figure(trials: list[TrialRecord], metric: str, quality: Mapping[str, Any] | None = None) -> Any:
    """The Pareto figure (a matplotlib ``Figure``) of the search ``trials``, or None without a point to
    plot. With ``quality`` (``study.json``'s ``front``: the full-fidelity front's hypervolume and its
    reference point) the title carries :func:`hypervolume_caption`, and the reference point is drawn
    with the box the hypervolume is measured in (up and to the left of it)."""
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
    title = "Emotion awareness vs embedding drift"
    if quality:
        ref = quality["reference"]
        ax.plot([ref[DRIFT]], [ref[metric]], "kx", ms=9, label="hypervolume reference")
        ax.axhline(ref[metric], color="k", lw=0.6, ls="--")
        ax.axvline(ref[DRIFT], color="k", lw=0.6, ls="--")
        title += "\n" + hypervolume_caption(quality, metric)
    fig.colorbar(sc, ax=ax, label="λ")
    ax.set_xlabel("dev Δemb (mean cosine distance to the original; lower is better)")
    ax.set_ylabel(f"{metric} (higher is better)")
    ax.set_title(title, fontsize=9 if quality else None)
    ax.legend(loc="lower right")
    return fig


def pareto_plot(
    trials: list[TrialRecord], metric: str, path: Path, quality: Mapping[str, Any] | None = None
) -> Path | None:
    """:func:`pareto_figure` written to ``path`` (PNG, atomically); None when there is nothing to plot."""
    fig = pareto_figure(trials, metric, quality)
    if fig is None:
        return None
    plt = _pyplot()
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


def importance_figure(optuna_db: Path, study_name: str) -> Any:
    """fANOVA importance of each searched parameter, for each objective (the emotion metric, and Δemb
    when the study is multi-objective), over the study's **complete** Optuna trials only: those that
    trained to full fidelity. Pruned trials (stopped early by the scheduler) are left out, and so
    are failed ones: a pruned multi-objective trial has no values in Optuna, and a single-objective
    one only a value at a lower fidelity, which is not comparable with the complete ones' (fANOVA
    would read the scheduler's cut as the parameters' effect). A λ = 0 point run outside Optuna (see
    :mod:`raysweep.tune.searcher`) is not in the Optuna study either. The figure states how many
    complete trials it rests on and how many pruned ones it leaves out. A matplotlib ``Figure``, or None with fewer than
    ``MIN_COMPLETE`` complete trials, or when Optuna cannot compute it (e.g. one value per parameter)."""
    if not optuna_db.is_file():
        return None
    import optuna

    states = optuna.trial.TrialState
    try:
        study = optuna.load_study(study_name=study_name, storage=f"sqlite:///{optuna_db}")
        complete = [t for t in study.trials if t.state == states.COMPLETE]
        pruned = sum(t.state == states.PRUNED for t in study.trials)
        if len(complete) < MIN_COMPLETE:
            return None
        objectives = ["emotion metric", "Δemb"][: len(study.directions)]
        importances = [
            optuna.importance.get_param_importances(
                study,
                evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0),  # Optuna 5's default is PED-ANOVA
                target=_objective(i) if len(objectives) > 1 else None,
            )
            for i in range(len(objectives))
        ]
    except (RuntimeError, ValueError, KeyError, ZeroDivisionError):  # e.g. a parameter with a single value
        return None
    if not any(importances):
        return None
    plt = _pyplot()
    names = sorted({n for imp in importances for n in imp}, key=lambda n: importances[0].get(n, 0.0))
    fig, axes = plt.subplots(1, len(objectives), figsize=(5 * len(objectives), 0.8 + 0.45 * len(names)), squeeze=False)
    for ax, objective, importance in zip(axes[0], objectives, importances, strict=True):
        ax.barh(names, [importance.get(n, 0.0) for n in names])
        ax.set_xlabel(f"importance (fANOVA) for the {objective}")
    fig.suptitle(f"Parameter importance over {len(complete)} complete trials ({pruned} pruned left out)")
    return fig


def importance_plot(optuna_db: Path, study_name: str, path: Path) -> Path | None:
    """:func:`importance_figure` written to ``path`` (PNG, atomically); None when there is none."""
    fig = importance_figure(optuna_db, study_name)
    if fig is None:
        return None
    plt = _pyplot()
    path = _save(fig, path)
    plt.close(fig)
    return path


MIN_COMPLETE = 2
"""The fewest complete trials an importance plot is drawn from."""


def _objective(index: int) -> Callable[[Any], float]:
    """Optuna's ``target`` for one objective of a multi-objective trial."""
    return lambda trial: trial.values[index]
