"""Paired comparisons of a study's final runs, the tests behind the markers of ``comparison.md``.

For each model name of the study, every method is compared with PLM (the reference), and the
proposed method (Emo) with every other trained method (SCL on the same configuration, TLearn, each
MTL), on every figure both have, with :func:`raysweep.metrics.paired.paired_test` (a paired
bootstrap over the evaluation examples with training seeds as a second level) on the per-example
outputs each run saved (``evaluation.npz``, see ``results/README.md``). The p-values are adjusted
with Holm's step-down procedure over the comparisons of one figure of one model (each column of the
table is one family: every method against PLM, Emo against SCL, TLearn and each MTL on that figure),
which keeps the chance of any false star in a column at α. A family of every figure of a model at once
(over a hundred tests in a study with every baseline and task) left a p = 0.002 AMI gain unstarred:
the tables answer one question per figure, and a reader compares along a column.
``comparisons.csv`` holds every row, and the leaderboard carries each method's Holm-adjusted p-value
against PLM.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from raysweep.errors import RaysweepError
from raysweep.methods.registry import LAMBDA_ZERO_CONFIG, PROPOSED, REFERENCE, parse_method
from raysweep.methods.run_spec import RunSpec
from raysweep.metrics.clustering import SCORES
from raysweep.metrics.paired import holm, mean_of, paired_test
from raysweep.results.records import TrialRecord

ARRAYS = "evaluation.npz"
FIGURES = "evaluation.json"
TEST_NAME = "paired bootstrap over evaluation examples with training seeds as a second level (Welch df)"
CORRECTION = "Holm over the comparisons of each figure of a model"
ALPHA = 0.05
CLUSTERING_BOOT_DIVISOR = 4
"""The clustering figures estimate their example variance from ``n_boot // 4`` resamples: each one
recomputes the mean score of the 5 k-means runs of every seed, and AMI's expected mutual information
costs about 12 ms at the 4,590-row test split (28 classes). The bootstrap only estimates a variance
(the test's reference is a t distribution), so 50 resamples put it within about ±20 % (relative
standard error sqrt(2/50)); the other figures use all ``n_boot``."""


def _clustering(score: Callable[[np.ndarray, np.ndarray], float]) -> Callable[..., float]:
    """A clustering figure recomputed on resampled rows: the mean over the k-means runs (the columns of
    ``clusters``, rows x runs), as ``metrics.clustering.cluster_scores`` reports it."""

    def statistic(labels: np.ndarray, clusters: np.ndarray) -> float:
        runs = clusters if clusters.ndim == 2 else clusters[:, None]
        return float(np.mean([score(labels, runs[:, j]) for j in range(runs.shape[1])]))

    return statistic


def macro_f1(labels: np.ndarray, pred: np.ndarray, classes: int) -> float:
    """Macro-F1 over ``classes`` classes, a class never predicted nor present counting 0 (scikit-learn's
    ``f1_score(labels=range(classes), average="macro", zero_division=0)``), from one ``bincount``: the
    bootstrap recomputes it thousands of times."""
    confusion = np.bincount(labels * classes + pred, minlength=classes * classes).reshape(classes, classes)
    tp = np.diag(confusion).astype(float)
    denominator = confusion.sum(0) + confusion.sum(1)
    f1 = np.divide(2 * tp, denominator, out=np.zeros(classes), where=denominator > 0)
    return float(f1.mean())


class MacroF1:
    """The statistic of a probe / fine-tune / few-shot column: macro-F1, averaged over prediction
    columns (the few-shot draws), over a fixed number of classes."""

    def __init__(self, classes: int) -> None:
        self.classes = classes

    def __call__(self, labels: np.ndarray, pred: np.ndarray) -> float:
        columns = pred if pred.ndim == 2 else pred[:, None]
        return float(np.mean([macro_f1(labels, columns[:, j], self.classes) for j in range(columns.shape[1])]))


def statistic_for(column: str, classes: int = 2) -> tuple[list[str], Callable[..., float]] | None:
    """The npz keys and the function that recompute a leaderboard column from per-example outputs."""
    if column in SCORES:
        return ["emotion/labels", "emotion/clusters"], _clustering(SCORES[column])
    means = {
        "mrr": "emotion/rr",
        "p_at_1": "emotion/p_at_1",
        "map_at_r": "emotion/ap_at_r",
        "delta_emb": "drift/distance",
        "knn_overlap": "drift/overlap",
    }
    if column in means:
        return [means[column]], mean_of
    task, _, rest = column.partition("_")
    if rest == "probe_f1":
        return [f"{task}/test_labels", f"{task}/probe/pred"], MacroF1(classes)
    if rest == "finetune_f1":
        return [f"{task}/test_labels", f"{task}/finetune/pred"], MacroF1(classes)
    if rest.startswith("fewshot_") and rest.endswith("_f1"):
        shot = rest[len("fewshot_") : -len("_f1")]
        return [f"{task}/test_labels", f"{task}/fewshot/{shot}/pred"], MacroF1(classes)
    return None


def own_task(method: str, column: str) -> bool:
    """False for a downstream column of another task than the one a task-trained method (``mtl:TASK``)
    was trained with: an MTL model is shown and compared on its own task only."""
    from raysweep.data.tasks import task_name

    chosen = parse_method(method)
    found = statistic_for(column)
    if chosen.method.arg != "task" or not chosen.arg or found is None:
        return True
    first = found[0][0]
    return first.startswith(("emotion/", "drift/")) or first.split("/")[0] == task_name(chosen.arg)


def load_arrays(model_dir: Path) -> dict[str, np.ndarray] | None:
    """A run's per-example outputs with the example on the first axis; None when it saved none."""
    path = Path(model_dir) / ARRAYS
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as saved:
        arrays = {k: saved[k] for k in saved.files}
    for k, v in arrays.items():  # few-shot predictions and k-means runs are stored draws x examples
        if ("/fewshot/" in k or k == "emotion/clusters") and v.ndim == 2:
            arrays[k] = v.T
    return arrays


def embedded_in(model_dir: Path) -> str | None:
    """The precision a run's evaluation embedded in (its ``evaluation.json``); None when it records none."""
    path = Path(model_dir) / FIGURES
    try:
        precision = json.loads(path.read_text()).get("precision")
    except (OSError, ValueError, AttributeError):
        return None
    return precision if isinstance(precision, str) else None


def same_precision(precisions: set[str], what: str) -> None:
    """A ``RaysweepError`` when two runs of a comparison were embedded in different precisions: with
    ``evaluation.precision: auto`` on a cluster whose nodes differ (a GPU and a CPU node, or CPUs where
    bf16 does and does not pay) one method's figures would be bf16's and another's fp32's."""
    if len(precisions) > 1:
        raise RaysweepError(
            f"{what}: the runs' embeddings were computed in different precisions ({', '.join(sorted(precisions))}), "
            "so their figures are not comparable; set evaluation.precision to fp32 or bf16 (not auto) and "
            "score the runs again"
        )


def same_examples(key: str, runs: list[dict[str, np.ndarray]], what: str) -> None:
    """A ``RaysweepError`` unless every run's ``key`` (a labels array: the examples it was scored on)
    is the same: a paired test of runs scored on different draws (a study continued on another machine
    whose data differ, an evaluation setting changed on ``--resume``) would compare nothing."""
    if not key.endswith("labels"):
        return
    first = runs[0][key]
    if any(r[key].shape != first.shape or not np.array_equal(r[key], first) for r in runs[1:]):
        raise RaysweepError(
            f"{what}: the runs were scored on different {key.split('/')[0]} examples, so no paired test holds; "
            "score every run of a study with the same data folder and evaluation settings"
        )


def compare(
    finals: list[TrialRecord], models_dir: Path, model_of: Callable[[dict[str, Any]], str], n_boot: int = 200
) -> pd.DataFrame:
    """Every comparison row: model, method, config_id, versus (method, config_id), metric, delta, CI,
    p and Holm-adjusted p; empty when the runs saved no per-example outputs."""
    groups: dict[tuple[str, str, str], list[dict[str, np.ndarray]]] = {}
    precisions: dict[tuple[str, str, str], set[str]] = {}
    columns: set[str] = set()
    for trial in finals:
        if trial["status"] != "TERMINATED" or "method" not in trial["result"]:
            continue
        spec = RunSpec.from_dict(trial["config"]["spec"])
        recorded = trial["result"].get("model_dir")  # where the run wrote it (a rebuild elsewhere finds it)
        folder = Path(recorded) if recorded and Path(recorded).is_dir() else models_dir / spec.folder
        arrays = load_arrays(folder)
        if arrays is None:
            continue
        group = (model_of(trial["config"]["spec"]), spec.method, spec.config_id)
        groups.setdefault(group, []).append(arrays)
        recorded_precisions = precisions.setdefault(group, set())
        if precision := embedded_in(folder):
            recorded_precisions.add(precision)
        columns |= {k for k, v in trial["result"].items() if isinstance(v, (int, float))}
    rows: list[dict[str, Any]] = []
    for (model, method, config_id), runs in sorted(groups.items()):
        for (other_model, other, other_config), others in sorted(groups.items()):
            if other_model != model or (other, other_config) == (method, config_id):
                continue
            versus_reference = other.partition(":")[0] == REFERENCE and method.partition(":")[0] != REFERENCE
            proposed_vs_trained = (
                method == PROPOSED
                and other.partition(":")[0] != REFERENCE
                and parse_method(other).method.objective is not None
                and (not parse_method(other).method.from_pick or other_config in (config_id, LAMBDA_ZERO_CONFIG))
            )
            if not (versus_reference or proposed_vs_trained):
                continue
            same_precision(
                precisions[(model, method, config_id)] | precisions[(other_model, other, other_config)],
                f"{method} {config_id} vs {other} {other_config}",
            )
            for column in sorted(columns):
                found = statistic_for(column)
                if not (own_task(method, column) and own_task(other, column)):
                    continue
                if found is None:
                    continue
                keys, statistic = found
                # the seeds that have this figure (evaluation.finetune_seeds fine-tunes only the first ones)
                mine = [r for r in runs if all(k in r for k in keys)]
                theirs = [r for r in others if all(k in r for k in keys)]
                if not (mine and theirs):
                    continue
                same_examples(keys[0], mine + theirs, f"{method} {config_id} vs {other} {other_config}")
                if isinstance(statistic, MacroF1):
                    arrays = [r[k] for r in (*mine, *theirs) for k in keys]
                    statistic = MacroF1(int(max(a.max() for a in arrays)) + 1)
                boots = max(2, n_boot // CLUSTERING_BOOT_DIVISOR) if column in SCORES else n_boot
                result = paired_test(
                    statistic, [[r[k] for k in keys] for r in mine], [[r[k] for k in keys] for r in theirs], boots
                )
                rows.append(
                    {
                        "model": model,
                        "method": method,
                        "config_id": config_id,
                        "versus": other,
                        "versus_config_id": other_config,
                        "metric": column,
                        "delta": result.delta,
                        "ci_low": result.ci_low,
                        "ci_high": result.ci_high,
                        "p": result.p_value,
                        "n_seeds": len(mine),
                        "versus_n_seeds": len(theirs),
                    }
                )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    frame["p_holm"] = np.nan
    for _, index in frame.groupby(["model", "metric"]).groups.items():
        frame.loc[index, "p_holm"] = holm(frame.loc[index, "p"].tolist())
    return frame


def p_vs_reference(comparisons: pd.DataFrame) -> dict[tuple[str, str, str], float]:
    """``(method, config_id, metric) -> Holm-adjusted p`` of each method against PLM."""
    if comparisons.empty:
        return {}
    vs = comparisons[comparisons["versus"].str.partition(":")[0] == REFERENCE]
    return {(r.method, r.config_id, r.metric): float(r.p_holm) for r in vs.itertuples()}
