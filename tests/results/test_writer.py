"""Study summary helpers: phase timings of the final runs and the provenance files of a study."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
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


def finished(tid: str, method: str, seed: int) -> dict:
    spec = {"method": method, "config_id": "c0" if method == "emo" else "base", "params": {}, "seed": seed}
    return {"trial_id": tid, "status": "TERMINATED", "config": {"spec": spec}, "result": {"method": method, "ami": 0.2}}


def test_a_rebuild_never_replaces_tables_with_fewer_runs(tmp_path: Path, monkeypatch) -> None:
    from raysweep.config import RetrofitConfig
    from raysweep.errors import RaysweepError
    from raysweep.results import study_records, writer

    runs = {"final": [finished("1", "emo", 0), finished("2", "emo", 1), finished("3", "plm", 0)], "search": []}
    monkeypatch.setattr(study_records, "load_trials", lambda path: runs[path.rsplit("/", 1)[1]])
    writer.write_results(str(tmp_path / "st" / "s"), tmp_path / "results", "s", RetrofitConfig(), "dev_ami")
    board = tmp_path / "results" / "s" / "leaderboard.csv"
    before = board.read_text()
    assert "emo" in before
    runs["final"] = runs["final"][:1]  # a storage that lost two runs (or another study's)
    with pytest.raises(RaysweepError, match="holds 1 finished final runs .* fewer than the 3"):
        writer.write_results(str(tmp_path / "st" / "s"), tmp_path / "results", "s", RetrofitConfig(), "dev_ami")
    runs["final"] = []
    with pytest.raises(RaysweepError, match="no trials of study s could be read"):
        writer.write_results(str(tmp_path / "st" / "s"), tmp_path / "results", "s", RetrofitConfig(), "dev_ami")
    assert board.read_text() == before and (tmp_path / "results" / "leaderboard.csv").read_text() == before


def test_results_cli_on_an_unreadable_storage_keeps_the_tables(tmp_path: Path, capsys) -> None:
    from raysweep.results.__main__ import main

    study = tmp_path / "storage" / "s"
    study.mkdir(parents=True)
    (study / "raysweep-study.json").write_text(json.dumps({"name": "s", "space_path": "smoke", "overrides": {}}))
    (study / "search").mkdir()
    (study / "search" / "experiment_state-x.json").write_text("{not json")
    results = tmp_path / "results"
    (results / "s").mkdir(parents=True)
    for folder in (results, results / "s"):
        (folder / "leaderboard.csv").write_text("method,n_seeds\nemo,3\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["--storage", str(tmp_path / "storage"), "--name", "s", "--results-dir", str(results)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")
    for folder in (results, results / "s"):
        assert (folder / "leaderboard.csv").read_text() == "method,n_seeds\nemo,3\n"
