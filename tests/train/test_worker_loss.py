"""Worker loss: a real Train worker process SIGKILLed mid-epoch; the run resumes from its last
registered checkpoint and ends where an undisturbed run of the same seed ends."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from fault_injection import kill_one_worker, wait_for_registered
from test_worker import tiny_config

from raysweep.train.data import prepare_training_data
from raysweep.train.launch import fit


@pytest.mark.slow
def test_killed_worker_resumes_from_its_checkpoint(
    ray_local, tiny_bert: str, tiny_data_dir: Path, tmp_path: Path
) -> None:
    # 240 rows in batches of 24 (10 steps per epoch): the kill lands inside an epoch, past step 10
    cfg = tiny_config(tiny_bert, tiny_data_dir, epochs=20, eval_every=5, max_steps=60, max_failures=1)
    data = ray_local.put(prepare_training_data(cfg))
    undisturbed = fit(cfg, data, "calm", str(tmp_path)).return_value

    outcome: dict = {}
    run = threading.Thread(target=lambda: outcome.update(result=fit(cfg, data, "killed", str(tmp_path))))
    run.start()
    registered = wait_for_registered(tmp_path / "killed", min_step=15)
    pid = kill_one_worker()
    run.join(timeout=300)
    assert pid is not None and not run.is_alive()

    history = outcome["result"].return_value  # the restarted group's evaluations only
    steps = [h["step"] for h in history]
    assert registered < 60 and 15 <= steps[0] - 5 < 60, (registered, steps)  # resumed, not from step 0
    assert steps == list(range(steps[0], 65, 5))
    # the same batches in the same order, restored optimizer and schedule: the same end point
    calm, disturbed = undisturbed[-1], history[-1]
    for key in ("dev_p_at_1", "dev_map_at_r", "dev_ami"):
        assert disturbed[key] == pytest.approx(calm[key], abs=0.02), key
    assert disturbed["train_loss"] == pytest.approx(calm["train_loss"], rel=0.02)
