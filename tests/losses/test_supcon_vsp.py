from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from raysweep.config import LossConfig, ModelConfig, RetrofitConfig, SamplerConfig
from raysweep.data.tokenized import tokenize
from raysweep.losses import SupConVSPLoss
from raysweep.models import RetrofitModel, frozen_copy, load_tokenizer


def brute_force_supcon(z: torch.Tensor, labels: torch.Tensor, tau: float) -> torch.Tensor:
    """Khosla et al.'s L_out, written out: mean over anchors with positives of
    -1/|P(i)| sum_p log(exp(z_i.z_p/τ) / sum_{a≠i} exp(z_i.z_a/τ))."""
    z = F.normalize(z.double(), dim=1)
    losses = []
    for i in range(len(z)):
        others = [a for a in range(len(z)) if a != i]
        positives = [p for p in others if labels[p] == labels[i]]
        if not positives:
            continue
        log_denominator = torch.logsumexp(torch.stack([z[i] @ z[a] / tau for a in others]), 0)
        losses.append(-torch.stack([z[i] @ z[p] / tau - log_denominator for p in positives]).mean())
    return torch.stack(losses).mean()


def test_loss_equals_brute_force_supcon_plus_mse() -> None:
    torch.manual_seed(0)
    emb, frozen = torch.randn(12, 32), torch.randn(12, 32)
    proj = torch.randn(12, 8)
    labels = torch.tensor([0, 0, 1, 1, 1, 2, 2, 3, 0, 1, 2, 4])  # class 4 has no positive
    for tau, lam in [(0.1, 0.0), (0.05, 1.0), (0.5, 14.0)]:
        terms = SupConVSPLoss(tau=tau, lam=lam)(emb, proj, labels, frozen)
        expected = brute_force_supcon(proj, labels, tau) + lam * ((emb - frozen) ** 2).mean()
        assert abs(float(terms.total) - float(expected)) < 1e-5
        assert abs(terms.parts["supcon"] - float(brute_force_supcon(proj, labels, tau))) < 1e-5
        expected_vsp = float(((emb - frozen) ** 2).mean()) if lam > 0 else 0.0  # λ = 0: term skipped
        assert abs(terms.parts["vsp"] - expected_vsp) < 1e-6


def _batch(model_dir: str, n: int = 8):
    tok = load_tokenizer(model_dir)
    texts = ["i feel great today", "angry hate rage", "sad tears", "thanks grateful"] * (n // 4)
    return tokenize(tok, texts, 16).batch(np.arange(n)), torch.tensor([0, 1, 2, 3] * (n // 4))


def test_vsp_is_zero_before_the_first_step_and_targets_agree(tiny_model: str) -> None:
    cfg = RetrofitConfig(model=ModelConfig(name=tiny_model), loss=LossConfig(lam=2.0, tau=0.1))
    torch.manual_seed(0)
    model = RetrofitModel.from_config(cfg.model).eval()
    frozen = frozen_copy(model.encoder)
    batch, labels = _batch(tiny_model)
    loss_fn = SupConVSPLoss(cfg.loss.tau, cfg.loss.lam)
    emb, proj = model(batch["input_ids"], batch["attention_mask"])
    with torch.no_grad():
        recomputed = frozen(batch["input_ids"], batch["attention_mask"])
    assert loss_fn(emb, proj, labels, recomputed).parts["vsp"] == 0.0

    # one optimiser step moves the encoder; precomputed targets (looked up by row) still equal
    # what the frozen encoder computes again for the same rows
    from raysweep.data.tokenized import tokenize as tok_fn
    from raysweep.models.embed import embed_tokens

    toks = tok_fn(
        load_tokenizer(tiny_model), ["i feel great today", "angry hate rage", "sad tears", "thanks grateful"] * 2, 16
    )
    precomputed_all = torch.from_numpy(embed_tokens(frozen, toks))
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    loss_fn(emb, proj, labels, recomputed).total.backward()
    opt.step()
    emb, proj = model(batch["input_ids"], batch["attention_mask"])
    with torch.no_grad():
        recomputed = frozen(batch["input_ids"], batch["attention_mask"])
    rows = np.arange(8)
    a = loss_fn(emb, proj, labels, recomputed)
    b = loss_fn(emb, proj, labels, precomputed_all[rows])
    assert a.parts["vsp"] > 0
    assert abs(float(a.total) - float(b.total)) < 1e-5


def test_sampler_config_rejects_batches_that_do_not_split() -> None:
    import pytest

    from raysweep.errors import RaysweepError

    with pytest.raises(RaysweepError, match="not a multiple of m"):
        SamplerConfig(m=5, batch_size=64).validate(2)
