"""Evaluation cost: embedding throughput of the packaged MiniLM vs the metric step at GoEmotions size.

    python bench/eval_throughput.py --data-dir ../shared/data [--sample 1024] [--model minilm]

Embeds a seeded sample of single-label GoEmotions texts (texts/s; the time for all 45,446 rows is
extrapolated from it) in fp32 and in bf16 autocast, side by side in one run (rounds alternate between
the two, the median of each is kept) with the bf16/fp32 throughput ratio and the largest cosine
distance between the two embeddings of a text, and in text order (batches not length-sorted) for the
length sort's gain; then times the metric step on 45,446 random 384-d embeddings carrying the
real label distribution, all at full size: k-means + AMI/ARI/FMS, Δemb on the 1,000-text drift
sample, and retrieval (MRR, P@1, exact MAP@R in row blocks: ``raysweep.metrics.retrieval``). For
comparison it also times PML's AccuracyCalculator (k = max_bin_count, which holds an n x max_bin_count
neighbour table) on the 4,590-row test split. The reference figure beside each metric is the
embedding time of the same rows: ratio = metric time / embedding time. About two minutes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import emit, machine  # noqa: E402
from raysweep.data.goemotions import load_goemotions
from raysweep.data.tokenized import tokenize
from raysweep.metrics.clustering import clustering_metrics
from raysweep.metrics.drift import drift_metrics
from raysweep.metrics.retrieval import retrieval_metrics
from raysweep.models.embed import embed_tokens, embedding_precision
from raysweep.models.encoder import PooledEncoder, load_encoder, load_tokenizer


def timed(fn, *args, **kwargs) -> float:
    t0 = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None, help="folder holding goemotions/ (or $RAYSWEEP_DATA_DIR)")
    p.add_argument("--model", default="minilm")
    p.add_argument("--sample", type=int, default=1024, help="texts embedded to measure throughput")
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--rounds", type=int, default=3, help="alternating fp32/bf16 rounds (median kept)")
    p.add_argument("--out", default=None, help="also write the figures as JSON here (with the machine)")
    a = p.parse_args()

    data = load_goemotions(a.data_dir)
    texts = data.train.texts + data.dev.texts + data.test.texts
    labels = np.concatenate([data.train.labels, data.dev.labels, data.test.labels])
    n = len(texts)
    rng = np.random.default_rng(0)
    sample = [texts[i] for i in rng.choice(n, size=min(a.sample, n), replace=False)]

    print(f"torch threads {torch.get_num_threads()}, {n} single-label GoEmotions texts")
    tokenizer = load_tokenizer(a.model)
    t_tok = timed(tokenize, tokenizer, sample, a.max_length, f"bench-{len(sample)}-{time.time()}")
    tokens = tokenize(tokenizer, sample, a.max_length)
    encoder = PooledEncoder(load_encoder(a.model), "cls")
    embed_tokens(encoder, tokens, np.arange(min(128, len(sample))))  # warm-up
    embed_tokens(encoder, tokens, np.arange(min(128, len(sample))), precision="bf16")
    times: dict[str, list[float]] = {"fp32": [], "bf16": [], "unsorted": []}
    out: dict[str, np.ndarray] = {}
    for _ in range(a.rounds):
        for precision in ("fp32", "bf16"):
            t0 = time.perf_counter()
            out[precision] = embed_tokens(encoder, tokens, batch_size=128, precision=precision)
            times[precision].append(time.perf_counter() - t0)
        times["unsorted"].append(timed(embed_in_text_order, encoder, tokens, 128))
    rates = {k: len(sample) / float(np.median(v)) for k, v in times.items()}
    rate = max(rates["fp32"], rates["bf16"])
    full_embed = n / rate + t_tok * n / len(sample)
    cos = np.sum(out["fp32"] * out["bf16"], 1) / (
        np.linalg.norm(out["fp32"], axis=1) * np.linalg.norm(out["bf16"], axis=1)
    )
    batches = f"batch 128, median of {a.rounds} rounds"
    for precision in ("fp32", "bf16"):
        print(
            f"embedding ({a.model}, cls, {precision}, max_length {a.max_length}): {rates[precision]:.0f} texts/s "
            f"on {len(sample)} texts ({batches})"
        )
    print(
        f"  bf16/fp32 throughput ratio {rates['bf16'] / rates['fp32']:.2f}; "
        f"largest cosine distance fp32 vs bf16 {float(np.max(1 - cos)):.2e}"
    )
    print(
        f"  fp32 in text order (no length sort) {rates['unsorted']:.0f} texts/s: "
        f"length-sort gain {rates['fp32'] / rates['unsorted']:.2f}x"
    )
    print(f"  tokenising: {len(sample) / t_tok:.0f} texts/s; all {n} texts: ~{full_embed:.0f} s (extrapolated)")

    x = rng.normal(size=(n, 384)).astype(np.float32)
    t_cluster = timed(clustering_metrics, x, labels, 0)
    drift_x = x[:1000]
    t_drift = timed(drift_metrics, drift_x, drift_x + 0.1 * rng.normal(size=drift_x.shape).astype(np.float32))
    t_retrieval = timed(retrieval_metrics, x, labels)
    print(f"clustering (k-means k={labels.max() + 1} + AMI/ARI/FMS) at {n}: {t_cluster:.1f} s")
    print(f"Δemb + kNN overlap on 1000 texts: {t_drift:.2f} s")
    r = np.bincount(labels).max() - 1
    print(f"retrieval (MRR, P@1, exact MAP@R; largest class R = {r}) at {n}: {t_retrieval:.1f} s")
    metrics = t_cluster + t_drift + t_retrieval
    print(f"metric step at {n}: {metrics:.0f} s vs embedding ~{full_embed:.0f} s: ratio {metrics / full_embed:.2f}")
    test_n = len(data.test)
    rows = rng.choice(n, size=test_n, replace=False)
    t_ours = timed(retrieval_metrics, x[rows], labels[rows])
    t_pml = timed(pml_retrieval, x[rows], labels[rows])
    print(f"retrieval at the {test_n}-row test split: {t_ours:.2f} s vs PML AccuracyCalculator {t_pml:.2f} s")
    test_ratio = (t_cluster * test_n / n + t_ours) / (test_n / rate)
    print(f"metric step at the {test_n}-row test split (the suite's emotion set): ratio {test_ratio:.2f}")
    auto = embedding_precision("auto", "cpu")
    print(f"evaluation.precision auto on this CPU: {auto}")
    if a.out:
        figures = {
            "texts_per_s": {k: round(v, 1) for k, v in rates.items()},
            "bf16_vs_fp32": round(rates["bf16"] / rates["fp32"], 3),
            "max_cosine_distance": float(np.max(1 - cos)),
            "length_sort_gain": round(rates["fp32"] / rates["unsorted"], 3),
            "metric_vs_embedding": {"full": round(metrics / full_embed, 3), "test_split": round(test_ratio, 3)},
            "auto_on_cpu": auto,
            "sample": len(sample),
            "rounds": a.rounds,
            "threads": torch.get_num_threads(),
        }
        emit({**figures, "machine": machine(), "measured": time.strftime("%Y-%m-%dT%H:%M:%S%z")}, a.out)


def embed_in_text_order(encoder: PooledEncoder, tokens, batch_size: int) -> np.ndarray:
    """fp32 embeddings in batches of consecutive rows (each padded to its own longest): no length sort."""
    chunks = [np.arange(i, min(i + batch_size, len(tokens))) for i in range(0, len(tokens), batch_size)]
    return np.concatenate([embed_tokens(encoder, tokens, rows, batch_size=batch_size) for rows in chunks])


def pml_retrieval(x: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    from pytorch_metric_learning.distances import CosineSimilarity
    from pytorch_metric_learning.utils.accuracy_calculator import AccuracyCalculator
    from pytorch_metric_learning.utils.inference import CustomKNN

    include = ("mean_reciprocal_rank", "precision_at_1", "mean_average_precision_at_r")
    calc = AccuracyCalculator(include=include, k="max_bin_count", knn_func=CustomKNN(CosineSimilarity(), 2048))
    emb, lab = torch.from_numpy(x), torch.from_numpy(labels)
    return calc.get_accuracy(emb, lab, emb, lab, ref_includes_query=True)


if __name__ == "__main__":
    main()
