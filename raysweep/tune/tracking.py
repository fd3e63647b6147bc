"""Experiment trackers a study can log to (``--tracking KIND[:URI]``), each through Ray Tune's own
logger callback, beside what every study writes anyway: TensorBoard event files in each trial's
folder of the storage (Tune's default ``TBXLoggerCallback``) and the Optuna study in
``results/NAME/optuna.db`` (``optuna-dashboard sqlite:///results/NAME/optuna.db``).

::

    --tracking mlflow                       # results/NAME/mlflow.db (sqlite), `mlflow ui --backend-store-uri ...`
    --tracking mlflow:http://host:5000      # a tracking server
    --tracking mlflow:sqlite:////abs/mlflow.db

Each tracker is an optional extra (``pip install raysweep[mlflow]``). One MLflow experiment per study
(named after it); one run per trial, tagged with its phase (``search`` or ``final``) and the study.
The default store is a sqlite database because MLflow 3 refuses its file store (``./mlruns``) unless
``MLFLOW_ALLOW_FILE_STORE=true``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ray.tune import Callback

from raysweep.errors import RaysweepError


def _mlflow(uri: str | None, study_folder: Path, study: str, phase: str) -> Callback:
    from ray.air.integrations.mlflow import MLflowLoggerCallback

    return MLflowLoggerCallback(
        tracking_uri=uri or default_mlflow_uri(study_folder),
        experiment_name=study,
        tags={"raysweep.study": study, "raysweep.phase": phase},
    )


def default_mlflow_uri(study_folder: Path) -> str:
    """The study's own MLflow store: ``results/NAME/mlflow.db``."""
    return f"sqlite:///{study_folder.resolve() / 'mlflow.db'}"


@dataclass(frozen=True)
class Tracker:
    """A tracker: the module it needs (its extra names it too) and the Tune callback of one phase."""

    module: str
    extra: str
    callback: Callable[[str | None, Path, str, str], Callback]


TRACKERS: dict[str, Tracker] = {"mlflow": Tracker(module="mlflow", extra="mlflow", callback=_mlflow)}


@dataclass(frozen=True)
class Tracking:
    """A parsed ``--tracking`` option: the tracker and its URI (None: the study folder's default)."""

    kind: str
    uri: str | None = None

    def callbacks(self, study_folder: Path, study: str, phase: str) -> list[Callback]:
        """The Tune callbacks of one phase (a fresh one per Tuner: Tune sets a callback up per run)."""
        return [TRACKERS[self.kind].callback(self.uri, study_folder, study, phase)]


def parse_tracking(value: str | None) -> Tracking | None:
    """``KIND`` or ``KIND:URI`` -> :class:`Tracking` (None for no tracker); an unknown kind, an empty
    URI or a tracker whose package is not installed is a :class:`RaysweepError` naming the fix."""
    if value is None:
        return None
    kind, sep, uri = value.partition(":")
    if kind not in TRACKERS:
        raise RaysweepError(f"--tracking {value!r}: unknown tracker {kind!r}; choose from {', '.join(TRACKERS)}")
    if sep and not uri:
        raise RaysweepError(f"--tracking {value!r}: empty URI; give {kind}:URI or just {kind}")
    tracker = TRACKERS[kind]
    if importlib.util.find_spec(tracker.module) is None:
        raise RaysweepError(
            f"--tracking {kind}: the {tracker.module} package is not installed; pip install 'raysweep[{tracker.extra}]'"
        )
    return Tracking(kind, uri or None)
