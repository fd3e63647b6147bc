"""ASHA for single-objective spaces: Ray's ``AsyncHyperBandScheduler``, its rule unchanged, plus the
two things the study needs from any scheduler: which trials it stopped early (so
:class:`~raysweep.tune.searcher.PrunedOptunaSearch` tells Optuna they were pruned) and its state as
plain data (so :class:`~raysweep.tune.schedulers.state.SchedulerStateCallback` carries its rungs
across ``--resume``; Ray 2.60 does not checkpoint schedulers).

Example::

    scheduler = ASHA(metric="dev_p_at_1", mode="max", max_t=4, grace_period=2, reduction_factor=2,
                     full_fidelity=3)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ray.tune.experiment import Trial
from ray.tune.schedulers import AsyncHyperBandScheduler
from ray.tune.schedulers.trial_scheduler import TrialScheduler

if TYPE_CHECKING:
    from ray.tune.execution.tune_controller import TuneController

STATE_VERSION = 1


class ASHA(AsyncHyperBandScheduler):
    """Ray's ASHA (same arguments) that records the trials it stops before ``full_fidelity`` (the
    ``time_attr`` of a trial's last result when it trains fully; default ``max_t``), leaving out
    results that report ``diverged`` (those trials end themselves)."""

    def __init__(self, *, full_fidelity: float | None = None, **asha: Any) -> None:
        super().__init__(**asha)
        self._full_fidelity = self._max_t if full_fidelity is None else full_fidelity
        self._stopped: set[str] = set()

    def on_trial_result(self, tune_controller: TuneController, trial: Trial, result: dict[str, Any]) -> str:
        action = super().on_trial_result(tune_controller, trial, result)
        t = result.get(self._time_attr)
        if action == TrialScheduler.STOP and t is not None and t < self._full_fidelity and not result.get("diverged"):
            self._stopped.add(trial.trial_id)
        return action

    def stopped_early(self, trial_id: str) -> bool:
        """Whether this scheduler stopped ``trial_id`` before it trained fully."""
        return trial_id in self._stopped

    def get_state(self) -> dict[str, Any]:
        """Every bracket's rungs (milestone, recorded rewards), the stop count and the trials stopped early."""
        return {
            "version": STATE_VERSION,
            "brackets": [[(m, dict(recorded)) for m, recorded in b._rungs] for b in self._brackets],
            "num_stopped": self._num_stopped,
            "stopped": sorted(self._stopped),
        }

    def set_state(self, state: dict[str, Any]) -> None:
        mine = [[m for m, _ in b._rungs] for b in self._brackets]
        theirs = [[m for m, _ in rungs] for rungs in state.get("brackets", ())]
        if state.get("version") != STATE_VERSION or mine != theirs:
            raise ValueError(
                f"ASHA state (milestones {theirs}) does not fit this scheduler (milestones {mine}); resume with the "
                "study's own settings"
            )
        for bracket, rungs in zip(self._brackets, state["brackets"], strict=True):
            bracket._rungs = [(m, dict(recorded)) for m, recorded in rungs]
        self._num_stopped = state["num_stopped"]
        self._stopped = set(state["stopped"])
