"""Read a study's trials back from its storage (finished or partial): one plain dict per trial."""

from __future__ import annotations

import math
from typing import Any

from raysweep.errors import RaysweepError


def _clean(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def load_trials(experiment_path: str) -> list[dict[str, Any]]:
    """``trial_id``, ``status``, ``config`` (the searched parameters), ``result`` (last reported) and
    ``error`` of every trial of a Tune experiment; [] if the experiment has not started."""
    from ray.tune import ExperimentAnalysis

    try:
        analysis = ExperimentAnalysis(experiment_path)
    except (ValueError, FileNotFoundError, RuntimeError):
        return []
    except Exception as err:  # unreadable state: name the path
        raise RaysweepError(f"cannot read the Tune experiment at {experiment_path} ({err}); check --storage") from None
    rows = []
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
