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
