"""The plain loop goodput is measured against: the same pooled embedding as raysweep's encoder, a real
optimizer step, and a rate in samples/s for the study's batch and precision."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from raysweep.config import DataConfig, LossConfig, ModelConfig, RetrofitConfig, SamplerConfig, TrainConfig
from raysweep.models.encoder import PooledEncoder, load_encoder
from raysweep.train.data import prepare_training_data
from raysweep.train.plain_loop import PlainStep, plain_loop_rate


def config(model: str, data_dir: Path, pooling: str) -> RetrofitConfig:
    return RetrofitConfig(
        data=DataConfig(data_dir=str(data_dir), max_length=16),
        model=ModelConfig(name=model, pooling=pooling),
        loss=LossConfig(lam=1.0, tau=0.1),
        sampler=SamplerConfig(kind="mperclass", m=4, batch_size=12),
        train=TrainConfig(precision="fp32", num_workers=1),
    ).validate()


@pytest.mark.parametrize("chunks", [1, 2])
@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_the_plain_loop_pools_like_raysweeps_encoder(
    tiny_bert: str, tiny_data_dir: Path, pooling: str, chunks: int
) -> None:
    data = prepare_training_data(config(tiny_bert, tiny_data_dir, pooling))
    loop = PlainStep(tiny_bert, data, precision="fp32", attn="sdpa", fused=False, pooling=pooling, chunks=chunks)
    idx = np.arange(8)
    width = int(data.train_tokens.lengths[idx].max())
    ids = torch.from_numpy(data.train_tokens.input_ids[idx, :width].astype(np.int64))
    mask = (torch.arange(width)[None, :] < torch.from_numpy(data.train_tokens.lengths[idx])[:, None]).long()
    ours = PooledEncoder(load_encoder(tiny_bert), pooling).eval()
    loop.encoder.eval()
    with torch.no_grad():
        assert torch.allclose(loop.pooled(ids, mask), ours(ids, mask), atol=1e-5)


def test_a_step_updates_the_encoder_and_times_its_phases(tiny_bert: str, tiny_data_dir: Path) -> None:
    data = prepare_training_data(config(tiny_bert, tiny_data_dir, "mean"))
    loop = PlainStep(tiny_bert, data, precision="fp32", attn="sdpa", fused=False, pooling="mean")
    before = [p.detach().clone() for p in loop.encoder.parameters()]
    loop.step(np.arange(12))
    changed = sum(not torch.equal(a, b) for a, b in zip(before, loop.encoder.parameters(), strict=True))
    assert changed > len(before) // 2
    assert all(t > 0 for t in loop.phases.values())


def test_rate_is_for_the_studys_batch_and_precision(tiny_bert: str, tiny_data_dir: Path) -> None:
    rate = plain_loop_rate(
        config(tiny_bert, tiny_data_dir, "mean"),
        prepare_training_data(config(tiny_bert, tiny_data_dir, "mean")),
        steps=3,
        warmup=1,
    )
    assert rate["batch"] == 12 and rate["steps"] == 3 and rate["precision"] == "fp32"
    assert rate["samples_per_s"] > 0 and rate["threads"] == torch.get_num_threads()
    assert rate["length_chunks"] == 4  # train.length_chunks auto on CPU, as the study's runs
    assert rate["vsp_pass"]  # the default VSP (loss.vsp_dropout: pass) reads a second, dropout-free forward
    assert rate["device"] == "cpu" and rate["cpu_s"] > 0
    assert 0.2 < rate["cores"] <= rate["threads"] + 0.3  # its process's CPU over the steps' wall


def test_the_loop_trains_on_the_batches_a_run_of_the_config_starts_with(tiny_bert: str, tiny_data_dir: Path) -> None:
    from raysweep.samplers import build_sampler
    from raysweep.train.plain_loop import run_batches

    cfg = config(tiny_bert, tiny_data_dir, "mean")
    labels = prepare_training_data(cfg).train_labels
    sampler = build_sampler(cfg.sampler, np.asarray(labels), 1, 0, cfg.train.seed)
    epochs = []
    for epoch in range(2):
        sampler.set_epoch(epoch, 0)
        epochs.extend(np.asarray(b) for b in sampler)
    count = sampler.steps_per_epoch + 1  # into the second epoch
    batches = run_batches(cfg, labels, count)
    assert len(batches) == count
    assert all(np.array_equal(a, b) for a, b in zip(batches, epochs[:count], strict=True))
    for batch in batches:  # m=4 rows of each of batch/m classes, as the run's sampler draws them
        _, per_class = np.unique(np.asarray(labels)[batch], return_counts=True)
        assert len(batch) == 12 and set(per_class) == {4}


def test_the_clean_pass_reads_vsp_on_a_dropout_free_forward(tiny_bert: str, tiny_data_dir: Path) -> None:
    data = prepare_training_data(config(tiny_bert, tiny_data_dir, "mean"))
    calls: list[bool] = []
    loop = PlainStep(tiny_bert, data, precision="fp32", attn="sdpa", fused=False, pooling="mean", clean_pass=True)
    loop.encoder.register_forward_hook(lambda module, args, out: calls.append(module.training))
    loop.step(np.arange(12))
    assert calls == [True, False] and loop.encoder.training  # dropout pass, clean pass, back in training
