"""The study record (``STORAGE/NAME/raysweep-study.json``): which space and overrides the study
uses, so ``--resume`` and ``python -m raysweep.results`` rebuild exactly the same space."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from raysweep import atomic
from raysweep.errors import RaysweepError

RECORD = "raysweep-study.json"


def write_study_record(root: str, record: dict[str, Any]) -> None:
    if "://" in root:
        import pyarrow.fs as pafs

        fs, path = pafs.FileSystem.from_uri(f"{root}/{RECORD}")
        if isinstance(fs, pafs.LocalFileSystem):  # a file:// storage (a shared mount): its folder may not exist yet
            fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
        with fs.open_output_stream(path) as out:
            out.write(json.dumps(record, indent=2).encode())
        return
    atomic.write_text(Path(root) / RECORD, json.dumps(record, indent=2))


def read_study_record(root: str) -> dict[str, Any]:
    try:
        if "://" in root:
            import pyarrow.fs as pafs

            fs, path = pafs.FileSystem.from_uri(f"{root}/{RECORD}")
            with fs.open_input_stream(path) as handle:
                return json.loads(handle.read())
        return json.loads((Path(root) / RECORD).read_text())
    except (OSError, ValueError):
        raise RaysweepError(f"no raysweep study at {root} (missing {RECORD}); check --storage and --name") from None


def write_provenance(study_dir: Path, space_dict: dict[str, Any], argv: list[str], resume: bool) -> None:
    """What a reader needs to reproduce the study, beside its results: ``space.yaml`` (the resolved
    space), ``command.txt`` (each command that ran it, ``--resume`` runs appended) and
    ``versions.json`` (packages and machine)."""
    import os
    import platform
    import shlex

    import optuna
    import pandas
    import torch
    import yaml

    from raysweep.evaluation.suite import versions
    from raysweep.storage import portable

    study_dir.mkdir(parents=True, exist_ok=True)
    command = "python -m raysweep.run " + shlex.join(portable(list(argv))) + "\n"
    previous = (study_dir / "command.txt").read_text() if resume and (study_dir / "command.txt").is_file() else ""
    atomic.write_text(study_dir / "command.txt", previous + command)
    if not resume or not (study_dir / "space.yaml").is_file():
        # local paths (data_dir) relative to the folder it ran from, so a committed study names no path of this machine
        text = yaml.safe_dump(portable(space_dict), sort_keys=False, allow_unicode=True)
        atomic.write_text(study_dir / "space.yaml", text)
    machine = {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "gpus": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())],
    }
    info = {**versions(), "optuna": optuna.__version__, "pandas": pandas.__version__, "machine": machine}
    atomic.write_text(study_dir / "versions.json", json.dumps(info, indent=2) + "\n")
