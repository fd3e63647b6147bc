"""Atomic folders: raysweep replaces only what it made (issue: a user's folder was deleted by --out)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from raysweep import atomic
from raysweep.errors import RaysweepError


def user_folder(root: Path) -> Path:
    folder = root / "work"
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "main.py").write_text("print('my work')\n")
    return folder


def test_a_folder_raysweep_did_not_make_is_refused_and_kept(tmp_path: Path) -> None:
    folder = user_folder(tmp_path)
    with pytest.raises(RaysweepError, match="raysweep did not make .*--overwrite"):
        with atomic.directory(folder) as tmp:
            (tmp / "x").write_text("new")
    assert (folder / "src" / "main.py").read_text() == "print('my work')\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]  # no temporary folder left


def test_a_file_is_refused_too(tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("keep")
    with pytest.raises(RaysweepError, match="existing file"):
        atomic.check_replaceable(target, flag="--out")
    assert target.read_text() == "keep"


def test_missing_empty_and_own_folders_are_replaced(tmp_path: Path) -> None:
    for name, prepare in (
        ("missing", lambda p: None),
        ("empty", lambda p: p.mkdir()),
        ("ours", lambda p: (p.mkdir(), (p / atomic.MARKER).write_text("{}"), (p / "old.bin").write_text("0"))),
    ):
        target = tmp_path / name
        prepare(target)
        with atomic.directory(target) as tmp:
            (tmp / atomic.MARKER).write_text("{}")
            (tmp / "new.bin").write_text("1")
        assert sorted(p.name for p in target.iterdir()) == ["new.bin", atomic.MARKER]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_overwrite_replaces_a_user_folder(tmp_path: Path) -> None:
    folder = user_folder(tmp_path)
    with atomic.directory(folder, overwrite=True) as tmp:
        (tmp / "model.bin").write_text("1")
    assert [p.name for p in folder.iterdir()] == ["model.bin"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]


def test_cwd_its_parents_and_home_are_refused_even_with_overwrite(tmp_path: Path, monkeypatch) -> None:
    inner = tmp_path / "a" / "b"
    inner.mkdir(parents=True)
    (inner / atomic.MARKER).write_text("{}")  # even a folder that looks like ours
    monkeypatch.chdir(inner)
    for target in (inner, tmp_path / "a", Path("."), Path.home(), Path("/")):
        with pytest.raises(RaysweepError, match="holds the current folder"):
            atomic.check_replaceable(target, overwrite=True, flag="--out")
    assert inner.is_dir() and os.getcwd() == str(inner.resolve())


def test_save_arrays_is_atomic_and_numeric_only(tmp_path: Path) -> None:
    import numpy as np

    target = tmp_path / "run" / "evaluation.npz"
    atomic.save_arrays(target, {"emotion/labels": np.arange(3), "sst2/fewshot/k8/pred": np.zeros((5, 2), int)})
    with np.load(target, allow_pickle=False) as saved:
        assert sorted(saved.files) == ["emotion/labels", "sst2/fewshot/k8/pred"] and saved["emotion/labels"].sum() == 3
    with pytest.raises(ValueError, match="Python objects"):
        atomic.save_arrays(target, {"bad": np.array([{"a": 1}], dtype=object)})
    assert sorted(p.name for p in target.parent.iterdir()) == ["evaluation.npz"]  # the old file kept, no temp
