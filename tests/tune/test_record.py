"""The study record (raysweep-study.json) beside the study's storage, local path or URI."""

from __future__ import annotations

from pathlib import Path

from raysweep.tune.record import read_study_record, write_study_record


def test_a_file_uri_storage_gets_its_study_folder(tmp_path: Path) -> None:
    root = f"file://{tmp_path}/shared/study"  # a new study on a shared mount: the folder does not exist yet
    write_study_record(root, {"name": "study", "space": "smoke"})
    assert read_study_record(root) == {"name": "study", "space": "smoke"}
    assert (tmp_path / "shared" / "study").is_dir()


def test_a_local_path_round_trips(tmp_path: Path) -> None:
    write_study_record(str(tmp_path), {"name": "x"})
    assert read_study_record(str(tmp_path)) == {"name": "x"}
