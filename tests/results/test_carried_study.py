"""A study continued from its records export where its Ray storage is gone: the export's finished runs
are not planned again, and the tables from the export plus the runs left are the tables of the whole
study in one piece, byte for byte."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from record_fixtures import final_run, search_trial

from raysweep.config import RetrofitConfig
from raysweep.errors import RaysweepError
from raysweep.methods.run_spec import RunSpec
from raysweep.results import study_records
from raysweep.results.carried_study import carried_study
from raysweep.results.study_records import RECORDS
from raysweep.results.writer import write_results

TABLES = ("leaderboard.csv", "trials.csv", "comparison.md", "comparisons.csv")


PLAN = [("emo", "c0", s, 0.7) for s in range(3)] + [("scl", "l0", s, 0.6) for s in range(3)]
PLAN += [("plm", "base", 0, 0.3)]
SEARCH = [search_trial("a", 0.0, 0.30, 0.09), search_trial("b", 1.0, 0.25, 0.03)]


def study(root: Path, runs: list[tuple], monkeypatch: pytest.MonkeyPatch, name: str = "s") -> Path:
    """``results/NAME`` of a study whose (faked) Ray storage holds ``runs`` as its final runs."""
    root.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(root)
    results = root / "results"
    finals = [final_run(results / name / "models", *run) for run in runs]
    (results / name / "plm_dev.json").write_text(json.dumps({"dev_ami": 0.08}))
    trials = {"search": SEARCH, "final": finals}
    monkeypatch.setattr(study_records, "load_trials", lambda path: trials[path.rsplit("/", 1)[1]])
    write_results(str(root / "storage" / name), results, name, RetrofitConfig(), "dev_ami")
    return results / name


def specs() -> list[dict]:
    planned = [RunSpec(m, c, {"loss.lam": 0.0 if m == "scl" else 1.0}, s) for m, c, s, _ in PLAN]
    return [{**spec.to_dict(), "reuse": "a"} for spec in planned]


def test_a_stopped_study_carries_its_finished_runs_and_its_tables_equal_one_run_in_one_piece(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = study(tmp_path / "whole", PLAN, monkeypatch)
    first = study(tmp_path / "parts", PLAN[:4], monkeypatch)  # stopped after 4 of 7 final runs
    shutil.rmtree(first / "models")  # another machine: the export only, no storage, no models
    carried = carried_study(first, str(tmp_path / "parts" / "storage" / "s" / "search"), resume=True)
    assert carried is not None and len(carried.search) == 2 and len(carried.finished) == 4
    left = carried.remaining(specs())
    assert [(s["method"], s["seed"]) for s in left] == [("scl", 1), ("scl", 2), ("plm", 0)]
    assert all(s["reuse"] is None for s in left)  # the search checkpoints did not travel
    # this invocation runs what is left (written here as the faked runs of the new storage)
    fresh = [final_run(first / "models", *run) for run in PLAN[4:]]
    records = carried.merge(fresh, first / "models")
    assert len(records.finals) == 7 and (first / "models" / "emo-c0-seed0" / "evaluation.npz").is_file()
    write_results(str(tmp_path / "parts" / "storage" / "s"), tmp_path / "parts" / "results", "s",
                  RetrofitConfig(), "dev_ami", records=records, export_records=True)  # fmt: skip
    for table in TABLES:
        assert (first / table).read_bytes() == (whole / table).read_bytes(), table
    exported = json.loads((first / RECORDS / "final.json").read_text())
    assert len(exported) == 7  # the merged export: a third invocation would carry all of it


def test_a_run_of_the_same_folder_done_again_here_replaces_the_carried_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = study(tmp_path, PLAN[:2], monkeypatch)
    carried = carried_study(first, str(tmp_path / "storage" / "s" / "search"), resume=True)
    assert carried is not None
    again = final_run(tmp_path / "elsewhere", "emo", "c0", 1, 0.9)
    merged = carried.merge([again], first / "models")
    assert [t["result"]["seed"] for t in merged.finals] == [0, 1] and merged.finals[1] is again


def test_an_export_is_carried_only_on_resume_and_only_without_a_search_storage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = study(tmp_path, PLAN[:2], monkeypatch)
    search = tmp_path / "storage" / "s" / "search"
    with pytest.raises(RaysweepError, match="pass --resume to continue it from them or --name"):
        carried_study(first, str(search), resume=False)
    search.mkdir(parents=True)
    (search / "experiment_state-2026-12-07_02-44-20.json").write_text("{}")
    assert carried_study(first, str(search), resume=True) is None  # a plain --resume of the Tune experiment
    assert carried_study(tmp_path / "results" / "new", str(tmp_path / "none"), resume=False) is None
