"""The reference model's embeddings are computed once and cached: the second method of a study scored
against the same reference reads them back (its Δemb uses the cached array, not a new embedding), and
the cached array is what a fresh embedding gives. The key follows everything that changes them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import task_fixtures
import torch

from raysweep.data.tasks import drift_texts
from raysweep.evaluation import reference_cache
from raysweep.evaluation.settings import EvaluationSettings
from raysweep.evaluation.suite import evaluate_model, evaluate_with, precompute_reference
from raysweep.models.embed import embed_texts
from raysweep.models.encoder import load_encoder, load_tokenizer

tiny_tasks_dir = pytest.fixture(scope="session")(task_fixtures.tiny_tasks_dir)

DRIFT_ONLY = {"tasks": ["drift"], "protocols": "probe", "drift_n": 30, "precision": "fp32"}


def retrofitted(base: str, folder: Path, seed: int, scale: float = 0.05) -> str:
    """A copy of ``base`` with perturbed weights: a stand-in for one method's final model."""
    torch.manual_seed(seed)
    model = load_encoder(base)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(scale * torch.randn_like(p))
    model.save_pretrained(folder)
    load_tokenizer(base).save_pretrained(folder)
    return str(folder)


def test_the_second_method_reads_the_reference_back(tiny_bert, tiny_tasks_dir, ray_local, tmp_path, monkeypatch):
    monkeypatch.setenv("RAYSWEEP_CACHE_DIR", str(tmp_path / "cache"))
    emo, mtl = (retrofitted(tiny_bert, tmp_path / name, seed) for seed, name in enumerate(("emo", "mtl")))
    first = evaluate_model(emo, data_dir=tiny_tasks_dir, reference_model=tiny_bert, **DRIFT_ONLY)
    assert first["reference_embeddings"] == {"drift": "computed"} and first["precision"] == "fp32"
    second = evaluate_model(mtl, data_dir=tiny_tasks_dir, reference_model=tiny_bert, **DRIFT_ONLY)
    assert second["reference_embeddings"] == {"drift": "cached"}

    texts = drift_texts(str(tiny_tasks_dir), n=30, seed=0)
    key = reference_cache.reference_key(tiny_bert, "cls", texts, 128, "fp32")
    cached = reference_cache.load(key, len(texts))
    assert cached is not None and len(list((tmp_path / "cache" / "reference").glob("*.npz"))) == 1
    np.testing.assert_allclose(cached, embed_texts(tiny_bert, "cls", texts, 128, "fp32"), rtol=1e-5, atol=1e-6)

    fresh = evaluate_model(mtl, data_dir=tiny_tasks_dir, reference_model=tiny_bert, cache_reference=False, **DRIFT_ONLY)
    assert fresh["reference_embeddings"] == {}
    assert second["drift"]["delta_emb"] == pytest.approx(fresh["drift"]["delta_emb"], rel=1e-5)

    # the cached array is what the third evaluation's Δemb is measured from: nothing re-embeds it
    reference_cache.store(key, np.random.default_rng(0).normal(size=cached.shape).astype(np.float32))
    tampered = evaluate_model(mtl, data_dir=tiny_tasks_dir, reference_model=tiny_bert, **DRIFT_ONLY)
    assert tampered["reference_embeddings"] == {"drift": "cached"}
    assert tampered["drift"]["delta_emb"] != pytest.approx(fresh["drift"]["delta_emb"], rel=1e-2)


def test_the_reference_scored_as_itself_caches_every_text_set(
    tiny_bert, tiny_tasks_dir, ray_local, tmp_path, monkeypatch
):
    """PLM: the evaluated model is the reference; a repeated (or resumed) evaluation embeds nothing."""
    monkeypatch.setenv("RAYSWEEP_CACHE_DIR", str(tmp_path / "cache"))
    options = {"tasks": ["emotion", "drift", "irony"], "protocols": "probe", "limit": 20, "drift_n": 20}
    first = evaluate_model(tiny_bert, data_dir=tiny_tasks_dir, **options)
    again = evaluate_model(tiny_bert, data_dir=tiny_tasks_dir, **options)
    sets = {"goemotions/test", "drift", "irony/train", "irony/test"}
    assert set(first["reference_embeddings"]) == sets and set(first["reference_embeddings"].values()) == {"computed"}
    assert again["reference_embeddings"] == dict.fromkeys(first["reference_embeddings"], "cached")
    assert again["emotion"]["ami"] == first["emotion"]["ami"] and again["emotion"]["mrr"] == first["emotion"]["mrr"]
    probe = [{k: v for k, v in out["downstream"]["irony"]["probe"].items() if k != "wall_s"} for out in (first, again)]
    assert probe[0] == probe[1]


def test_the_key_follows_the_weights_pooling_length_precision_and_texts(tiny_bert, tmp_path):
    model = retrofitted(tiny_bert, tmp_path / "model", seed=0)
    texts = ["a b", "c d e"]
    key = reference_cache.reference_key(model, "cls", texts, 128, "fp32")
    assert key == reference_cache.reference_key(model, "cls", list(texts), 128, "fp32")
    others = [
        reference_cache.reference_key(model, "mean", texts, 128, "fp32"),
        reference_cache.reference_key(model, "cls", texts, 64, "fp32"),
        reference_cache.reference_key(model, "cls", texts, 128, "bf16"),
        reference_cache.reference_key(model, "cls", texts[::-1], 128, "fp32"),
        reference_cache.reference_key(tiny_bert, "cls", texts, 128, "fp32"),
    ]
    assert len({key, *others}) == 6
    retrofitted(tiny_bert, tmp_path / "model", seed=1)  # the folder rewritten in place: new weights, new key
    assert reference_cache.reference_key(model, "cls", texts, 128, "fp32") != key


def test_a_missing_or_mismatched_entry_is_a_miss(tmp_path, monkeypatch):
    monkeypatch.setenv("RAYSWEEP_CACHE_DIR", str(tmp_path))
    assert reference_cache.load("absent", 3) is None
    assert reference_cache.store("k", np.ones((3, 4), dtype=np.float32))
    assert reference_cache.load("k", 2) is None and reference_cache.load("k", 3).shape == (3, 4)
    reference_cache.cache_path("bad").write_bytes(b"not an npz")
    assert reference_cache.load("bad", 3) is None


def test_a_study_can_embed_its_reference_before_the_finals(tiny_bert, tiny_tasks_dir, ray_local, tmp_path, monkeypatch):
    monkeypatch.setenv("RAYSWEEP_CACHE_DIR", str(tmp_path / "cache"))
    settings = EvaluationSettings(tasks=["drift"], protocols=["probe"], drift_n=30)
    assert precompute_reference(tiny_bert, settings, data_dir=tiny_tasks_dir, draw_seed=3) == "computed"
    assert precompute_reference(tiny_bert, settings, data_dir=tiny_tasks_dir, draw_seed=3) == "cached"
    final = retrofitted(tiny_bert, tmp_path / "emo", seed=0)
    out = evaluate_with(final, settings, data_dir=tiny_tasks_dir, reference_model=tiny_bert, draw_seed=3)
    assert out["reference_embeddings"] == {"drift": "cached"}
    assert precompute_reference(tiny_bert, EvaluationSettings(tasks=["emotion"]), data_dir=tiny_tasks_dir) is None


def test_an_evaluation_fits_beside_another_runs_training(tiny_bert, tiny_tasks_dir, ray_local, tmp_path, monkeypatch):
    """Two runs at once on 2 CPUs (``cpu_workers: trials``): each Train worker holds 0.99 CPU and each
    trial 0.01. One run's evaluation jobs must fit in what the other run's training leaves (0.99 CPU):
    with 1-CPU jobs they waited for the other run's training to end."""
    import threading

    from ray.util.placement_group import placement_group, remove_placement_group

    monkeypatch.setenv("RAYSWEEP_CACHE_DIR", str(tmp_path / "cache"))
    held = placement_group([{"CPU": 0.99}, {"CPU": 0.01}, {"CPU": 0.01}])  # the other run, both trials
    assert held.wait(timeout_seconds=60)
    try:
        settings = EvaluationSettings(tasks=["drift"], protocols=["probe"], drift_n=30)
        final = retrofitted(tiny_bert, tmp_path / "emo", seed=0)
        out: dict = {}
        worker = threading.Thread(
            target=lambda: out.update(
                evaluate_with(
                    final, settings, data_dir=tiny_tasks_dir, reference_model=tiny_bert, finetune_cpus_per_worker=0.99
                )
            ),
            daemon=True,
        )
        worker.start()
        worker.join(timeout=120)
        assert not worker.is_alive(), "the evaluation waited for CPUs another run holds"
        assert out["drift"]["delta_emb"] > 0
    finally:
        remove_placement_group(held)
