"""Δemb: 0 for the same model, growing as the weights are perturbed; hand cases."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from conftest import CUES, FILLER

from raysweep.data.tokenized import tokenize
from raysweep.metrics.drift import drift_metrics, per_text_drift
from raysweep.models.embed import embed_tokens
from raysweep.models.encoder import PooledEncoder, load_encoder, load_tokenizer


def test_hand_cases():
    x = np.random.default_rng(0).normal(size=(30, 8))
    assert drift_metrics(x, x) == pytest.approx({"delta_emb": 0.0, "knn_overlap": 1.0, "topology_drift": 0.0}, abs=1e-6)
    assert drift_metrics(x, -x)["delta_emb"] == pytest.approx(2.0, abs=1e-6)
    assert drift_metrics(x, 3 * x)["delta_emb"] == pytest.approx(0.0, abs=1e-6)  # cosine: scale-free
    e = np.eye(2)
    assert drift_metrics(e[[0, 0, 1]], e[[1, 1, 0]], k=1)["delta_emb"] == pytest.approx(1.0)  # orthogonal


def test_drift_zero_for_same_model_and_grows_with_perturbation(tiny_roberta):
    rng = random.Random(0)
    words = [*FILLER, *(w for ws in CUES.values() for w in ws)]
    texts = [" ".join(rng.sample(words, 6)) for _ in range(40)]
    tokens = tokenize(load_tokenizer(tiny_roberta), texts, 32)
    encoder = PooledEncoder(load_encoder(tiny_roberta), "mean")
    before = embed_tokens(encoder, tokens)
    again = embed_tokens(PooledEncoder(load_encoder(tiny_roberta), "mean"), tokens)
    assert drift_metrics(before, again)["delta_emb"] == pytest.approx(0.0, abs=1e-6)

    deltas, overlaps = [], []
    originals = {k: v.clone() for k, v in encoder.state_dict().items()}
    for scale in (0.01, 0.1, 1.0):  # relative: each weight times (1 + scale * noise)
        gen = torch.Generator().manual_seed(0)
        with torch.no_grad():
            for name, p in encoder.named_parameters():
                p.copy_(originals[name] * (1 + scale * torch.randn(p.shape, generator=gen)))
        m = drift_metrics(before, embed_tokens(encoder, tokens))
        deltas.append(m["delta_emb"])
        overlaps.append(m["knn_overlap"])
    assert 0 < deltas[0] < deltas[1] < deltas[2]
    assert overlaps[0] >= overlaps[2] and overlaps[2] < 1.0


def test_per_text_drift_means_are_the_figures():
    rng = np.random.default_rng(1)
    before = rng.normal(size=(40, 8))
    after = before + rng.normal(scale=0.5, size=before.shape)
    per = per_text_drift(before, after)
    assert per["distance"].shape == per["overlap"].shape == (40,)
    assert ((per["overlap"] >= 0) & (per["overlap"] <= 1)).all()
    figures = drift_metrics(before, after)
    assert per["distance"].mean() == pytest.approx(figures["delta_emb"], abs=1e-9)
    assert per["overlap"].mean() == pytest.approx(figures["knn_overlap"], abs=1e-9)
