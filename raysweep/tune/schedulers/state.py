"""Keeping a scheduler's state in Tune's experiment checkpoint, so early stopping survives ``--resume``.

Ray 2.60 checkpoints the trials, the searcher and the callbacks with the experiment
(``TuneController.save_to_dir``) but not the scheduler: ``Tuner.restore`` brings back the scheduler
pickled in ``tuner.pkl`` when the Tuner was made, with empty rungs, so a resumed study would judge
its next trials against nothing. :class:`SchedulerStateCallback` is a Tune callback whose state *is*
the scheduler's: Tune saves it with every experiment checkpoint (``callback-states-*.pkl``, next to
the trial states, taken at the same moment) and hands it back on restore, before any trial runs.

The callback holds the scheduler object itself. Both travel in the one pickle of ``tuner.pkl`` (the
TuneConfig and the RunConfig of the same Tuner), so after a restore the callback still points at the
scheduler Tune uses.

Example::

    scheduler = ParetoASHA(metric="dev_ami", max_t=4, grace_period=2, reduction_factor=2)
    tune.Tuner(trainable, tune_config=tune.TuneConfig(scheduler=scheduler),
               run_config=tune.RunConfig(callbacks=[SchedulerStateCallback(scheduler)]))
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from ray.tune import Callback


@runtime_checkable
class StatefulScheduler(Protocol):
    """What the study needs of a scheduler besides Tune's API: its state as plain data, and which
    trials it stopped before they trained fully."""

    def get_state(self) -> dict[str, Any]: ...

    def set_state(self, state: dict[str, Any]) -> None: ...

    def stopped_early(self, trial_id: str) -> bool: ...


class SchedulerStateCallback(Callback):
    """A Tune callback that saves ``scheduler.get_state()`` with each experiment checkpoint and calls
    ``scheduler.set_state`` on restore (see the module docstring)."""

    def __init__(self, scheduler: StatefulScheduler) -> None:
        self.scheduler = scheduler

    def get_state(self) -> dict[str, Any]:
        return {"scheduler": type(self.scheduler).__name__, "state": self.scheduler.get_state()}

    def set_state(self, state: dict[str, Any]) -> None:
        kind = type(self.scheduler).__name__
        if state.get("scheduler") != kind:
            raise ValueError(
                f"the experiment checkpoint holds the state of a {state.get('scheduler')} scheduler, not of a "
                f"{kind}; resume with the study's own settings"
            )
        self.scheduler.set_state(state["state"])
