"""A real 2-worker Ray Train run on CPU (gloo) with tiny local models."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from raysweep.config import DataConfig, LossConfig, ModelConfig, RetrofitConfig, SamplerConfig, TrainConfig
from raysweep.train.data import prepare_training_data
from raysweep.train.launch import fit


def tiny_config(model: str, data_dir: Path, **train) -> RetrofitConfig:
    return RetrofitConfig(
        data=DataConfig(data_dir=str(data_dir), max_length=16),
        model=ModelConfig(name=model, pooling="mean"),  # random tiny models' [CLS] barely varies
        loss=LossConfig(lam=1.0, tau=0.1),
        sampler=SamplerConfig(kind="mperclass", m=4, batch_size=24),
        train=TrainConfig(
            **{"lr": 5e-3, "num_workers": 2, "cpus_per_worker": 0.5, "precision": "fp32", "max_failures": 0, **train}
        ),
    ).validate()


def test_two_workers_lower_the_loss_and_resume_at_the_right_step(
    ray_local, tiny_model: str, tiny_data_dir: Path, tmp_path: Path
) -> None:
    cfg = tiny_config(tiny_model, tiny_data_dir, epochs=3, eval_every=5, max_steps=15)
    data = prepare_training_data(cfg)
    assert data.frozen_train is not None and data.frozen_train.shape == (240, 32)
    result = fit(cfg, ray_local.put(data), "run", str(tmp_path))
    history = result.return_value
    assert [h["step"] for h in history] == [5, 10, 15]
    assert history[-1]["train_loss"] < history[0]["train_loss"] - 0.1
    assert history[-1]["dev_p_at_1"] > 0.35  # cue words are learnable; chance is 1/6
    for key in ("dev_mrr", "dev_map_at_r", "dev_ami", "dev_ari", "dev_fms", "train_vsp", "samples_per_s"):
        assert key in history[-1]
    assert result.checkpoint is not None
    # a local cluster's runs start no PreemptionWatcher (raysweep.train.cluster.LOCAL_TRAIN_ENV)
    from ray.util.state import list_actors

    names = {a.class_name for a in list_actors(limit=1000, raise_on_missing_output=False)}
    assert "TrainController" in names and "PreemptionWatcher" not in names, names

    # the same run name continues from its last checkpoint (step 15) up to the new limit
    more = cfg.replace(train={"max_steps": 25})
    resumed = fit(more, ray_local.put(data), "run", str(tmp_path)).return_value
    assert [h["step"] for h in resumed] == [20, 25]


def test_recomputed_targets_train_too(ray_local, tiny_bert: str, tiny_data_dir: Path, tmp_path: Path) -> None:
    cfg = tiny_config(tiny_bert, tiny_data_dir, max_steps=4, eval_every=4).replace(
        loss={"vsp_targets": "recompute"}, sampler={"kind": "stratified"}
    )
    data = prepare_training_data(cfg)
    assert data.frozen_train is None
    before = signal.getsignal(signal.SIGINT)
    history = fit(cfg, data, "recompute", str(tmp_path)).return_value
    assert history[-1]["step"] == 4 and history[-1]["train_vsp"] > 0
    # Train V2's SIGINT handler (which holds the run's controller) is gone, and with it the controller:
    # a finished controller left alive is destroyed during the next fit, whose run then never starts
    assert signal.getsignal(signal.SIGINT) is before
    assert controllers_gone(ray_local)


def controllers_gone(ray, timeout: float = 60.0) -> bool:
    """True once no TrainController actor is alive (the GCS's actor table, as this driver sees it)."""
    from ray._private import state

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = [a for a in state.actors(actor_state_name="ALIVE").values() if a["ActorClassName"] == "TrainController"]
        if not alive:
            return True
        time.sleep(1.0)
    return False


@pytest.mark.parametrize("objective", ["ce"])
def test_classifier_objective(ray_local, tiny_bert: str, tiny_data_dir: Path, tmp_path: Path, objective: str) -> None:
    cfg = tiny_config(tiny_bert, tiny_data_dir, max_steps=10, eval_every=10).replace(
        loss={"objective": objective}, sampler={"kind": "stratified"}
    )
    history = fit(cfg, prepare_training_data(cfg), "ce", str(tmp_path)).return_value
    assert history[-1]["dev_accuracy"] > 0.5 and "dev_macro_f1" in history[-1]
