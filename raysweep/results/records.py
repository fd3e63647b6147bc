"""Read a study's trials back from its storage (finished or partial): one plain dict per trial."""

from __future__ import annotations

import math
from typing import Any, TypedDict

from raysweep.errors import RaysweepError


class TrialRecord(TypedDict):
    """One Tune trial as every results step reads it (search trials and final runs alike)."""

    trial_id: str
    status: str
    """Tune's status: ``TERMINATED``, ``ERROR``, ``RUNNING``, ``PENDING``."""
    config: dict[str, Any]
    """The searched parameters (search) or ``{"spec": RunSpec.to_dict()}`` (final runs)."""
    result: dict[str, Any]
    """The last reported metrics (non-finite floats as None)."""
    error: str | None


def _clean(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def load_trials(experiment_path: str) -> list[TrialRecord]:
    """``trial_id``, ``status``, ``config`` (the searched parameters), ``result`` (last reported) and
    ``error`` of every trial of a Tune experiment; [] if the experiment has not started."""
    from ray.tune import ExperimentAnalysis

    try:
        analysis = ExperimentAnalysis(experiment_path)
    except (ValueError, FileNotFoundError, RuntimeError):
        return []
    except Exception as err:  # unreadable state: name the path
        raise RaysweepError(f"cannot read the Tune experiment at {experiment_path} ({err}); check --storage") from None
    rows: list[TrialRecord] = []
    for trial in analysis.trials:
        result = {k: _clean(v) for k, v in (trial.last_result or {}).items()}
        error = None
        if trial.status == "ERROR":
            error = str(getattr(trial, "error_msg", None) or "trial failed (see its error.txt)").splitlines()[-1][:300]
        rows.append(
            {
                "trial_id": trial.trial_id,
                "status": trial.status,
                "config": dict(trial.config),
                "result": result,
                "error": error,
            }
        )
    rows.sort(key=lambda r: r["trial_id"])
    return rows
