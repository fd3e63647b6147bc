"""A study continued where its Ray storage is gone (a cluster torn down, another machine, a new
session): from its slim records export, ``results/NAME/records/``, which every study writes with its
tables and which a rebuild of a stopped study writes too (``python -m raysweep.results --storage S
--name NAME``). ``python -m raysweep.run --space ... --name NAME --resume`` then carries the export's
search trials and finished final runs over, trains and scores only the final runs it lacks, and writes
the tables (and a new export) from both.

What carries over: the search as it stands (its picks are made again from the same trial records, so
they are the same picks; the search is neither re-run nor extended: its Optuna storage and checkpoints
are not in the export) and every final run that finished with its evaluation files. What does not: the
search trials' checkpoints, so a final run that would have reused one (a pick's seed 0, SCL's seed 0
with ``scl_from: lambda_zero``) is trained again if the export lacks it; and the models' weights, so
``results/best_model/`` is exported only when the best configuration's run was trained here.

The phase walls add up over every invocation as with any ``--resume`` (``results/NAME/phases.json``, which
travels with the export), so ``study.json``'s timings and goodput still cover the whole study.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from raysweep.errors import RaysweepError
from raysweep.methods.run_spec import RunSpec
from raysweep.results.records import TrialRecord
from raysweep.results.study_records import EVALUATION_FILES, PLM_DEV, RECORDS, StudyRecords, from_export


@dataclass(frozen=True)
class CarriedStudy:
    """The records a study carries over from its export, and what its final runs still lack."""

    records: StudyRecords
    folder: Path
    """The export (``results/NAME/records``)."""

    @property
    def search(self) -> list[TrialRecord]:
        return self.records.search

    @cached_property
    def finished(self) -> dict[str, TrialRecord]:
        """The export's final runs that finished with their evaluation files, by model folder name."""
        runs: dict[str, TrialRecord] = {}
        for trial in self.records.finals:
            spec = (trial.get("config") or {}).get("spec")
            if trial.get("status") != "TERMINATED" or not spec or "method" not in (trial.get("result") or {}):
                continue
            folder = RunSpec.from_dict(spec).folder
            if (self.records.models_dir / folder / "evaluation.json").is_file():
                runs[folder] = trial
        return runs

    def remaining(self, specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The planned final runs the export lacks, none of them reusing a search checkpoint (gone)."""
        done = self.finished
        return [{**s, "reuse": None} for s in specs if RunSpec.from_dict(s).folder not in done]

    def merge(self, finals: list[TrialRecord], models_dir: Path) -> StudyRecords:
        """The whole study's records: the carried search and finished runs with ``finals`` (this
        invocation's), the carried runs' evaluation files copied into ``models_dir`` (where this
        study's tables read every run's) unless a run of the same folder is there already."""
        carried = self.finished
        fresh = {RunSpec.from_dict(t["config"]["spec"]).folder for t in finals if (t.get("config") or {}).get("spec")}
        for folder in carried.keys() - fresh:
            target = models_dir / folder
            for name in EVALUATION_FILES:
                source = self.records.models_dir / folder / name
                if source.is_file() and not (target / name).is_file():
                    target.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(source, target / name)
        plm_dev = models_dir.parent / PLM_DEV
        if not plm_dev.is_file() and self.records.plm_dev.is_file():
            shutil.copyfile(self.records.plm_dev, plm_dev)
        kept = [t for folder, t in carried.items() if folder not in fresh]
        return StudyRecords(search=self.search, finals=kept + finals, models_dir=models_dir, plm_dev=plm_dev)


def carried_study(study_dir: Path, search_storage: str, resume: bool) -> CarriedStudy | None:
    """The study's export to carry over: on ``--resume`` when the Ray storage holds no search
    (``search_storage``) and ``study_dir/records`` holds an export; None otherwise. Without ``--resume``
    an export there is refused (one ``RaysweepError``), as an existing storage is: a new study of the
    same name would replace its tables."""
    folder = study_dir / RECORDS
    if not (folder / "search.json").is_file() or any(Path(search_storage).glob("experiment_state*.json")):
        return None  # no export, or the search's own Tune experiment is here (a plain --resume)
    if not resume:
        raise RaysweepError(
            f"study {study_dir.name} has records in {folder}; pass --resume to continue it from them "
            "or --name for a new study"
        )
    return CarriedStudy(from_export(folder), folder)
