"""comparison.md's cells: figures as mean ± std over seeds, counts as whole numbers."""

from __future__ import annotations

from raysweep.results.tables import _fmt


def test_figures_carry_their_seed_spread_and_counts_are_whole_numbers() -> None:
    assert _fmt(0.12345, 0.0021, 3) == "0.123 ± 0.002"
    assert _fmt(0.12345, 0.0, 1) == "0.123"
    assert _fmt(1280.0, 0.0, 2, "train_samples") == "1280"  # equal budgets: no "± 0.000"
    assert _fmt(1280.0, 64.0, 2, "train_samples") == "1280 ± 64"
    assert _fmt(float("nan"), 0.0, 2) == "–"
    assert _fmt(0.61234, float("nan"), 3) == "0.612"  # a figure only one of the 3 seeds has (finetune_seeds)
