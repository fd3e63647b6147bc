"""Final-run records -> the leaderboard: one row per method x configuration, mean and std over seeds.

Columns are documented in ``results/README.md``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from raysweep.config import RetrofitConfig
from raysweep.methods.method import SETTINGS
from raysweep.methods.registry import order, parse_method
from raysweep.methods.run_spec import RunSpec
from raysweep.results.records import TrialRecord
from raysweep.tune.space import apply_params

EMOTION = ["ami", "ari", "fms", "mrr", "p_at_1", "map_at_r"]
DRIFT = ["delta_emb", "knn_overlap"]
BUDGET = ["train_samples"]
"""Samples each run trained on (steps x global batch): the budgets a comparison must hold equal."""
NA = "-"
"""Written where a setting does not apply to a method (λ of a baseline, say)."""


def metric_columns(records: list[TrialRecord]) -> list[str]:
    seen: list[str] = []
    for r in records:
        for k in r["result"]:
            if k.endswith(("_f1",)) and not k.startswith("dev_") and k not in seen:  # test figures only
                seen.append(k)
    downstream = sorted(seen, key=_downstream_order)
    present = {k for r in records for k in r["result"]}
    return [k for k in EMOTION + DRIFT if k in present] + downstream + [k for k in BUDGET if k in present]


def _downstream_order(column: str) -> tuple:
    """task, then probe, few-shot by k, fine-tune."""
    task, _, rest = column.partition("_")
    if rest.startswith("probe"):
        return (task, 0, 0, rest)
    if rest.startswith("fewshot_k"):
        return (task, 1, int(rest.split("_")[1][1:]), rest)
    return (task, 2, 0, rest)


def describe_run(spec: dict[str, Any], base: RetrofitConfig) -> dict[str, Any]:
    """The run's identity and the settings columns its method fills (``-`` where one does not apply)."""
    run = RunSpec.from_dict(spec)
    chosen = parse_method(run.method)
    cfg = chosen.method.config(apply_params(base, run.params), chosen.arg)
    values = {
        "lam": cfg.loss.lam,
        "tau": cfg.loss.tau,
        "head": cfg.model.head,
        "sampler": cfg.sampler.kind,
        "lr": cfg.train.lr,
    }
    row: dict[str, Any] = {"method": run.method, "config_id": run.config_id, "model": cfg.model.name}
    row.update({k: values[k] if k in chosen.method.settings else NA for k in SETTINGS})
    return row


def build_leaderboard(
    final_trials: list[TrialRecord],
    base: RetrofitConfig,
    p_values: dict[tuple[str, str, str], float] | None = None,
) -> pd.DataFrame:
    """One row per (model, method, configuration): settings, seeds, and per metric its mean and std
    over seeds and, given ``p_values`` (``(method, config_id, metric) -> p``, see
    :mod:`raysweep.results.comparisons`), the Holm-adjusted p-value of the paired test against PLM;
    ``*_collapsed`` columns give the share of seeds whose classifier predicted one class only."""
    done = [t for t in final_trials if t["status"] == "TERMINATED" and "method" in t["result"]]
    columns = metric_columns(done)
    collapsed = sorted({k for t in done for k in t["result"] if k.endswith("_collapsed")})
    groups: dict[tuple[str, str, str], list[TrialRecord]] = {}
    for t in done:
        spec = t["config"]["spec"]
        groups.setdefault((describe_run(spec, base)["model"], spec["method"], spec["config_id"]), []).append(t)
    rows = []
    for trials in groups.values():
        trials.sort(key=lambda t: t["config"]["spec"]["seed"])
        row = describe_run(trials[0]["config"]["spec"], base)
        row["seeds"] = ";".join(str(t["config"]["spec"]["seed"]) for t in trials)
        row["n_seeds"] = len(trials)
        for col in columns:
            values = np.array([t["result"].get(col, np.nan) for t in trials], dtype=float)
            row[f"{col}_mean"] = float(np.nanmean(values)) if np.isfinite(values).any() else np.nan
            finite = int(np.isfinite(values).sum())
            # NaN: a figure only some seeds have, from one of them (evaluation.finetune_seeds), has no spread
            spread = float(np.nanstd(values, ddof=1)) if finite > 1 else np.nan
            row[f"{col}_std"] = 0.0 if len(trials) == 1 else spread
            if p_values:
                row[f"{col}_p"] = p_values.get((row["method"], row["config_id"], col), np.nan)
        for col in collapsed:
            values = np.array([t["result"].get(col, np.nan) for t in trials], dtype=float)
            row[col] = float(np.nanmean(values)) if np.isfinite(values).any() else np.nan
        row["trial_ids"] = ";".join(t["trial_id"] for t in trials)
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    frame["_order"] = frame["method"].map(order)
    frame = frame.sort_values(["model", "_order", "config_id"]).drop(columns="_order").reset_index(drop=True)
    return frame


def build_trials_table(search_trials: list[TrialRecord], front_ids: set[str]) -> pd.DataFrame:
    """Every search trial: its parameters, last dev metrics, status, and whether it is on the front."""
    rows = []
    for t in search_trials:
        r = t["result"]
        row = {"trial_id": t["trial_id"], "status": "diverged" if r.get("diverged") else t["status"].lower()}
        row.update({f"param:{k}": v for k, v in sorted(t["config"].items())})
        for k in (
            "training_iteration",
            "step",
            "dev_p_at_1",
            "dev_map_at_r",
            "dev_mrr",
            "dev_ami",
            "dev_ari",
            "dev_fms",
            "dev_delta_emb",
            "train_loss",
            "samples_per_s",
        ):
            row[k] = r.get(k)
        row["pareto"] = t["trial_id"] in front_ids
        row["reason"] = r.get("failure_reason") or t.get("error") or ""
        rows.append(row)
    return pd.DataFrame(rows)
