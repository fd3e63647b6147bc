"""Write a study's results into the results folder: atomically, under a lock, so two studies that
share a folder never leave a torn or mixed file (each study also keeps its own copy under NAME/)."""

from __future__ import annotations

import fcntl
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from raysweep import atomic
from raysweep.config import RetrofitConfig
from raysweep.errors import RaysweepError
from raysweep.methods.registry import PROPOSED
from raysweep.methods.run_spec import RunSpec
from raysweep.model_card import Comparison, rewrite_model_card
from raysweep.results.comparisons import compare, p_vs_reference
from raysweep.results.leaderboard import build_leaderboard, build_trials_table, describe_run
from raysweep.results.pareto import DRIFT, full_fidelity, hypervolume, pareto_front, reference_drift
from raysweep.results.plots import hyperparameter_plot, importance_plot, pareto_plot
from raysweep.results.records import TrialRecord
from raysweep.results.study_records import RECORDS, StudyRecords, export, from_storage
from raysweep.results.tables import comparison_markdown
from raysweep.storage import portable


@contextmanager
def locked(folder: Path) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".raysweep.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_results(
    study_root: str,
    results_dir: Path,
    name: str,
    base: RetrofitConfig,
    metric: str,
    extra: dict[str, Any] | None = None,
    records: StudyRecords | None = None,
    export_records: bool | None = None,
) -> dict[str, Path]:
    """Rebuild every results file of study ``name`` from its storage (``study_root``) or from ``records``
    (a slim export, :func:`raysweep.results.study_records.from_export`); returns the files written.
    A rebuild from storage also writes the slim export, ``results/NAME/records/`` (``export_records``:
    whether to write it; default: only from storage, since an export rebuilt from itself adds nothing;
    a study carried over from its export, :mod:`raysweep.results.carried_study`, writes the merged one).

    Refuses (nothing written) a storage that holds no trials at all, and one that holds fewer finished
    runs or search trials than the study's tables it would replace (a wrong or damaged storage must
    not turn good tables into empty ones).
    """
    study_dir = results_dir / name
    from_store = records is None if export_records is None else export_records
    if records is None:
        records = from_storage(study_root, study_dir)
    search, finals = records.search, records.finals
    if not search and not finals:
        raise RaysweepError(
            f"no trials of study {name} could be read from {study_root} (missing or unreadable search/ and "
            "final/); check --storage and --name; the results files were left as they are"
        )
    front = {t["trial_id"] for t in pareto_front(search, metric)}
    tests = compare(finals, records.models_dir, lambda spec: describe_run(spec, base)["model"])
    board = build_leaderboard(finals, base, p_vs_reference(tests))
    trials = build_trials_table(search, front)
    check_not_shrinking(study_dir, board, trials, study_root)
    quality = front_quality(search, metric, records.plm_dev)
    written: dict[str, Path] = {}
    with locked(results_dir):
        for folder in (study_dir, results_dir):
            files = {
                "leaderboard": folder / "leaderboard.csv",
                "trials": folder / "trials.csv",
                "comparison": folder / "comparison.md",
            }
            atomic.write_text(files["leaderboard"], board.to_csv(index=False, float_format="%.6g"))
            atomic.write_text(files["trials"], trials.to_csv(index=False, float_format="%.6g"))
            atomic.write_text(files["comparison"], comparison_markdown(board, f"raysweep study {name}"))
            if not tests.empty:
                files["comparisons"] = folder / "comparisons.csv"
                atomic.write_text(files["comparisons"], tests.to_csv(index=False, float_format="%.6g"))
            written.update({f"{folder.name}/{k}": v for k, v in files.items()})
            for key, path in (
                ("pareto", pareto_plot(search, metric, folder / "pareto.png", quality or None)),
                ("hyperparameters", hyperparameter_plot(search, metric, folder / "lambda_tau.png")),
                ("importance", importance_plot(study_dir / "optuna.db", name, folder / "importance.png")),
            ):
                if path is not None:
                    written[f"{folder.name}/{key}"] = path
        # a rebuild keeps what only the run knew (phase timings, picks) from the study's earlier summary
        previous = study_dir / "study.json"
        try:
            kept = json.loads(previous.read_text()) if previous.is_file() else {}
        except (OSError, ValueError):
            kept = {}
        summary = {
            **kept,
            "study": name,
            **({"storage": portable(study_root)} if study_root else {}),
            "search_trials": len(search),
            "final_runs": len(finals),
            "pareto_trial_ids": sorted(front),
            **(extra or {}),
        }
        phases = final_phases(finals, records.models_dir)
        if phases:
            summary["final_phases"] = phases
        if quality:
            summary["front"] = quality
        atomic.write_text(study_dir / "study.json", json.dumps(portable(summary), indent=2, default=str))
        written[f"{name}/study"] = study_dir / "study.json"
        if from_store:  # a rebuild from an export has nothing new to export (unless carried: merged)
            written[f"{name}/records"] = export(records, study_dir / RECORDS)
    return written


def _rows(path: Path, column: str | None = None) -> int:
    """Rows of an earlier CSV (or the sum of ``column``); 0 when there is none or it is unreadable."""
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError):
        return 0
    if column is None:
        return len(frame)
    return int(pd.to_numeric(frame.get(column, pd.Series(dtype=float)), errors="coerce").fillna(0).sum())


def check_not_shrinking(study_dir: Path, board: pd.DataFrame, trials: pd.DataFrame, study_root: str) -> None:
    """Raise unless the rebuilt tables hold at least the runs of the study's current ones."""
    had_runs = _rows(study_dir / "leaderboard.csv", "n_seeds")
    has_runs = int(board["n_seeds"].sum()) if "n_seeds" in board else 0
    had_trials, has_trials = _rows(study_dir / "trials.csv"), len(trials)
    if has_runs < had_runs or has_trials < had_trials:
        raise RaysweepError(
            f"{study_root} holds {has_runs} finished final runs and {has_trials} search trials, fewer than the "
            f"{had_runs} and {had_trials} in {study_dir}'s tables; check --storage and --name (the tables were "
            "left as they are), or move those tables away to rebuild from this storage"
        )


def front_quality(search: list[TrialRecord], metric: str, plm_dev: Path) -> dict[str, Any]:
    """How good the search's front is: its hypervolume over full-fidelity trials, with the reference
    point at (PLM's dev metric, the dev Δemb of the λ = 0 point, else the largest of a full-fidelity
    trial: ``pareto.reference_drift``), and the two ends of the front; {} without PLM's dev figures or
    a multi-objective front."""
    try:
        plm = json.loads(plm_dev.read_text())[metric]
    except (OSError, ValueError, KeyError):
        return {}
    full = [t for t in full_fidelity(search, metric) if t["result"].get(DRIFT) is not None]
    if not full:
        return {}
    worst = reference_drift(full)
    if worst is None:
        return {}
    front = pareto_front(full, metric)
    return {
        "hypervolume": hypervolume(full, metric, (float(plm), worst)),
        "reference": {metric: float(plm), DRIFT: worst},
        "full_fidelity_trials": len(full),
        "front_trial_ids": [t["trial_id"] for t in front],
        "least_drift": {metric: front[0]["result"][metric], DRIFT: front[0]["result"][DRIFT]},
        "most_aware": {metric: front[-1]["result"][metric], DRIFT: front[-1]["result"][DRIFT]},
    }


def final_phases(finals: list[TrialRecord], models_dir: Path) -> dict[str, Any]:
    """Wall time of the final runs by method, split into training and evaluation (of which fine-tuning),
    from each run's Tune time and its exported ``evaluation.json``; {} where the models are not here."""
    by_method: dict[str, dict[str, float]] = {}
    for trial in finals:
        spec = (trial.get("config") or {}).get("spec") or {}
        if "method" not in spec:
            continue
        path = models_dir / RunSpec.from_dict(spec).folder / "evaluation.json"
        total = (trial.get("result") or {}).get("time_total_s")
        if total is None or not path.is_file():
            continue
        figures = json.loads(path.read_text())
        evaluation = float(figures.get("wall_s", 0.0))
        finetune = sum(float(t.get("finetune", {}).get("wall_s", 0.0)) for t in figures.get("downstream", {}).values())
        row = by_method.setdefault(spec["method"], {"runs": 0, "train_s": 0.0, "evaluation_s": 0.0, "finetune_s": 0.0})
        row["runs"] += 1
        row["train_s"] += max(float(total) - evaluation, 0.0)
        row["evaluation_s"] += evaluation
        row["finetune_s"] += finetune
    return {m: {k: round(v, 1) for k, v in row.items()} for m, row in sorted(by_method.items())}


def export_best(finals: list[TrialRecord], results_dir: Path, metric: str) -> Path | None:
    """Copy the best emo model to ``results/best_model/``, atomically: the configuration with the
    highest mean dev ``metric`` over its seeds (the final runs' own dev figures; never a test
    figure), its lowest seed. None when no emo run reported the dev figure."""
    emo = [
        t
        for t in finals
        if t["status"] == "TERMINATED" and t["result"].get("method") == PROPOSED and t["result"].get(metric) is not None
    ]
    if not emo:
        return None
    by_config: dict[str, list[TrialRecord]] = {}
    for t in emo:
        by_config.setdefault(t["result"]["config_id"], []).append(t)

    def score(runs: list[TrialRecord]) -> float:
        return sum(float(r["result"][metric]) for r in runs) / len(runs)

    runs = max(by_config.values(), key=score)
    model_dir = min(runs, key=lambda r: r["result"]["seed"])["result"].get("model_dir")
    source = Path(model_dir) if model_dir else None
    if source is None or not source.is_dir():  # a run carried over from an export has no weights here
        return None
    target = results_dir / "best_model"
    with locked(results_dir), atomic.directory(target) as tmp:
        shutil.copytree(source, tmp, dirs_exist_ok=True)
    board_path = results_dir / "leaderboard.csv"
    if board_path.is_file():  # the card gets the study's test figures beside PLM's
        comparison = card_comparison(pd.read_csv(board_path), str(runs[0]["result"]["config_id"]))
        if comparison is not None:
            try:
                rewrite_model_card(target, comparison)
            except RaysweepError as err:  # the model stays exported with its training card
                print(f"[raysweep] best model card kept without test figures: {err}", flush=True)
    return target


def card_comparison(board: pd.DataFrame, config_id: str) -> Comparison | None:
    """The test figures of the emo configuration ``config_id`` beside PLM's (same model), with the
    study's markers, for the best model's card; None when the leaderboard lacks either row."""
    import math

    from raysweep.methods.registry import REFERENCE
    from raysweep.results.comparisons import ALPHA, CORRECTION, TEST_NAME

    if board.empty:
        return None
    emo = board[(board["method"] == PROPOSED) & (board["config_id"].astype(str) == config_id)]
    if emo.empty:
        return None
    row = emo.iloc[0]
    plm = board[(board["method"] == REFERENCE) & (board["model"] == row["model"])]
    if plm.empty:
        return None
    ref = plm.iloc[0]
    metrics: dict[str, tuple[float, float, str]] = {}
    for column in (c[: -len("_mean")] for c in board.columns if c.endswith("_mean")):
        if column == "train_samples":
            continue
        p_value = row.get(f"{column}_p", float("nan"))
        marker = "*" if isinstance(p_value, float) and not math.isnan(p_value) and p_value < ALPHA else ""
        metrics[column] = (float(row[f"{column}_mean"]), float(ref[f"{column}_mean"]), marker)
    legend = f"`*`: p < {ALPHA:g} in a {TEST_NAME}, adjusted by {CORRECTION}"
    return {"metrics": metrics, "test": TEST_NAME, "legend": legend, "method": "Emo", "seeds": int(row["n_seeds"])}
