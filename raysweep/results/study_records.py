"""Everything a study's tables are built from, as one typed record, read from the study's Ray storage or
from its slim export (``results/NAME/records/``), so the tables rebuild without Tune, weights or
checkpoints, on any machine: the rebuild test of a committed study runs in CI.

The export holds the search trials and final runs as JSON (:class:`~raysweep.results.records.TrialRecord`
lists), each final run's ``evaluation.json`` and per-example ``evaluation.npz`` (what the paired tests
read), and PLM's dev figures (the front's reference point). Absolute paths of the machine that ran the
study are written relative to the current folder (:func:`raysweep.storage.portable`), so no committed file names one.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from raysweep import atomic
from raysweep.errors import RaysweepError
from raysweep.methods.run_spec import RunSpec
from raysweep.results.records import TrialRecord, load_trials
from raysweep.storage import portable

RECORDS = "records"
PLM_DEV = "plm_dev.json"
EVALUATION_FILES = ("evaluation.json", "evaluation.npz")
RUN_PATH_KEYS = ("model_dir", "checkpoint_path", "checkpoint_dir_name", "hostname", "node_ip", "pid")
"""Result keys that name where and on which machine a run wrote its model and checkpoints: dropped in
the export (no table reads them; the tables find a run's evaluation under ``models/<RunSpec.folder>``)."""


@dataclass(frozen=True)
class StudyRecords:
    """The inputs of every results table of one study."""

    search: list[TrialRecord]
    finals: list[TrialRecord]
    models_dir: Path
    """Holds ``<RunSpec.folder>/evaluation.{json,npz}`` of each final run."""
    plm_dev: Path
    """PLM's dev figures (``plm_dev.json``); may be missing (single-objective studies)."""


def from_storage(study_root: str, study_dir: Path) -> StudyRecords:
    """The records of a study from its Ray storage (``STORAGE/NAME``) and results folder (``results/NAME``)."""
    return StudyRecords(
        search=load_trials(f"{study_root}/search"),
        finals=load_trials(f"{study_root}/final"),
        models_dir=study_dir / "models",
        plm_dev=study_dir / PLM_DEV,
    )


def from_export(folder: Path) -> StudyRecords:
    """The records of a study from its slim export (``results/NAME/records/``)."""
    try:
        search = json.loads((folder / "search.json").read_text(encoding="utf-8"))
        finals = json.loads((folder / "final.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise RaysweepError(
            f"{folder} is not a study's records export ({err}); pass the records/ folder a study wrote"
        ) from None
    return StudyRecords(search=search, finals=finals, models_dir=folder / "models", plm_dev=folder / PLM_DEV)


def export(records: StudyRecords, folder: Path) -> Path:
    """Write the slim export of ``records`` to ``folder`` (replaced atomically as a whole): JSON trials
    with portable paths and no run paths, each final run's evaluation files, PLM's dev figures."""
    with atomic.directory(folder) as tmp:
        (tmp / atomic.MARKER).write_text("a raysweep study's records export\n", encoding="utf-8")
        (tmp / "search.json").write_text(_dump([_slim(t) for t in records.search]), encoding="utf-8")
        (tmp / "final.json").write_text(_dump([_slim(t) for t in records.finals]), encoding="utf-8")
        if records.plm_dev.is_file():
            shutil.copyfile(records.plm_dev, tmp / PLM_DEV)
        for trial in records.finals:
            spec = (trial.get("config") or {}).get("spec")
            if not spec or "method" not in spec:
                continue
            run = RunSpec.from_dict(spec).folder
            source = records.models_dir / run
            for name in EVALUATION_FILES:
                if (source / name).is_file():
                    (tmp / "models" / run).mkdir(parents=True, exist_ok=True)
                    if name.endswith(".json"):
                        text = _dump(portable(json.loads((source / name).read_text(encoding="utf-8"))))
                        (tmp / "models" / run / name).write_text(text, encoding="utf-8")
                    else:
                        shutil.copyfile(source / name, tmp / "models" / run / name)
    return folder


def _slim(trial: TrialRecord) -> TrialRecord:
    result = {k: v for k, v in trial["result"].items() if k not in RUN_PATH_KEYS}
    return portable({**trial, "result": result})


def _dump(obj: Any) -> str:
    return json.dumps(obj, indent=1, sort_keys=True) + "\n"
