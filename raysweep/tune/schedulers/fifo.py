"""No early stopping: Ray's ``FIFOScheduler`` with the interface the study needs of every scheduler
(``stopped_early``, always False; an empty state), so a search can run every trial to full fidelity
(``study.scheduler: fifo``), e.g. as the benchmark's reference for what early stopping costs.

Example::

    scheduler = FIFO(time_attr="step", max_t=121, full_fidelity=120)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ray.tune.experiment import Trial
from ray.tune.schedulers.trial_scheduler import FIFOScheduler, TrialScheduler

if TYPE_CHECKING:
    from ray.tune.execution.tune_controller import TuneController

STATE_VERSION = 1


class FIFO(FIFOScheduler):
    """Every trial runs until it ends itself, or until its ``time_attr`` reaches ``max_t`` (the
    schedulers' common stop one past full fidelity). The rung arguments the other schedulers take
    (``grace_period``, ``reduction_factor``, ``full_fidelity``, ``metric``...) are accepted and unused."""

    def __init__(self, *, time_attr: str = "step", max_t: float = float("inf"), **unused: Any) -> None:
        super().__init__()
        self._time_attr = time_attr
        self._max_t = max_t

    def on_trial_result(self, tune_controller: TuneController, trial: Trial, result: dict[str, Any]) -> str:
        t = result.get(self._time_attr)
        return TrialScheduler.STOP if t is not None and t >= self._max_t else TrialScheduler.CONTINUE

    def stopped_early(self, trial_id: str) -> bool:
        """Never: this scheduler stops no trial before it trains fully."""
        return False

    def get_state(self) -> dict[str, Any]:
        return {"version": STATE_VERSION}

    def set_state(self, state: dict[str, Any]) -> None:
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"FIFO state {state!r} does not fit this scheduler; resume with the study's own settings")
