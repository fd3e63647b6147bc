"""The sweep's storage (``storage_path``): checked reachable and writable before the first trial.

A sweep that can only find out at its first checkpoint that its storage is a typo, a bucket without
credentials, or a folder only the head node sees loses a trial's worth of cluster time; this check
costs one small object. Local paths are made absolute (Ray Tune wants that); URIs (``s3://``,
``gs://``, ``file://`` ...) go through ``pyarrow.fs``, the same layer Ray Tune writes through.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path
from typing import Any

from raysweep.errors import RaysweepError

PROBE_PREFIX = ".raysweep-probe-"
# file systems that every node of a cluster can mount at the same path
SHARED_FS_TYPES = ("nfs", "nfs4", "lustre", "fuse.", "efs", "cifs", "smb3", "gpfs", "beegfs", "glusterfs", "ceph")


NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
"""Study and run names: a file name of safe characters, so a name can never leave its folder."""


def check_name(name: str, flag: str = "--name") -> str:
    """``name`` if it is a safe folder name (letters, digits, ``.``, ``_``, ``-``; no path, not ``..``)."""
    if not NAME_PATTERN.fullmatch(name or "") or set(name) == {"."}:
        raise RaysweepError(
            f"{flag} {name!r} is not a plain name; use letters, digits, '.', '_' and '-' only (at most 100, "
            "starting with a letter or digit), e.g. cpu-run1: it names a folder inside the storage"
        )
    return name


def check_path(value: str | None, flag: str) -> str:
    """``value`` if it names a path (not empty or blank); an empty one would mean the current folder."""
    if value is None or not str(value).strip():
        raise RaysweepError(f"{flag} is empty; give a folder (or a URI), or leave the flag out for the default")
    return str(value)


def is_uri(storage: str) -> bool:
    return "://" in storage


def validate_storage(uri_or_path: str, multi_node: bool = False) -> str:
    """Check that the sweep can write to ``uri_or_path``; return it in the form to give Ray Tune.

    A local path is created if missing and returned absolute; a URI is returned unchanged. With
    ``multi_node`` (a cluster with more than one node), a local path must be on a shared file system
    (NFS, EFS, Lustre, a FUSE mount of a bucket ...), since every node writes checkpoints there.
    Raises :class:`RaysweepError` with one line naming the storage and the fix.
    """
    storage = (uri_or_path or "").strip()
    if not storage:
        raise RaysweepError("--storage is empty; give a folder, or s3://BUCKET/PREFIX on a cluster")
    if is_uri(storage):
        _probe_uri(storage)
        return storage
    path = Path(storage).expanduser().resolve()
    _probe_local(path)
    if multi_node:
        fs_type = filesystem_type(path)
        if not fs_type.startswith(SHARED_FS_TYPES):
            raise RaysweepError(
                f"--storage {path} is on this node's own disk ({fs_type}), which the other nodes of the "
                "cluster cannot see; use s3://BUCKET/PREFIX (see cluster.yaml) or a shared file system mount"
            )
    return str(path)


def _probe_local(path: Path) -> None:
    probe = path / f"{PROBE_PREFIX}{uuid.uuid4().hex}"
    try:
        path.mkdir(parents=True, exist_ok=True)
        # O_EXCL: a fresh name of our own, never someone else's file; removed whatever happens
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, b"ok\n")
            os.fsync(fd)
        finally:
            os.close(fd)
            probe.unlink(missing_ok=True)
    except OSError as err:
        raise RaysweepError(
            f"--storage {path} is not writable ({err.strerror or err}); "
            "pick a folder you can write to, or fix its permissions"
        ) from None


def _probe_uri(uri: str) -> None:
    import pyarrow.fs as pafs

    try:
        fs, root = pafs.FileSystem.from_uri(uri)
    except (ValueError, OSError, TypeError) as err:  # pyarrow.ArrowInvalid is a ValueError
        raise RaysweepError(
            f"--storage {uri}: not a storage URI pyarrow can open ({_one_line(err)}); "
            "use s3://BUCKET/PREFIX, gs://BUCKET/PREFIX or a local folder"
        ) from None
    probe = f"{root.rstrip('/')}/{PROBE_PREFIX}{uuid.uuid4().hex}"
    try:
        fs.create_dir(root, recursive=True)
        with fs.open_output_stream(probe) as out:
            out.write(b"ok\n")
    except (OSError, ValueError) as err:
        hint = (
            "check the bucket name, the region and the credentials of every node (on AWS: the instance "
            "profile in cluster.yaml must allow s3:PutObject/DeleteObject on it)"
            if uri.startswith("s3://")
            else "check the location and the credentials of every node"
        )
        raise RaysweepError(f"--storage {uri} is not writable ({_one_line(err)}); {hint}") from None
    try:
        fs.delete_file(probe)
    except (OSError, ValueError) as err:
        raise RaysweepError(
            f"--storage {uri}: wrote {probe} but could not delete it ({_one_line(err)}); "
            "the sweep needs delete rights too (checkpoint rotation): grant them and remove the probe"
        ) from None


def filesystem_type(path: Path) -> str:
    """The type (``ext4``, ``nfs4``, ``fuse.s3fs`` ...) of the mount holding ``path``; "" if unknown."""
    best, fs_type = "", ""
    try:
        lines = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return ""
    target = str(path)
    for line in lines:
        fields = line.split()
        if len(fields) < 3:
            continue
        mount = fields[1].replace("\\040", " ")
        inside = target == mount or target.startswith(mount.rstrip("/") + "/")
        if inside and len(mount) >= len(best):
            best, fs_type = mount, fields[2]
    return fs_type


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return text if len(text) <= 200 else text[:197] + "..."


def portable(obj: Any, base: Path | None = None) -> Any:
    """``obj`` with every absolute local path (a string starting with ``/``, one line, no spaces) written
    relative to ``base`` (default: the current folder), e.g. ``/work/shared/data`` from ``/work/main``
    as ``../shared/data``; URIs and every other value unchanged. Dicts and lists are walked."""
    if isinstance(obj, dict):
        return {k: portable(v, base) for k, v in obj.items()}
    if isinstance(obj, list):
        return [portable(v, base) for v in obj]
    if isinstance(obj, str) and obj.startswith("/") and not any(c.isspace() for c in obj):
        return os.path.relpath(obj, base or Path.cwd())
    return obj
