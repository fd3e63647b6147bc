"""A finished Train run is found again and reused only for its own configuration; a reused model is
the one a re-run trains (CPU: bit for bit)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from safetensors.torch import load_file
from test_worker import tiny_config

from raysweep.methods.emo import train_and_export
from raysweep.methods.method import RunContext
from raysweep.train.data import prepare_training_data
from raysweep.train.finished_run import finished_checkpoint, ran_to_end
from raysweep.train.launch import fit


@pytest.mark.parametrize(
    ("metrics", "finished"),
    [
        ({"step": 40, "steps_total": 40, "diverged": 0.0}, True),
        ({"step": 20, "steps_total": 40, "diverged": 0.0}, False),  # a scheduler's early rung
        ({"step": 20, "steps_total": 40, "stopped_early": 1.0}, True),  # its own early stopping
        ({"step": 40, "steps_total": 40, "diverged": 1.0}, False),
        ({"step": 40}, False),  # a record from before steps_total was reported
        ({}, False),
    ],
)
def test_a_run_ran_to_its_end_only_by_its_own_last_report(metrics: dict, finished: bool) -> None:
    assert ran_to_end(metrics) is finished


def test_a_finished_run_is_exported_for_its_own_config_only(
    ray_local, tiny_bert: str, tiny_data_dir: Path, tmp_path: Path
) -> None:
    cfg = tiny_config(tiny_bert, tiny_data_dir, eval_every=5, max_steps=10, num_workers=1, cpus_per_worker=1.0)
    data = ray_local.put(prepare_training_data(cfg))
    storage = str(tmp_path / "storage")
    assert fit(cfg, data, "search-t1", storage).metrics["steps_total"] == 10

    with finished_checkpoint(storage, "search-t1", cfg) as folder:
        assert folder is not None and (Path(folder) / "config.json").is_file()
    for other in (cfg.replace(train={"seed": 1}), cfg.replace(loss={"lam": 0.0})):  # another seed, SCL
        with finished_checkpoint(storage, "search-t1", other) as folder:
            assert folder is None
    with finished_checkpoint(storage, "search-missing", cfg) as folder:
        assert folder is None

    def ctx(name: str, out: str, reuse: str | None) -> RunContext:
        return RunContext(
            cfg=cfg, out=tmp_path / out, storage=storage, name=name, shared_data=lambda _: data, reuse=reuse
        )

    reused = train_and_export(ctx("final-a", "reused", "search-t1"))
    trained = train_and_export(ctx("final-b", "trained", None))
    assert not (tmp_path / "storage" / "final-a").exists()  # nothing trained for the reused one
    assert (tmp_path / "storage" / "final-b").is_dir()
    record = json.loads((reused / "raysweep.json").read_text())
    assert record["reused_run"] == "search-t1" and "reused_run" not in json.loads(
        (trained / "raysweep.json").read_text()
    )
    assert record["metrics"]["step"] == 10
    for name in ("model.safetensors", "head.safetensors"):  # the re-run trains the very same weights
        a, b = load_file(str(reused / name)), load_file(str(trained / name))
        assert a.keys() == b.keys() and all(a[k].equal(b[k]) for k in a)
