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
objective names -> their values at the stop) and ``stopped_at`` (the stop's ``step``, the schedulers'
progress attribute). Trials that fail are told ``FAIL`` and all others ``COMPLETE``, as Ray does.
Single-objective intermediate values are reported at the result's ``step`` too (Ray uses
``training_iteration``, which a restored Train run starts again at 1, so Optuna would drop them as
repeats).

**The λ = 0 point** (``anchor``, :meth:`~raysweep.tune.space.SearchSpace.lambda_zero_point`) is the
first trial of the search. When Optuna can hold it (every value inside its distribution, e.g. a
uniform λ range from 0), it is enqueued with ``enqueue_trial(..., skip_if_exists=True)`` and Optuna
learns from it like any trial. A log range cannot hold λ = 0 (Optuna 5: ``ValueError: 0.0 is invalid
value for the case log=True``; Ray's ``points_to_evaluate`` enqueues through the same call, so it
would end the search at its first ``ask``), so then the point runs outside Optuna: :meth:`suggest`
hands it to the first trial itself, and the trial's results are not told to Optuna (the sampler never
sees it; the study's records, its front and its picks do). Either way it runs once per study: on
``--resume`` Tune calls ``set_search_properties`` on the searcher unpickled from ``tuner.pkl`` before
it restores the searcher's checkpoint, so Ray's own ``enqueue_trial`` would add a second waiting
copy to the sqlite study (``skip_if_exists`` finds the first, in whatever state), and the
outside-Optuna point is marked as handed out in the searcher's checkpoint.

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
    ``stopped_early(trial_id)`` says which trials end as ``PRUNED`` (None: Ray's behaviour), and
    ``anchor``, the point (flat dotted keys -> values) the search runs first, once (None: none)."""

    def __init__(
        self,
        *args: Any,
        stop_record: StatefulScheduler | None = None,
        anchor: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._stop_record = stop_record
        self._anchor = dict(anchor) if anchor else None
        self._anchor_outside: bool | None = None  # set with the study: True when Optuna cannot hold it
        self._anchor_trials: set[str] = set()  # the trial that ran the anchor outside Optuna
        super().__init__(*args, **kwargs)

    # ------------------------------------------------------------------ the λ = 0 point

    def _setup_study(self, mode: str | list[str]) -> None:
        super()._setup_study(mode)
        if self._anchor is None or self._anchor_trials:
            return
        self._anchor_outside = not _holds(self._space, self._anchor)
        if not self._anchor_outside:
            self._ot_study.enqueue_trial(self._anchor, skip_if_exists=True)

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        if self._anchor is not None and self._anchor_outside and not self._anchor_trials:
            self._anchor_trials.add(trial_id)
            return dict(self._anchor)
        return super().suggest(trial_id)

    def anchor_trial(self, trial_id: str) -> bool:
        """Whether ``trial_id`` runs the anchor outside Optuna (its results are not told to Optuna)."""
        return trial_id in self._anchor_trials

    def on_trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        if trial_id in self._anchor_trials:
            return
        if isinstance(self.metric, list) or trial_id in self._completed_trials:
            return super().on_trial_result(trial_id, result)
        step = result.get("step", result.get("training_iteration"))
        self._ot_trials[trial_id].report(result[self.metric], int(step))

    # ------------------------------------------------------------------ pruned trials

    def on_trial_complete(self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False) -> None:
        if trial_id in self._anchor_trials:
            self._completed_trials.add(trial_id)
            return
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
            ot_trial.set_user_attr("stopped_at", _number(result.get("step", result.get("training_iteration"))))
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


def _holds(space: Any, point: dict[str, Any]) -> bool:
    """Whether the Optuna distributions ``space`` (name -> distribution) can hold every value of
    ``point`` (and name every key of it)."""
    if not isinstance(space, dict) or set(point) - set(space):
        return False
    for name, value in point.items():
        distribution = space[name]
        try:
            inside = distribution._contains(distribution.to_internal_repr(value))
        except (ValueError, TypeError):
            return False
        if not inside:
            return False
    return True
