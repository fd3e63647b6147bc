"""bf16 and fp32 evaluation agree within the stated tolerance: the same suite run in both precisions on
the tiny model (and, marked slow, on the packaged MiniLM), each recording the precision it ran in."""

from __future__ import annotations

from pathlib import Path

import pytest
import task_fixtures
import torch

from raysweep.errors import RaysweepError
from raysweep.evaluation.settings import EvaluationSettings
from raysweep.evaluation.suite import evaluate_model
from raysweep.models.encoder import load_encoder, load_tokenizer

tiny_tasks_dir = pytest.fixture(scope="session")(task_fixtures.tiny_tasks_dir)

TOLERANCE = {"ami": 0.05, "mrr": 0.02, "p_at_1": 0.05, "delta_emb": 0.01, "probe_f1": 0.05}
"""The largest |bf16 - fp32| difference of each figure the suite reports (absolute)."""


def perturbed(base: str, folder: Path, scale: float) -> str:
    """A copy of ``base`` with perturbed weights (a retrofitted model with a non-zero Δemb)."""
    torch.manual_seed(0)
    model = load_encoder(base)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(scale * p.abs().mean() * torch.randn_like(p))
    model.save_pretrained(folder)
    load_tokenizer(base).save_pretrained(folder)
    return str(folder)


def figures(out: dict, task: str) -> dict[str, float]:
    return {
        **{k: out["emotion"][k] for k in ("ami", "mrr", "p_at_1")},
        "delta_emb": out["drift"]["delta_emb"],
        "probe_f1": out["downstream"][task]["probe"]["macro_f1"],
    }


def assert_within_tolerance(fp32: dict[str, float], bf16: dict[str, float]) -> None:
    for key, tol in TOLERANCE.items():
        assert abs(bf16[key] - fp32[key]) <= tol, (key, fp32[key], bf16[key])


@pytest.mark.parametrize("fixture", ["tiny_bert", "tiny_roberta"])
def test_bf16_and_fp32_evaluation_agree(fixture, request, tiny_tasks_dir, ray_local, tmp_path, monkeypatch):
    monkeypatch.setenv("RAYSWEEP_CACHE_DIR", str(tmp_path / "cache"))
    base = request.getfixturevalue(fixture)
    model = perturbed(base, tmp_path / "model", scale=0.1)
    options = {"tasks": ["emotion", "drift", "irony"], "protocols": "probe", "drift_n": 60, "reference_model": base}
    runs = {p: evaluate_model(model, data_dir=tiny_tasks_dir, precision=p, **options) for p in ("fp32", "bf16")}
    assert runs["fp32"]["precision"] == "fp32" and runs["bf16"]["precision"] == "bf16"
    assert runs["fp32"]["drift"]["delta_emb"] > 1e-3  # a real drift to agree on
    assert_within_tolerance(figures(runs["fp32"], "irony"), figures(runs["bf16"], "irony"))


def test_a_bad_precision_is_refused_in_one_line():
    with pytest.raises(RaysweepError, match="evaluation.precision"):
        EvaluationSettings(precision="fp16").validate()
    assert EvaluationSettings().precision == "auto" and EvaluationSettings().finetune_patience == 2
    with pytest.raises(RaysweepError, match="finetune_patience"):
        EvaluationSettings(finetune_patience=0).validate()


@pytest.mark.slow
def test_minilm_bf16_figures_agree_with_fp32(shared_data_dir, ray_local, tmp_path, monkeypatch):
    """The packaged MiniLM on 300-row subsamples of the real data (GoEmotions test, 200 drift texts, SST-2)."""
    monkeypatch.setenv("RAYSWEEP_CACHE_DIR", str(tmp_path / "cache"))
    model = perturbed("minilm", tmp_path / "minilm", scale=0.05)
    options = {"tasks": ["emotion", "drift", "sst2"], "protocols": "probe", "limit": 300, "drift_n": 200}
    runs = {
        p: evaluate_model(model, data_dir=shared_data_dir, precision=p, reference_model="minilm", **options)
        for p in ("fp32", "bf16")
    }
    assert_within_tolerance(figures(runs["fp32"], "sst2"), figures(runs["bf16"], "sst2"))
