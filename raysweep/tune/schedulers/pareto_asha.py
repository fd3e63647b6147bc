"""Pareto-ASHA: asynchronous successive halving that promotes by non-dominated rank over (emotion
metric: max, drift: min), the crowding distance spreading the promoted trials along the front, as in
multi-objective ASHA (Schmucker et al. 2021, "Multi-objective multi-fidelity hyperparameter
optimization with application to fairness"; Salinas et al. 2021).

Ray's ASHA ranks a rung on one metric, so it stops exactly the trials that keep the original space
(high λ, low drift, a lower emotion metric early on). This scheduler keeps ASHA's rungs and its
asynchronous rule (a trial is judged once per rung, on arrival, against every trial recorded there
so far; earlier decisions are never revisited) and replaces its ranking:

**The rule.** Rungs sit at ASHA's milestones ``grace_period * reduction_factor**k`` (``k = 0, 1, ...``,
below ``max_t``; ``brackets=1``). When a trial's ``time_attr`` first reaches a milestone, its point
(metric, drift) at that result is recorded there, and with ``n`` the points recorded at the rung
(itself included) they are ordered, best first:

1. points whose metric is at or above ``floor`` (all of them when ``floor`` is None), by
   non-dominated front over (metric max, drift min), then crowding distance within the front
   (larger first; each front's two ends get infinity), then recording order;
2. then the points below ``floor``, by the metric alone (higher first), then recording order;
3. then points with a non-finite metric or drift.

The trial continues when its position is among the first ``ceil(n / reduction_factor)``, or when it
is an end of the first front of group 1 (the best metric, or the least drift, among the points at or
above the floor): the best trial so far on either objective is never stopped, as ASHA never stops
the best trial on its one metric. Otherwise it stops. A point with a non-finite value always stops.

**The emotion floor.** A trial that barely trained drifts little, so drift alone would promote it.
A point below ``floor`` never enters the Pareto ranking: it can only be promoted by its metric,
behind every point at or above the floor (so when fewer than ``ceil(n / rf)`` trials clear the floor,
the rest of the promotions go to the best metrics below it, as ASHA would), and it is never an end of
the front. Its drift plays no part. Set ``floor = PLM's dev metric + margin``, the untrained encoder's
value of the same dev metric on the same dev split plus a margin that is clearly beyond noise:
:func:`emotion_floor` with :data:`FLOOR_MARGIN` (0.02: twice the seed spread of test AMI in the
reference study, ±0.010, and 4-5 % of the gap between PLM and a retrofitted model there). None: no
floor.

**The floor rises with training** when ``floor_from`` is given (the study gives PLM's dev metric): at
a milestone ``m`` it is ``floor_from + (floor - floor_from) * m / full_fidelity``, PLM's own value at
step 0 and the whole margin at full fidelity. A trial must beat the untouched model at every rung,
but it is not held to the fully trained margin after a fraction of its training: a constant floor
stopped the whole low-drift end at the first rung. Measured with ``bench/search_quality.py``
(2026-12-02, 5 trials x 40 steps, 3 search seeds, PLM dev AMI 0.0497, floor 0.0697): at step 10 every
λ > 0.2 trial sat at dev AMI 0.047-0.064, below the constant floor, and was stopped, while random
search trained the same configurations to step 40, where λ = 3.97 and 6.08 reached 0.088 and 0.081
at dev Δemb 0.014 and 0.004 (above the floor, a fifth of SCL's drift); Pareto-ASHA then kept exactly
the trials ASHA on the metric kept (the same hypervolume on every seed), and random search's front
had 7.8x its hypervolume.

**Other results.** A result without ``time_attr``, the metric or the drift is passed through
(CONTINUE, nothing recorded), as in ASHA; so is one with a truthy ``diverged`` (the trial ends itself
and reports worst values to the searcher). A result at ``time_attr >= max_t`` stops (the trial is
done, not stopped early). No decision is taken at or beyond ``full_fidelity`` (default ``max_t``):
a trial there has trained fully. A trial already recorded at its highest reached milestone gets that
rung's recorded decision again (a trial re-run after ``--resume`` is judged the same way).

**State.** :meth:`get_state` / :meth:`set_state` give the rungs (every recorded point and decision)
as plain data, and :meth:`stopped_early` says which trials this scheduler cut short; Ray 2.60 does
not checkpoint schedulers, so :class:`~raysweep.tune.schedulers.state.SchedulerStateCallback` keeps
the state in the experiment checkpoint, and :class:`~raysweep.tune.searcher.PrunedOptunaSearch`
reads ``stopped_early`` to tell Optuna those trials were pruned.

Example::

    scheduler = ParetoASHA(metric="dev_ami", drift="dev_delta_emb", max_t=4, grace_period=2,
                           reduction_factor=2, full_fidelity=3, floor=emotion_floor(plm_dev_ami))
    tune.Tuner(trainable, tune_config=tune.TuneConfig(scheduler=scheduler, ...),
               run_config=tune.RunConfig(callbacks=[SchedulerStateCallback(scheduler)], ...))
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ray.tune.experiment import Trial
from ray.tune.schedulers.trial_scheduler import FIFOScheduler, TrialScheduler

from raysweep.tune.schedulers.nondominated import crowded_order, nondominated_fronts

if TYPE_CHECKING:
    from ray.tune.execution.tune_controller import TuneController

FLOOR_MARGIN = 0.02
"""Absolute margin (in the emotion metric's units) above the PLM's dev metric that a trial must reach
to be ranked on drift (see the module docstring)."""
STATE_VERSION = 1

CONTINUE, STOP = TrialScheduler.CONTINUE, TrialScheduler.STOP


def emotion_floor(plm_dev_metric: float | None, margin: float = FLOOR_MARGIN) -> float | None:
    """The floor for :class:`ParetoASHA`: the plain model's (PLM's) value of the study's dev emotion
    metric plus ``margin``; None (no floor) while the PLM's value is unknown.

    >>> emotion_floor(0.025)
    0.045
    >>> emotion_floor(None) is None
    True
    """
    return None if plm_dev_metric is None else round(plm_dev_metric + margin, 12)


def milestones(grace_period: float, max_t: float, reduction_factor: float) -> list[float]:
    """ASHA's rung milestones (one bracket), ascending: ``grace_period * reduction_factor**k`` for
    ``k < int(log(max_t / grace_period) / log(reduction_factor) + 1)``, as Ray's ``_Bracket`` has them."""
    count = int(math.log(max_t / grace_period) / math.log(reduction_factor) + 1)
    return [grace_period * reduction_factor**k for k in range(count)]


def promotion_order(points: Sequence[tuple[float, float]], floor: float | None) -> list[int]:
    """The indices of ``points`` (metric, drift), best first, as the module docstring's rule orders
    them: at or above ``floor`` by (front, crowding distance, index); below it by (metric, index);
    non-finite points last, by index."""
    finite = [i for i, (m, d) in enumerate(points) if math.isfinite(m) and math.isfinite(d)]
    above = [i for i in finite if floor is None or points[i][0] >= floor]
    below = sorted((i for i in finite if floor is not None and points[i][0] < floor), key=lambda i: (-points[i][0], i))
    ranked = [above[j] for j in crowded_order([(-points[i][0], points[i][1]) for i in above])]
    kept = set(finite)
    rest = [i for i in range(len(points)) if i not in kept]
    return ranked + below + rest


def front_ends(points: Sequence[tuple[float, float]], floor: float | None) -> set[int]:
    """The indices that end the first front of the points at or above ``floor`` (finite ones): those
    of the first front with the best metric or the least drift among them."""
    above = [
        i for i, (m, d) in enumerate(points) if math.isfinite(m) and math.isfinite(d) and (floor is None or m >= floor)
    ]
    if not above:
        return set()
    first = [above[j] for j in nondominated_fronts([(-points[i][0], points[i][1]) for i in above])[0]]
    best = max(points[i][0] for i in above)
    least = min(points[i][1] for i in above)
    return {i for i in first if points[i][0] == best or points[i][1] == least}


def decide(points: Sequence[tuple[float, float]], new: int, floor: float | None, reduction_factor: float) -> str:
    """CONTINUE or STOP for ``points[new]``, judged against every point of its rung (the rule above)."""
    metric, drift = points[new]
    if not (math.isfinite(metric) and math.isfinite(drift)):
        return STOP
    keep = math.ceil(len(points) / reduction_factor)
    if promotion_order(points, floor).index(new) < keep or new in front_ends(points, floor):
        return CONTINUE
    return STOP


class ParetoASHA(FIFOScheduler):
    """Asynchronous successive halving over (``metric``: max, ``drift``: min); the rule, the floor
    and the state are described in this module's docstring.

    Args:
        metric: the emotion metric (maximised), e.g. ``dev_ami``.
        drift: the drift metric (minimised), e.g. ``dev_delta_emb``.
        time_attr: the progress attribute of a result (monotonic), as in ASHA; the study uses the
            reported ``step``, which survives a Train run's restore (``training_iteration`` restarts).
        max_t: a result at or beyond it stops the trial (done), as in ASHA.
        grace_period: the first milestone, as in ASHA.
        reduction_factor: the rung keeps the best ``ceil(n / reduction_factor)`` of its ``n`` points.
        full_fidelity: the ``time_attr`` of a trial's last result when it trains fully (no decision is
            taken at or beyond it); default ``max_t``.
        floor: the emotion floor (:func:`emotion_floor`) at full fidelity, or None for none.
        floor_from: the floor's value at step 0 (PLM's dev metric), from which it rises linearly to
            ``floor`` at full fidelity; None: ``floor`` at every rung.
    """

    def __init__(
        self,
        metric: str,
        drift: str = "dev_delta_emb",
        *,
        time_attr: str = "training_iteration",
        max_t: float = 100,
        grace_period: float = 1,
        reduction_factor: float = 4,
        full_fidelity: float | None = None,
        floor: float | None = None,
        floor_from: float | None = None,
    ) -> None:
        if not (max_t > 0 and grace_period > 0 and max_t >= grace_period and reduction_factor > 1):
            raise ValueError(
                f"ParetoASHA needs 0 < grace_period <= max_t and reduction_factor > 1; got grace_period "
                f"{grace_period}, max_t {max_t}, reduction_factor {reduction_factor}"
            )
        super().__init__()
        self._metric = metric
        self._drift = drift
        self._time_attr = time_attr
        self._max_t = max_t
        self._reduction_factor = reduction_factor
        self._full_fidelity = max_t if full_fidelity is None else full_fidelity
        self._floor = floor
        self._floor_from = floor_from
        self._milestones = [m for m in milestones(grace_period, max_t, reduction_factor) if m < max_t]
        # milestone -> {trial_id: (metric, drift, decision)}, in recording order; decision None: recorded
        # when the trial completed, as a comparator only
        self._rungs: dict[float, dict[str, tuple[float, float, str | None]]] = {m: {} for m in self._milestones}
        self._stopped: set[str] = set()

    # ------------------------------------------------------------------ the Tune scheduler API

    def set_search_properties(self, metric: str | None, mode: str | None, **spec: Any) -> bool:
        """Accept Tune's metric only when it is this scheduler's own (or none)."""
        return metric is None or metric == self._metric

    def on_trial_add(self, tune_controller: TuneController, trial: Trial) -> None:
        pass

    def on_trial_result(self, tune_controller: TuneController, trial: Trial, result: dict[str, Any]) -> str:
        return self.judge(trial.trial_id, result)

    def on_trial_complete(self, tune_controller: TuneController, trial: Trial, result: dict[str, Any]) -> None:
        point = self._point(result)
        milestone = self._milestone(result)
        if point is not None and milestone is not None and trial.trial_id not in self._rungs[milestone]:
            self._rungs[milestone][trial.trial_id] = (*point, None)

    def on_trial_error(self, tune_controller: TuneController, trial: Trial) -> None:
        pass

    def on_trial_remove(self, tune_controller: TuneController, trial: Trial) -> None:
        pass

    def debug_string(self) -> str:
        rungs = " | ".join(f"{m:g}: {len(r)} recorded" for m, r in self._rungs.items())
        floor = "none" if self._floor is None else f"{self._floor:g}"
        if self._floor is not None and self._floor_from is not None:
            floor = f"rising from {self._floor_from:g} to {floor}"
        head = f"Using ParetoASHA on ({self._metric} max, {self._drift} min), floor {floor}"
        return f"{head}: stopped {len(self._stopped)}; {rungs}"

    def save(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "wb") as f:
            pickle.dump(self.get_state(), f)

    def restore(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "rb") as f:
            self.set_state(pickle.load(f))

    # ------------------------------------------------------------------ the rule

    def judge(self, trial_id: str, result: dict[str, Any]) -> str:
        """The decision for one result of ``trial_id`` (what :meth:`on_trial_result` returns)."""
        if result.get(self._time_attr) is not None and result[self._time_attr] >= self._max_t:
            return STOP
        point = self._point(result)
        milestone = self._milestone(result)
        if point is None or milestone is None:
            return CONTINUE
        rung = self._rungs[milestone]
        if trial_id in rung:
            return rung[trial_id][2] or CONTINUE
        rung[trial_id] = (*point, None)
        ids = list(rung)
        floor = self.floor_at(milestone)
        decision = decide([rung[t][:2] for t in ids], ids.index(trial_id), floor, self._reduction_factor)
        rung[trial_id] = (*point, decision)
        if decision == STOP:
            self._stopped.add(trial_id)
        return decision

    def floor_at(self, milestone: float) -> float | None:
        """The emotion floor a point recorded at ``milestone`` is held to (see the module docstring)."""
        if self._floor is None or self._floor_from is None:
            return self._floor
        share = min(max(milestone / self._full_fidelity, 0.0), 1.0)
        return self._floor_from + (self._floor - self._floor_from) * share

    def stopped_early(self, trial_id: str) -> bool:
        """Whether this scheduler stopped ``trial_id`` before it trained fully."""
        return trial_id in self._stopped

    def decisions(self) -> dict[str, list[tuple[float, str]]]:
        """Every decision taken, by trial: ``[(milestone, CONTINUE or STOP), ...]`` in milestone order."""
        out: dict[str, list[tuple[float, str]]] = {}
        for milestone, rung in self._rungs.items():
            for trial_id, (_, _, decision) in rung.items():
                if decision is not None:
                    out.setdefault(trial_id, []).append((milestone, decision))
        return out

    def _point(self, result: dict[str, Any]) -> tuple[float, float] | None:
        if result.get("diverged") or any(result.get(k) is None for k in (self._time_attr, self._metric, self._drift)):
            return None
        return float(result[self._metric]), float(result[self._drift])

    def _milestone(self, result: dict[str, Any]) -> float | None:
        """The highest milestone that the result's ``time_attr`` has reached, below full fidelity."""
        t = result.get(self._time_attr)
        if t is None or t >= self._full_fidelity:
            return None
        reached = [m for m in self._milestones if m <= t]
        return reached[-1] if reached else None

    # ------------------------------------------------------------------ state

    def get_state(self) -> dict[str, Any]:
        """The scheduler's state as plain data (milestones, every recorded point and decision, the
        trials stopped early); :meth:`set_state` of a scheduler built with the same arguments restores it."""
        return {
            "version": STATE_VERSION,
            "milestones": list(self._milestones),
            "rungs": {m: [(t, *record) for t, record in rung.items()] for m, rung in self._rungs.items()},
            "stopped": sorted(self._stopped),
        }

    def set_state(self, state: dict[str, Any]) -> None:
        if state.get("version") != STATE_VERSION or list(state.get("milestones", ())) != self._milestones:
            raise ValueError(
                f"ParetoASHA state (version {state.get('version')}, milestones {state.get('milestones')}) does not "
                f"fit this scheduler (version {STATE_VERSION}, milestones {self._milestones}); resume with the "
                "study's own settings"
            )
        rungs = state["rungs"]
        self._rungs = {m: {t: (metric, drift, d) for t, metric, drift, d in rungs[m]} for m in self._milestones}
        self._stopped = set(state["stopped"])
