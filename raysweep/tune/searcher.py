"""Optuna search that tells Optuna which trials were stopped early: ``TrialState.PRUNED``, never
``COMPLETE`` with the values of a half-trained model.

Ray's ``OptunaSearch.on_trial_complete`` tells Optuna ``COMPLETE`` with the last result's values
whenever there are values, so a trial that ASHA stopped at a third of its steps enters the
(multi-objective) TPE or NSGA-II history as if it had trained fully. :class:`PrunedOptunaSearch`
asks the scheduler (``stop_record.stopped_early(trial_id)``, see
:class:`~raysweep.tune.schedulers.state.StatefulScheduler`) and tells such a trial ``PRUNED``:

- single-objective: Optuna keeps the last intermediate value (Ray reports one per result) as the
  pruned trial's value, and TPE ranks pruned trials by it, behind the complete ones;
- multi-objective: Optuna has no values for a pruned trial (Ray reports no intermediate values
  there); TPE counts it among the worse trials, NSGA-II leaves it out of its population.

Either way the partial figures stay on the Optuna trial as user attributes: ``partial_values`` (the
objective names -> their values at the stop) and ``stopped_at`` (the stop's ``training_iteration``).
Trials that fail are told ``FAIL`` and all others ``COMPLETE``, as Ray does.

The stop record is not part of the searcher's checkpoint: the searcher and the scheduler are
restored together from ``tuner.pkl`` (the same object), and the scheduler's own state comes back
through :class:`~raysweep.tune.schedulers.state.SchedulerStateCallback`.

Example::

    scheduler = ParetoASHA(metric="dev_ami", max_t=4, grace_period=2, reduction_factor=2)
    searcher = PrunedOptunaSearch(metric=["dev_ami", "dev_delta_emb"], mode=["max", "min"],
                                  sampler=optuna.samplers.TPESampler(seed=0), stop_record=scheduler)
"""

from __future__ import annotations

import logging
from typing import Any

from ray.tune.search.optuna import OptunaSearch

from raysweep.tune.schedulers.state import StatefulScheduler

logger = logging.getLogger(__name__)


class PrunedOptunaSearch(OptunaSearch):
    """``OptunaSearch`` (same arguments) plus ``stop_record``, the scheduler whose
    ``stopped_early(trial_id)`` says which trials end as ``PRUNED``; None: Ray's behaviour."""

    def __init__(self, *args: Any, stop_record: StatefulScheduler | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stop_record = stop_record

    def on_trial_complete(self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False) -> None:
        record = self._stop_record
        if error or not result or record is None or trial_id in self._completed_trials:
            return super().on_trial_complete(trial_id, result=result, error=error)
        if not record.stopped_early(trial_id):
            return super().on_trial_complete(trial_id, result=result, error=error)
        import optuna

        ot_trial = self._ot_trials[trial_id]
        names = self.metric if isinstance(self.metric, list) else [self.metric]
        partial = {name: _number(result.get(name)) for name in names}
        try:
            ot_trial.set_user_attr("partial_values", partial)
            ot_trial.set_user_attr("stopped_at", _number(result.get("training_iteration")))
            self._ot_study.tell(ot_trial, None, state=optuna.trial.TrialState.PRUNED)
        except Exception as exc:  # as Ray's own on_trial_complete: a bad tell must not end the study
            logger.warning(exc)
        self._completed_trials.add(trial_id)

    def save(self, checkpoint_path: str) -> None:
        record, self._stop_record = self._stop_record, None
        try:
            super().save(checkpoint_path)
        finally:
            self._stop_record = record

    def restore(self, checkpoint_path: str) -> None:
        record = self._stop_record
        super().restore(checkpoint_path)
        self._stop_record = record


def _number(value: Any) -> float | None:
    """A JSON-safe float (Optuna stores user attributes as JSON), or None."""
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None
