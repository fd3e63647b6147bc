"""``comparison.md``: Emo vs PLM vs TLearn vs MTL (and SCL, λ = 0) per model, paper style, with
deltas against PLM and the paired test's marker on each delta (``raysweep.results.comparisons``)."""

from __future__ import annotations

import pandas as pd

from raysweep.methods.registry import REFERENCE, parse_method
from raysweep.results.comparisons import ALPHA, CORRECTION, TEST_NAME, own_task

LOWER_IS_BETTER = {"delta_emb"}
COUNTS = {"train_samples"}
"""Columns that count (shown as whole numbers, with a spread only where the seeds differ)."""


def _fmt(mean: float, std: float, n: int, metric: str = "") -> str:
    if pd.isna(mean):
        return "–"
    if metric in COUNTS:
        return f"{mean:.0f} ± {std:.0f}" if n > 1 and std > 0 else f"{mean:.0f}"
    return f"{mean:.3f} ± {std:.3f}" if n > 1 and pd.notna(std) else f"{mean:.3f}"


def comparison_markdown(board: pd.DataFrame, title: str = "") -> str:
    if board.empty:
        return f"# {title or 'Comparison'}\n\nNo finished final runs yet.\n"
    metrics = [c[: -len("_mean")] for c in board.columns if c.endswith("_mean") and _shown(c[: -len("_mean")])]
    tested = any(c.endswith("_p") for c in board.columns)
    marker = (
        f"`*` marks a delta whose test rejects no difference at α = {ALPHA:g}: {TEST_NAME}, p-values adjusted "
        f"by {CORRECTION} (every test, with its interval, in comparisons.csv)"
        if tested
        else "no per-example outputs were saved for these runs, so no delta is tested (no `*`)"
    )
    lines = [
        f"# {title or 'Comparison'}",
        "",
        "Mean ± std over seeds (std omitted for one seed). Δ rows: difference to PLM; " + marker + ". `†`: "
        "a figure from a classifier that predicted one class only (in some seed). For Δemb lower is "
        "better; for every other column higher is better. `·`: an MTL model on another task than its own.",
        "",
    ]
    for model, group in board.groupby("model", sort=False):
        lines += [f"## {model}", ""]
        header = "| method | λ | τ | head | sampler | seeds | " + " | ".join(metrics) + " |"
        lines += [header, "|" + "---|" * (6 + len(metrics))]
        plm = group[group["method"] == REFERENCE]
        for _, row in group.iterrows():
            name = parse_method(row["method"]).label + (
                "" if row["config_id"] in ("base", "c0") else f" [{row['config_id']}]"
            )
            cells = [
                _fmt(row[f"{m}_mean"], row[f"{m}_std"], row["n_seeds"], m) + _collapsed(row, m)
                if own_task(row["method"], m)
                else "·"
                for m in metrics
            ]
            setting = [_short(row[k]) for k in ("lam", "tau", "head", "sampler")]
            lines.append(f"| {name} | " + " | ".join(setting) + f" | {row['n_seeds']} | " + " | ".join(cells) + " |")
            if row["method"] != REFERENCE and not plm.empty:
                base = plm.iloc[0]
                deltas = []
                for m in metrics:
                    if not own_task(row["method"], m):
                        deltas.append("·")
                        continue
                    d = row[f"{m}_mean"] - base[f"{m}_mean"]
                    p = row.get(f"{m}_p", float("nan"))
                    mark = "*" if pd.notna(d) and pd.notna(p) and float(p) < ALPHA else ""
                    # +0.000 for a zero however it rounds (-0.000 from float noise reads as a loss)
                    deltas.append("–" if pd.isna(d) else f"{d:+.3f}".replace("-0.000", "+0.000") + mark)
                lines.append("| Δ vs PLM | | | | | | " + " | ".join(deltas) + " |")
        lines.append("")
    return "\n".join(lines) + "\n"


def _collapsed(row: pd.Series, metric: str) -> str:
    """``†`` when the figure comes from a classifier that predicted one class only in some seed."""
    stem = metric.removesuffix("_f1")
    task, _, rest = stem.partition("_")
    for column in (f"{stem}_collapsed", f"{task}_{rest.split('_')[0]}_collapsed"):
        value = row.get(column)
        if value is not None and pd.notna(value) and float(value) > 0:
            return " †"
    return ""


def _shown(metric: str) -> bool:
    """The paper's columns: emotion and drift metrics, probe and fine-tune F1, few-shot at k = 8 and 64
    (every other figure is in leaderboard.csv)."""
    if "_fewshot_" in metric:
        return metric.endswith(("_k8_f1", "_k64_f1"))
    return not metric.endswith("_pos_f1")


def _short(value) -> str:
    """A setting in 3 significant digits, whether it comes as a number or as text (leaderboard.csv)."""
    try:
        return f"{float(value):.3g}"
    except (TypeError, ValueError):
        return str(value)
