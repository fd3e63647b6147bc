"""The comparison test of raysweep's tables: a paired bootstrap over evaluation examples, with training
seeds as a second level.

Every method of a study is scored on the same evaluation examples (paired draws), so the difference
of two methods' figures varies for two reasons: which examples the evaluation happened to draw, and
which training seed each method's models happened to get. :func:`paired_test` estimates both:

* **seeds**: the figures of each method's seeds on the full example set give the variance of each
  seed mean, ``s²_A / n_A`` and ``s²_B / n_B`` (a method run once, such as PLM, contributes none);
  this already holds each seed's own share of the example noise (its models get some examples
  right that the other seeds' get wrong);
* **examples**: ``n_boot`` resamples of the example indices, shared by the two methods (the pairing),
  give the variance of the seed-averaged difference over evaluation samples, from which the
  seed-specific share (the spread of the resampled figures around their seed mean, divided by the
  number of seeds) is subtracted, so it is not counted twice: ``var_examples`` is what the
  methods' seeds have in common, which is what a new draw of examples would move;

and the difference is tested against a t distribution whose degrees of freedom come from the
Welch-Satterthwaite formula (the example part counts as known, the seed parts with ``n - 1`` each),
so that the test stays valid with two or three seeds, where a bootstrap of the seeds alone
underestimates their spread. Any figure can be tested, not only means: ``statistic`` recomputes it
from the resampled examples (AMI from labels and cluster assignments, macro-F1 from predictions).
A method without seed spread on either side and no example variance (identical figures) gets p = 1.

The tables apply Holm's step-down correction over the comparisons of each figure of one model
(:func:`holm`), so the stars of a column keep its family-wise error rate at α.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

Statistic = Callable[..., float]
"""``statistic(*arrays)`` -> a figure; each array's first axis is the evaluation example."""


@dataclass(frozen=True)
class PairedResult:
    """``delta`` = mean figure of A minus mean figure of B, its standard error, a 95 % interval and
    the two-sided p-value of "no difference"."""

    delta: float
    se: float
    df: float
    ci_low: float
    ci_high: float
    p_value: float


def paired_test(
    statistic: Statistic,
    a: Sequence[Sequence[np.ndarray]],
    b: Sequence[Sequence[np.ndarray]],
    n_boot: int = 400,
    seed: int = 0,
) -> PairedResult:
    """Test figure(A) = figure(B) where ``a`` and ``b`` hold, per training seed, the per-example
    arrays the figure is computed from (all runs on the same examples, in the same order)."""
    from scipy import stats

    if not a or not b:
        raise ValueError("each side needs at least one run")
    n = len(a[0][0])
    if any(len(arr) != n for run in (*a, *b) for arr in run):
        raise ValueError("every run must be scored on the same evaluation examples (paired draws)")
    full_a = np.array([statistic(*run) for run in a], dtype=float)
    full_b = np.array([statistic(*run) for run in b], dtype=float)
    delta = float(full_a.mean() - full_b.mean())

    rng = np.random.default_rng(seed)
    boots = np.empty(n_boot)
    idio = {"a": np.zeros(n_boot), "b": np.zeros(n_boot)}
    for i in range(n_boot):
        idx = rng.integers(0, n, n)
        per_a = np.array([statistic(*(x[idx] for x in run)) for run in a]) - full_a
        per_b = np.array([statistic(*(x[idx] for x in run)) for run in b]) - full_b
        boots[i] = per_a.mean() - per_b.mean()
        # each seed's own share of the example noise: already in that method's seed variance below
        idio["a"][i] = np.var(per_a, ddof=1) if len(per_a) > 1 else 0.0
        idio["b"][i] = np.var(per_b, ddof=1) if len(per_b) > 1 else 0.0
    var_examples = float(np.mean(boots**2)) if n_boot > 1 else 0.0
    for side, runs_ in (("a", full_a), ("b", full_b)):
        if len(runs_) > 1:
            var_examples -= float(idio[side].mean()) / len(runs_)
    var_examples = max(var_examples, 0.0)
    parts = [(float(np.var(f, ddof=1)) / len(f), len(f) - 1) for f in (full_a, full_b) if len(f) > 1]
    var_seeds = sum(v for v, _ in parts)
    var = var_examples + var_seeds
    if var <= 0 or not np.isfinite(var):
        same = abs(delta) < 1e-12
        return PairedResult(delta, 0.0, float("inf"), delta, delta, 1.0 if same else 0.0)
    denominator = sum(v**2 / d for v, d in parts if d > 0)
    df = var**2 / denominator if denominator > 0 else float("inf")
    se = float(np.sqrt(var))
    t = stats.t(df) if np.isfinite(df) else stats.norm()
    p = float(2 * t.sf(abs(delta) / se))
    half = float(t.ppf(0.975)) * se
    return PairedResult(delta, se, float(df), delta - half, delta + half, p)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (step-down), in the input order; NaN stays NaN."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(len(p), np.nan)
    valid = np.flatnonzero(np.isfinite(p))
    order = valid[np.argsort(p[valid])]
    m = len(order)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out.tolist()


def mean_of(values: np.ndarray) -> float:
    """The statistic of a figure that is a mean over examples (MRR, P@1, MAP@R, Δemb, kNN overlap)."""
    return float(np.mean(values))
