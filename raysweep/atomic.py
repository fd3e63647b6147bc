"""Atomic writes: every artefact is written under a temporary name beside its target and renamed,
so a reader never sees half a file and a crash leaves the previous version intact.

Folders are replaced whole (:func:`directory`), so raysweep only ever replaces a folder it made
itself: one that holds its marker file ``raysweep.json`` (every exported model does), or an empty
one. Anything else is refused with one line unless the caller passes ``overwrite=True`` (the
``--overwrite`` flag); the root, the home folder and any folder holding the current working folder
are refused even then.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from raysweep.errors import RaysweepError

MARKER = "raysweep.json"
"""The file every folder raysweep writes whole carries; a folder without it is the user's."""


def write_text(path: str | os.PathLike[str], text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_arrays(path: str | os.PathLike[str], arrays: dict[str, np.ndarray]) -> Path:
    """Named arrays as one ``.npz`` file (keys may hold ``/``), written atomically; errors are raised
    (unlike :func:`save_npz`, a cache write that may fail quietly). Read back with
    ``np.load(path, allow_pickle=False)``: every array must be numeric or boolean."""
    path = Path(path)
    for key, value in arrays.items():
        if np.asarray(value).dtype == object:
            raise ValueError(f"{path}: array {key!r} holds Python objects; save numbers only")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp.npz")
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **{k: np.asarray(v) for k, v in arrays.items()})
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def save_npz(path: str | os.PathLike[str], **arrays: np.ndarray) -> bool:
    """Best-effort cache write: False (and nothing left behind) when the folder is not writable."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp.npz")
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **arrays)
        os.replace(tmp, path)
        return True
    except OSError:
        return False


def made_by_raysweep(path: Path) -> bool:
    """True for a folder raysweep wrote (it holds :data:`MARKER`) and for an empty folder."""
    return path.is_dir() and ((path / MARKER).is_file() or not any(path.iterdir()))


def check_replaceable(path: str | os.PathLike[str], overwrite: bool = False, flag: str = "the output folder") -> Path:
    """Raise a one-line :class:`RaysweepError` unless ``path`` may be replaced whole.

    ``path`` may be replaced when it does not exist, is empty, or was made by raysweep; with
    ``overwrite`` any other folder or file too, except ``/``, the home folder and any folder that
    holds the current working folder (replacing those would take the user's work with it).
    """
    target = Path(path).expanduser().resolve()
    if not target.exists() and not target.is_symlink():
        return target
    protected = {Path("/").resolve(), Path.home().resolve()}
    cwd = Path.cwd().resolve()
    if target in protected or target == cwd or target in cwd.parents:
        raise RaysweepError(
            f"{flag} {target} is the root, your home folder or holds the current folder; raysweep replaces "
            "its output folder whole, so give a new folder for it, e.g. models/run1"
        )
    if overwrite or made_by_raysweep(target):
        return target
    kind = "folder" if target.is_dir() else "file"
    raise RaysweepError(
        f"{flag} {target} is an existing {kind} that raysweep did not make (no {MARKER} in it); "
        "give a folder that does not exist yet, or pass --overwrite to replace it"
    )


@contextmanager
def directory(path: str | os.PathLike[str], overwrite: bool = False) -> Iterator[Path]:
    """Yield a fresh temporary folder beside ``path``; on success it replaces ``path`` whole.

    Refuses (before anything is written) to replace a folder that :func:`check_replaceable` does
    not allow; the caller writes :data:`MARKER` into the temporary folder so a later run may
    replace it.
    """
    path = check_replaceable(path, overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        yield tmp
        if path.exists() or path.is_symlink():
            old = path.with_name(f".{path.name}.old-{os.getpid()}")
            os.replace(path, old)
            os.replace(tmp, path)
            if old.is_dir() and not old.is_symlink():
                shutil.rmtree(old, ignore_errors=True)
            else:
                old.unlink(missing_ok=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
