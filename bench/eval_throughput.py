"""Evaluation cost: embedding throughput of the packaged MiniLM vs the metric step at GoEmotions size.

    python bench/eval_throughput.py --data-dir ../shared/data [--sample 1024] [--model minilm]

Embeds a seeded sample of single-label GoEmotions texts (texts/s; the time for all 45,446 rows is
extrapolated from it), then times the metric step on 45,446 random 384-d embeddings carrying the
real label distribution, all at full size: k-means + AMI/ARI/FMS, Δemb on the 1,000-text drift
sample, and retrieval (MRR, P@1, exact MAP@R in row blocks: ``raysweep.metrics.retrieval``). For
comparison it also times PML's AccuracyCalculator (k = max_bin_count, which holds an n x max_bin_count
neighbour table) on the 4,590-row test split. The reference figure beside each metric is the
embedding time of the same rows: ratio = metric time / embedding time. About two minutes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from raysweep.data.goemotions import load_goemotions
from raysweep.data.tokenized import tokenize
from raysweep.metrics.clustering import clustering_metrics
from raysweep.metrics.drift import drift_metrics
from raysweep.metrics.retrieval import retrieval_metrics
from raysweep.models.embed import embed_tokens
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
    t_emb = timed(embed_tokens, encoder, tokens, batch_size=128)
    rate = len(sample) / t_emb
    full_embed = n / rate + t_tok * n / len(sample)
    print(f"embedding ({a.model}, cls, fp32, max_length {a.max_length}): {rate:.0f} texts/s on {len(sample)} texts")
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
