"""Faked study records shared by the results tests: a final run with its evaluation files, a search trial."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from raysweep.methods.run_spec import RunSpec


def final_run(models: Path, method: str, config_id: str, seed: int, rate: float) -> dict:
    spec = RunSpec(method, config_id, {"loss.lam": 0.0 if method == "scl" else 1.0}, seed)
    folder = models / spec.folder
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed + 10 * len(method))
    labels = np.arange(200) % 5
    hits = (rng.random(200) < rate).astype(float)
    np.savez(folder / "evaluation.npz", **{"emotion/labels": labels, "emotion/p_at_1": hits})
    (folder / "evaluation.json").write_text(json.dumps({"wall_s": 3.5, "model": str(folder), "p_at_1": hits.mean()}))
    result = {
        "method": method,
        "config_id": config_id,
        "seed": seed,
        "p_at_1": float(hits.mean()),
        "ami": 0.1 + rate / 10,
        "dev_ami": 0.2,
        "time_total_s": 20.0,
        "model_dir": str(folder),
        "hostname": "node-1",
    }
    return {"trial_id": spec.folder, "status": "TERMINATED", "config": {"spec": spec.to_dict()}, "result": result}


def search_trial(tid: str, lam: float, ami: float, drift: float) -> dict:
    result = {"dev_ami": ami, "dev_delta_emb": drift, "training_iteration": 3, "trial_id": tid}
    return {"trial_id": tid, "status": "TERMINATED", "config": {"loss.lam": lam}, "result": result, "error": None}
