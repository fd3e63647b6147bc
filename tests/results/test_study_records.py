"""The slim export of a study's records: the tables rebuild from it byte for byte, without Ray storage
or weights, and it names no absolute path of the machine that wrote it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from record_fixtures import final_run, search_trial

from raysweep.config import RetrofitConfig
from raysweep.errors import RaysweepError
from raysweep.results import study_records
from raysweep.results.study_records import RECORDS, from_export
from raysweep.results.writer import write_results
from raysweep.storage import portable

TABLES = ("leaderboard.csv", "trials.csv", "comparison.md", "comparisons.csv")


@pytest.fixture
def study(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A finished study's results folder (``results/s``), written from a (faked) Ray storage, run from
    the project folder (``tmp_path``) as a user runs it."""
    monkeypatch.chdir(tmp_path)
    results = tmp_path / "results"
    models = results / "s" / "models"
    finals = [final_run(models, "emo", "c0", s, 0.7) for s in range(2)]
    finals += [final_run(models, "scl", "c0", s, 0.6) for s in range(2)]
    finals += [final_run(models, "plm", "base", 0, 0.3)]
    search = [search_trial("a", 0.0, 0.30, 0.09), search_trial("b", 1.0, 0.25, 0.03), search_trial("c", 3.0, 0.1, 0.05)]
    (results / "s" / "plm_dev.json").write_text(json.dumps({"dev_ami": 0.08}))
    runs = {"search": search, "final": finals}
    monkeypatch.setattr(study_records, "load_trials", lambda path: runs[path.rsplit("/", 1)[1]])
    write_results(str(tmp_path / "storage" / "s"), results, "s", RetrofitConfig(), "dev_ami")
    return results / "s"


def test_the_tables_rebuild_byte_for_byte_from_the_export(study: Path, tmp_path: Path) -> None:
    records = from_export(study / RECORDS)
    assert len(records.search) == 3 and len(records.finals) == 5
    again = tmp_path / "again"
    write_results("", again, "s", RetrofitConfig(), "dev_ami", records=records)
    for table in TABLES:
        assert (again / "s" / table).read_bytes() == (study / table).read_bytes(), table
    assert "emo" in (study / "comparisons.csv").read_text()  # the paired tests ran on the exported arrays
    # the front's quality (hypervolume against PLM's dev figure) and the phase times come back too
    first, second = (json.loads((d / "study.json").read_text()) for d in (study, again / "s"))
    assert second["front"] == first["front"] and second["final_phases"] == first["final_phases"]


def test_the_export_holds_no_weights_and_no_absolute_path(study: Path) -> None:
    export = study / RECORDS
    files = [p for p in export.rglob("*") if p.is_file()]
    assert {p.name for p in files} == {
        "search.json",
        "final.json",
        "plm_dev.json",
        "evaluation.json",
        "evaluation.npz",
        "raysweep.json",
    }
    root = str(study.parents[1])  # the project folder the study ran from
    for path in [*files, study / "study.json"]:
        if path.suffix == ".json":
            assert root not in path.read_text(), path
    finals = json.loads((export / "final.json").read_text())
    assert all("model_dir" not in t["result"] and "hostname" not in t["result"] for t in finals)


def test_the_results_cli_rebuilds_from_records(study: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from raysweep.results.__main__ import main

    space = "name: s\nsearch:\n  loss.lam: {type: loguniform, low: 0.1, high: 10}\nstudy: {metric: dev_ami}\n"
    (study / "space.yaml").write_text(space)
    assert main(["--records", str(study / RECORDS), "--results-dir", str(tmp_path / "cli")]) == 0
    assert (tmp_path / "cli" / "s" / "leaderboard.csv").read_bytes() == (study / "leaderboard.csv").read_bytes()
    with pytest.raises(SystemExit) as stop:
        main(["--records", str(tmp_path / "nowhere"), "--results-dir", str(tmp_path / "cli")])
    assert stop.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_portable_paths_are_relative_and_uris_unchanged(tmp_path: Path) -> None:
    record = {"data_dir": "/work/shared/data", "storage": "s3://bucket/x", "note": "a / b", "runs": ["/work/main/r"]}
    assert portable(record, Path("/work/main")) == {
        "data_dir": "../shared/data",
        "storage": "s3://bucket/x",
        "note": "a / b",
        "runs": ["r"],
    }


def test_a_folder_that_is_no_export_is_named(tmp_path: Path) -> None:
    with pytest.raises(RaysweepError, match="not a study's records export"):
        from_export(tmp_path)
