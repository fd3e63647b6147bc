"""raysweep.storage.validate_storage: the sweep's storage is checked before the first trial."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from raysweep import storage as storage_mod
from raysweep.errors import RaysweepError
from raysweep.storage import PROBE_PREFIX, filesystem_type, validate_storage


def no_probes(folder: Path) -> bool:
    return not [p for p in folder.rglob("*") if p.name.startswith(PROBE_PREFIX)]


def test_local_folder_is_created_and_returned_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    got = validate_storage("results/sweeps")
    assert got == str(tmp_path / "results" / "sweeps")
    assert Path(got).is_dir() and no_probes(tmp_path)


def test_existing_folder_keeps_its_files(tmp_path):
    (tmp_path / "keep.txt").write_text("x")
    assert validate_storage(str(tmp_path)) == str(tmp_path)
    assert (tmp_path / "keep.txt").read_text() == "x" and no_probes(tmp_path)


def test_unwritable_local_path_is_one_line_naming_it(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(RaysweepError) as err:
        validate_storage(str(blocker / "runs"))
    message = str(err.value)
    assert str(blocker / "runs") in message and "\n" not in message and "writ" in message


def test_empty_storage_is_rejected():
    with pytest.raises(RaysweepError, match="empty"):
        validate_storage("  ")


def test_file_uri_goes_through_pyarrow(tmp_path):
    uri = f"file://{tmp_path}/bucket/prefix"
    assert validate_storage(uri) == uri
    assert (tmp_path / "bucket" / "prefix").is_dir() and no_probes(tmp_path)


def test_unknown_scheme_is_a_user_error():
    with pytest.raises(RaysweepError, match="nosuch://bucket/x") as err:
        validate_storage("nosuch://bucket/x")
    assert "\n" not in str(err.value)


def test_unreachable_s3_fails_fast_with_the_fix(monkeypatch):
    # an S3 endpoint nobody listens on: connection refused, no network needed
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    uri = "s3://raysweep-test-bucket/sweeps?endpoint_override=127.0.0.1:9&scheme=http&region=us-east-1"
    t0 = time.perf_counter()
    with pytest.raises(RaysweepError) as err:
        validate_storage(uri)
    message = str(err.value)
    assert "raysweep-test-bucket" in message and "credentials" in message and "\n" not in message
    assert time.perf_counter() - t0 < 60


def test_multi_node_rejects_a_node_local_folder(tmp_path):
    with pytest.raises(RaysweepError, match="cannot see"):
        validate_storage(str(tmp_path), multi_node=True)


def test_multi_node_accepts_a_shared_mount(tmp_path, monkeypatch):
    monkeypatch.setattr(storage_mod, "filesystem_type", lambda path: "nfs4")
    assert validate_storage(str(tmp_path), multi_node=True) == str(tmp_path)


def test_multi_node_accepts_a_uri(tmp_path):
    uri = f"file://{tmp_path}/shared"
    assert validate_storage(uri, multi_node=True) == uri


def test_filesystem_type_of_root_is_known():
    assert filesystem_type(Path("/")) != ""
