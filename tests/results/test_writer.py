"""Study summary helpers: phase timings of the final runs and the provenance files of a study."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from raysweep.results.writer import final_phases
from raysweep.tune.record import write_provenance
from raysweep.tune.space import load_space


def final(method: str, seed: int, total: float) -> dict:
    spec = {"method": method, "config_id": "c0" if method == "emo" else "base", "seed": seed}
    return {"config": {"spec": spec}, "result": {"time_total_s": total}}


def test_final_phases_split_training_from_evaluation(tmp_path: Path) -> None:
    for name, wall, finetune in (
        ("emo-c0-seed0", 200.0, 120.0),
        ("emo-c0-seed1", 210.0, 100.0),
        ("plm-base-seed0", 90.0, 60.0),
    ):
        (tmp_path / name).mkdir()
        figures = {"wall_s": wall, "downstream": {"sst2": {"finetune": {"wall_s": finetune}}, "irony": {}}}
        (tmp_path / name / "evaluation.json").write_text(json.dumps(figures))
    finals = [final("emo", 0, 290.0), final("emo", 1, 300.0), final("plm", 0, 91.0), final("scl", 0, 50.0)]
    phases = final_phases(finals, tmp_path)  # scl has no exported model here: left out
    assert phases == {
        "emo": {"runs": 2, "train_s": 180.0, "evaluation_s": 410.0, "finetune_s": 220.0},
        "plm": {"runs": 1, "train_s": 1.0, "evaluation_s": 90.0, "finetune_s": 60.0},
    }
    assert final_phases(finals, tmp_path / "elsewhere") == {}


def test_provenance_reloads_the_same_space(tmp_path: Path) -> None:
    space = load_space("cpu", {"study": {"num_samples": 3}})
    write_provenance(tmp_path, space.to_dict(), ["--space", "cpu", "--num-samples", "3"], resume=False)
    write_provenance(tmp_path, space.to_dict(), ["--space", "cpu", "--name", "x", "--resume"], resume=True)
    assert (tmp_path / "command.txt").read_text().splitlines() == [
        "python -m raysweep.run --space cpu --num-samples 3",
        "python -m raysweep.run --space cpu --name x --resume",
    ]
    again = load_space(str(tmp_path / "space.yaml"))
    assert again.study.num_samples == 3 and again.to_dict() == space.to_dict()
    assert yaml.safe_load((tmp_path / "space.yaml").read_text())["search"]["loss.lam"]["type"] == "loguniform"
    versions = json.loads((tmp_path / "versions.json").read_text())
    assert {"torch", "ray", "optuna", "pytorch-metric-learning", "machine"} <= set(versions)
