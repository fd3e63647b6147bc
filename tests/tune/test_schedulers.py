"""The early-stopping schedulers on synthetic rung results, without a Ray cluster: non-dominated
sorting and crowding distance, Pareto-ASHA's promotion rule (a dominated trial stops, both ends of
the front continue, ties spread by crowding distance, the emotion floor), its state across a
restore (decisions after a restore equal an uninterrupted run's), the callback that carries the
state in Tune's experiment checkpoint, the Optuna searcher that marks stopped trials pruned, and
``run_search``'s choice of scheduler."""

from __future__ import annotations

import math
import pickle
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import optuna
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ray import cloudpickle, tune
from ray.tune.callback import CallbackList
from ray.tune.schedulers import ASHAScheduler
from ray.tune.schedulers.async_hyperband import _Bracket
from ray.tune.search.optuna import OptunaSearch

from raysweep.tune.schedulers import (
    ASHA,
    FIFO,
    SCHEDULERS,
    ParetoASHA,
    SchedulerStateCallback,
    build_scheduler,
    emotion_floor,
    scheduler_kind,
)
from raysweep.tune.schedulers.nondominated import crowded_order, crowding_distances, dominates, nondominated_fronts
from raysweep.tune.schedulers.pareto_asha import milestones, promotion_order
from raysweep.tune.searcher import PrunedOptunaSearch

M, D, T = "dev_ami", "dev_delta_emb", "training_iteration"
C, S = "CONTINUE", "STOP"


def trial(trial_id: str) -> SimpleNamespace:
    """The one thing the schedulers read of a Tune trial."""
    return SimpleNamespace(trial_id=trial_id)


def result(t: float, metric: float | None, drift: float | None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {T: t, **extra}
    if metric is not None:
        out[M] = metric
    if drift is not None:
        out[D] = drift
    return out


def pareto(reduction_factor: float = 2, floor: float | None = None) -> ParetoASHA:
    """Rungs at 1 and 2 (grace 1, factor 2); a trial trains fully at 3 reports, max_t one past."""
    return ParetoASHA(M, D, max_t=4, grace_period=1, reduction_factor=reduction_factor, full_fidelity=3, floor=floor)


def feed(scheduler: Any, trial_id: str, t: float, metric: float | None, drift: float | None, **extra: Any) -> str:
    return scheduler.on_trial_result(None, trial(trial_id), result(t, metric, drift, **extra))


def rung(scheduler: Any, points: list[tuple[float, float]], t: float = 1) -> None:
    """Record ``points`` at the rung of ``t`` (their own decisions do not matter to the test)."""
    for i, (m, d) in enumerate(points):
        feed(scheduler, f"old{i}", t, m, d)


# ------------------------------------------------------------------ non-dominated sorting


def test_fronts_and_crowding_on_a_known_set() -> None:
    points = [(0.0, 1.0), (1.0, 0.0), (0.5, 0.5), (1.0, 1.0), (0.2, 0.9), (0.5, 0.5)]
    assert dominates((0.0, 0.0), (0.0, 1.0)) and not dominates((0.0, 1.0), (0.0, 1.0))
    assert nondominated_fronts(points) == [[0, 1, 2, 4, 5], [3]]
    distance = crowding_distances(points, [0, 1, 2, 4, 5])
    assert distance[0] == distance[1] == math.inf
    assert distance[4] == pytest.approx((0.5 - 0.0) + (1.0 - 0.5))  # neighbours 0 and 2 in both objectives
    assert crowding_distances(points, [3]) == {3: math.inf}
    assert crowded_order(points)[:2] == [0, 1] and crowded_order(points)[-1] == 3


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=1, max_size=14))
def test_fronts_partition_and_respect_dominance(points: list[tuple[int, int]]) -> None:
    fronts = nondominated_fronts(points)
    assert sorted(i for f in fronts for i in f) == list(range(len(points)))
    rank = {i: k for k, f in enumerate(fronts) for i in f}
    for i in range(len(points)):
        for j in range(len(points)):
            if dominates(points[i], points[j]):
                assert rank[i] < rank[j]
        if rank[i] > 0:  # something in the front just above dominates it
            assert any(dominates(points[j], points[i]) for j in fronts[rank[i] - 1])
    order = crowded_order(points)
    assert sorted(order) == list(range(len(points))) and [rank[i] for i in order] == sorted(rank.values())


@pytest.mark.parametrize(("grace", "max_t", "factor"), [(1, 3, 2), (2, 4, 2), (1, 100, 3), (1, 10, 2), (3, 81, 3)])
def test_the_rungs_are_ashas(grace: int, max_t: int, factor: int) -> None:
    assert milestones(grace, max_t, factor) == sorted(m for m, _ in _Bracket(grace, max_t, factor, 0)._rungs)


# ------------------------------------------------------------------ the promotion rule


def test_a_dominated_trial_stops() -> None:
    s = pareto()
    assert feed(s, "a", 1, 0.30, 0.10) == C  # first at the rung
    assert feed(s, "b", 1, 0.20, 0.05) == C  # the least drift: an end of the front
    assert feed(s, "c", 1, 0.10, 0.20) == S  # dominated by both, third of three (keep ceil(3/2) = 2)
    assert s.stopped_early("c") and not s.stopped_early("a") and not s.stopped_early("b")
    assert s.decisions() == {"a": [(1, C)], "b": [(1, C)], "c": [(1, S)]}


@pytest.mark.parametrize("factor", [2, 3, 4])
def test_either_end_of_the_front_continues(factor: int) -> None:
    front = [(0.30, 0.10), (0.25, 0.08), (0.22, 0.07), (0.20, 0.06), (0.18, 0.055)]
    for end in [(0.12, 0.01), (0.45, 0.30)]:  # the least drift, the best metric: both ends of the front
        s = pareto(factor)
        rung(s, front)
        assert feed(s, "new", 1, *end) == C, end
    # the same low-drift trial against one better-metric trial: ASHA on the metric alone stops it
    s, asha = pareto(), ASHAScheduler(metric=M, mode="max", max_t=4, grace_period=1, reduction_factor=2)
    for name, point in (("a", (0.30, 0.10)), ("high-lambda", (0.12, 0.01))):
        asha.on_trial_add(None, trial(name))
        assert feed(s, name, 1, *point) == C
        asha_decision = feed(asha, name, 1, *point)
    assert asha_decision == S


def test_ties_on_the_front_are_spread_by_crowding_distance() -> None:
    # five non-dominated points (metric and drift grow together) with a gap between 0.14 and 0.40
    front = [(0.10, 0.10), (0.12, 0.12), (0.14, 0.14), (0.40, 0.40), (0.50, 0.50)]
    lonely, crowded = pareto(), pareto()
    rung(lonely, front)
    rung(crowded, front)
    # both newcomers are on the front (same rank); keep ceil(6 / 2) = 3: the two ends, then the lonelier
    assert feed(lonely, "new", 1, 0.27, 0.27) == C
    assert feed(crowded, "new", 1, 0.11, 0.11) == S
    points = [*front, (0.27, 0.27)]
    assert promotion_order(points, None)[:3] == [0, 4, 5]


def test_the_floor_keeps_barely_trained_trials_from_winning_on_drift() -> None:
    # without a floor the untrained-looking trial is an end of the front (least drift) and continues
    s = pareto(floor=None)
    feed(s, "a", 1, 0.30, 0.10)
    assert feed(s, "barely", 1, 0.05, 0.001) == C
    # with the floor (PLM 0.025 + margin 0.02 = 0.045 < 0.05) it still clears it ...
    s = pareto(floor=emotion_floor(0.025))
    feed(s, "a", 1, 0.30, 0.10)
    assert feed(s, "barely", 1, 0.05, 0.001) == C
    # ... but below a floor of 0.1 it is ranked behind every trial that clears it, on its metric only
    s = pareto(floor=0.1)
    feed(s, "a", 1, 0.12, 0.30)
    assert feed(s, "barely", 1, 0.09, 0.0) == S
    # when nobody clears the floor, the metric alone decides (drift plays no part)
    s = pareto(floor=0.5)
    feed(s, "a", 1, 0.30, 0.20)
    assert feed(s, "low-drift", 1, 0.20, 0.01) == S
    assert feed(s, "better", 1, 0.35, 0.90) == C
    assert emotion_floor(None) is None and emotion_floor(0.025, margin=0.05) == pytest.approx(0.075)


def test_the_floor_rises_from_plm_to_the_margin_and_keeps_the_low_drift_end() -> None:
    # the measured case (bench/search_quality.py, 2026-12-02): PLM dev AMI 0.0497, floor 0.0697 at
    # full fidelity (40 steps); at step 10 the lambda = 0 point had 0.072 / drift 0.030, and lambda = 3.97
    # 0.069 / 0.020 (it reached 0.088 / 0.014 at step 40 under random search)
    plm = 0.0497

    def sched(floor_from: float | None) -> ParetoASHA:
        return ParetoASHA(
            M,
            D,
            max_t=41,
            grace_period=10,
            reduction_factor=2,
            full_fidelity=40,
            floor=emotion_floor(plm),
            floor_from=floor_from,
        )

    constant, rising = sched(None), sched(plm)
    assert constant.floor_at(10) == pytest.approx(0.0697)
    assert rising.floor_at(10) == pytest.approx(plm + 0.02 * 10 / 40)
    assert rising.floor_at(20) == pytest.approx(plm + 0.01) and rising.floor_at(40) == pytest.approx(0.0697)
    for s in (constant, rising):
        feed(s, "scl", 10, 0.072, 0.030)
    # held to the full margin after a quarter of its training, the low-drift trial is stopped ...
    assert feed(constant, "high-lam", 10, 0.064, 0.004) == S
    # ... held to PLM + a quarter of it, it is the front's low-drift end and continues
    assert feed(rising, "high-lam", 10, 0.064, 0.004) == C
    # a trial no better than the untouched model is still stopped on its drift alone
    assert feed(rising, "untrained", 10, 0.047, 0.001) == S


def test_results_that_decide_nothing() -> None:
    s = pareto()
    assert feed(s, "early", 0.5, 0.1, 0.1) == C  # before the first milestone
    assert feed(s, "no-drift", 1, 0.1, None) == C  # a result without the drift
    assert feed(s, "diverged", 1, -1.0, 2.0, diverged=1.0) == C  # ends itself; not recorded
    assert feed(s, "full", 3, 0.0, 1.0) == C  # trained fully: no decision there
    assert s.get_state()["rungs"] == {1: [], 2: []}
    assert feed(s, "done", 4, 0.0, 1.0) == S and not s.stopped_early("done")  # max_t: done, not cut short
    assert feed(s, "first", 1, 0.3, 0.1) == C
    assert feed(s, "nan", 1, float("nan"), 0.1) == S  # a non-finite point always stops


def test_a_decision_is_taken_once_per_rung_and_replayed() -> None:
    s = pareto()
    for name, point in (("a", (0.30, 0.10)), ("b", (0.20, 0.05)), ("c", (0.10, 0.20))):
        feed(s, name, 1, *point)
    before = s.get_state()
    assert feed(s, "c", 1, 0.99, 0.0) == S  # a re-run trial reporting the same rung again: same decision
    assert feed(s, "a", 1.5, 0.0, 1.0) == C  # a later result below the next milestone
    assert s.get_state() == before
    assert feed(s, "a", 2, 0.4, 0.1) == C and feed(s, "b", 2, 0.3, 0.2) == S  # the next rung judges anew
    s.on_trial_complete(None, trial("z"), result(1, 0.5, 0.5))  # completed unjudged: a comparator only
    assert "z" not in s.decisions() and [r[0] for r in s.get_state()["rungs"][1]] == ["a", "b", "c", "z"]


# ------------------------------------------------------------------ state across a restore

# an asynchronous search: trials reach the rungs interleaved; (trial, time, metric, drift)
SEQUENCE = [
    ("t0", 1, 0.20, 0.10),
    ("t1", 1, 0.25, 0.15),
    ("t0", 2, 0.30, 0.12),
    ("t2", 1, 0.10, 0.20),
    ("t3", 1, 0.15, 0.05),
    ("t1", 2, 0.33, 0.20),
    ("t3", 2, 0.18, 0.06),
    ("t4", 1, 0.12, 0.18),
    ("t5", 1, 0.24, 0.02),
    ("t6", 1, 0.05, 0.30),
    ("t5", 2, 0.26, 0.03),
    ("t7", 1, 0.22, 0.12),
    ("t7", 2, 0.21, 0.13),
]


def run(scheduler: Any, steps: list[tuple[str, float, float, float]]) -> list[str]:
    return [feed(scheduler, *step) for step in steps]


@pytest.mark.parametrize("how", ["state", "save-restore", "pickle"])
def test_decisions_after_a_restore_equal_an_uninterrupted_run(how: str, tmp_path: Path) -> None:
    whole = run(pareto(), SEQUENCE)
    assert S in whole and whole.count(S) >= 3  # the sequence does stop trials
    for cut in range(1, len(SEQUENCE)):
        first = pareto()
        head = run(first, SEQUENCE[:cut])
        if how == "state":
            second = pareto()
            second.set_state(pickle.loads(pickle.dumps(first.get_state())))
        elif how == "save-restore":
            first.save(str(tmp_path / "s.pkl"))
            second = pareto()
            second.restore(str(tmp_path / "s.pkl"))
        else:
            second = pickle.loads(pickle.dumps(first))
        # a trial in flight at the snapshot re-runs from its start: its recorded rungs are replayed
        replay = [step for step in SEQUENCE[:cut] if step[0] == SEQUENCE[cut - 1][0]]
        assert run(second, replay) == [d for step, d in zip(SEQUENCE[:cut], head, strict=True) if step in replay]
        assert head + run(second, SEQUENCE[cut:]) == whole, cut
        assert second.decisions() == pareto_decisions(SEQUENCE)


def pareto_decisions(steps: list[tuple[str, float, float, float]]) -> dict[str, list[tuple[float, str]]]:
    s = pareto()
    run(s, steps)
    return s.decisions()


def test_without_its_state_a_resumed_scheduler_would_decide_otherwise() -> None:
    cut = 7
    whole = run(pareto(), SEQUENCE)
    assert run(pareto(), SEQUENCE[cut:]) != whole[cut:]


def test_a_state_of_other_settings_is_refused() -> None:
    other = ParetoASHA(M, D, max_t=10, grace_period=1, reduction_factor=2)
    with pytest.raises(ValueError, match="milestones"):
        pareto().set_state(other.get_state())


def test_the_callback_carries_the_state_through_tunes_checkpoint_files(tmp_path: Path) -> None:
    first = pareto()
    run(first, SEQUENCE[:6])
    CallbackList([SchedulerStateCallback(first)]).save_to_dir(str(tmp_path), session_str="s1")
    assert list(tmp_path.glob("callback-states-*.pkl"))
    second = pareto()
    callbacks = CallbackList([SchedulerStateCallback(second)])
    assert callbacks.can_restore(str(tmp_path))
    callbacks.restore_from_dir(str(tmp_path))
    assert second.get_state() == first.get_state()
    assert run(second, SEQUENCE[6:]) == run(pareto(), SEQUENCE)[6:]
    with pytest.raises(ValueError, match="ParetoASHA"):
        SchedulerStateCallback(asha()).set_state(SchedulerStateCallback(first).get_state())


def test_one_pickle_keeps_scheduler_callback_and_searcher_the_same_object() -> None:
    """``tuner.pkl`` pickles the TuneConfig and the RunConfig together; after loading, the callback and
    the searcher still point at the scheduler Tune uses."""
    s = pareto()
    searcher = PrunedOptunaSearch(metric=[M, D], mode=["max", "min"], stop_record=s)
    state = {
        "tune_config": tune.TuneConfig(scheduler=s, search_alg=searcher),
        "run_config": tune.RunConfig(callbacks=[SchedulerStateCallback(s)]),
    }
    back = cloudpickle.loads(cloudpickle.dumps(state))
    scheduler = back["tune_config"].scheduler
    assert back["run_config"].callbacks[0].scheduler is scheduler
    assert back["tune_config"].search_alg._stop_record is scheduler


# ------------------------------------------------------------------ ASHA, single-objective


def asha() -> ASHA:
    return ASHA(metric=M, mode="max", max_t=4, grace_period=1, reduction_factor=2, full_fidelity=3)


def test_asha_keeps_rays_rule_and_records_its_stops() -> None:
    ours, rays = asha(), ASHAScheduler(metric=M, mode="max", max_t=4, grace_period=1, reduction_factor=2)
    for name in {step[0] for step in SEQUENCE}:
        ours.on_trial_add(None, trial(name))
        rays.on_trial_add(None, trial(name))
    decisions = run(ours, SEQUENCE)
    assert decisions == run(rays, SEQUENCE) and S in decisions
    stopped = {step[0] for step, d in zip(SEQUENCE, decisions, strict=True) if d == S}
    assert {name for name in ours._trial_info if ours.stopped_early(name)} == stopped
    ours.on_trial_add(None, trial("last"))
    assert feed(ours, "last", 4, 0.0, 0.0) == S and not ours.stopped_early("last")  # max_t: done
    ours.on_trial_add(None, trial("diverged"))  # stopped on its worst values, but it ends itself anyway
    assert feed(ours, "diverged", 2, -1.0, 2.0, diverged=1.0) == S and not ours.stopped_early("diverged")


def test_on_the_same_search_asha_stops_the_low_drift_trials_pareto_asha_keeps() -> None:
    ours, rays = run(pareto(), SEQUENCE), run(with_trials(asha()), SEQUENCE)
    for low_drift in (("t3", 1), ("t5", 2)):  # t3: drift 0.05 at metric 0.15; t5 at rung 2: the least drift
        i = next(k for k, step in enumerate(SEQUENCE) if step[:2] == low_drift)
        assert (ours[i], rays[i]) == (C, S), low_drift


def test_asha_state_round_trip_replays_the_same_decisions() -> None:
    whole = run(with_trials(asha()), SEQUENCE)
    first = with_trials(asha())
    head = run(first, SEQUENCE[:6])
    second = with_trials(asha())
    SchedulerStateCallback(second).set_state(pickle.loads(pickle.dumps(SchedulerStateCallback(first).get_state())))
    assert head + run(second, SEQUENCE[6:]) == whole
    assert run(with_trials(asha()), SEQUENCE[6:]) != whole[6:]  # a fresh one decides otherwise


def with_trials(scheduler: ASHA) -> ASHA:
    for name in sorted({step[0] for step in SEQUENCE}):
        scheduler.on_trial_add(None, trial(name))
    return scheduler


# ------------------------------------------------------------------ Optuna sees stopped trials as pruned


class Stops:
    """A stop record: the trials a scheduler stopped early."""

    def __init__(self, *trial_ids: str) -> None:
        self.ids = set(trial_ids)

    def stopped_early(self, trial_id: str) -> bool:
        return trial_id in self.ids


SPACE = {"lam": optuna.distributions.FloatDistribution(0.1, 20.0, log=True)}


def searcher(cls: type = PrunedOptunaSearch, multi: bool = True, **kw: Any) -> OptunaSearch:
    metric, mode = ([M, D], ["max", "min"]) if multi else (M, "max")
    sampler = optuna.samplers.TPESampler(seed=0, n_startup_trials=2)
    return cls(space=SPACE, metric=metric, mode=mode, sampler=sampler, **kw)


def test_stopped_trials_reach_optuna_as_pruned_multi_objective() -> None:
    s = searcher(stop_record=Stops("stopped"))
    for name in ("stopped", "full", "failed"):
        s.suggest(name)
    s.on_trial_complete("stopped", result(1, 0.14, 0.02))
    s.on_trial_complete("full", result(3, 0.25, 0.08))
    s.on_trial_complete("failed", error=True)
    trials = s._ot_study.trials
    states = [t.state for t in trials]
    assert states == [optuna.trial.TrialState.PRUNED, optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL]
    assert trials[0].values is None and trials[1].values == [0.25, 0.08]
    assert trials[0].user_attrs == {"partial_values": {M: 0.14, D: 0.02}, "stopped_at": 1.0}
    assert [t.number for t in s._ot_study.best_trials] == [1]  # the Pareto front holds complete trials only
    for name in ("next1", "next2"):  # TPE keeps sampling with a pruned trial in its history
        assert 0.1 <= s.suggest(name)["lam"] <= 20.0
    # Ray's own OptunaSearch records the stopped trial as complete, with its partial values
    plain = searcher(OptunaSearch)
    plain.suggest("stopped")
    plain.on_trial_complete("stopped", result(1, 0.14, 0.02))
    assert plain._ot_study.trials[0].state == optuna.trial.TrialState.COMPLETE


def test_stopped_trials_reach_optuna_as_pruned_single_objective() -> None:
    s = searcher(multi=False, stop_record=Stops("stopped"))
    s.suggest("stopped")
    s.on_trial_result("stopped", result(1, 0.14, 0.02))
    s.on_trial_complete("stopped", result(1, 0.14, 0.02))
    (t,) = s._ot_study.trials
    assert t.state == optuna.trial.TrialState.PRUNED and t.value == pytest.approx(0.14)  # the last intermediate
    assert t.user_attrs["stopped_at"] == 1.0


def test_the_stop_record_stays_out_of_the_searcher_checkpoint(tmp_path: Path) -> None:
    record = Stops("a")
    s = searcher(stop_record=record)
    s.suggest("a")
    s.save(str(tmp_path / "searcher.pkl"))
    assert s._stop_record is record
    assert pickle.loads((tmp_path / "searcher.pkl").read_bytes())["_stop_record"] is None
    other = Stops()
    restored = searcher(stop_record=other)
    restored.restore(str(tmp_path / "searcher.pkl"))
    assert restored._stop_record is other and "a" in restored._ot_trials


# ------------------------------------------------------------------ the registry and run_search


def test_registry() -> None:
    from raysweep.tune.space import SCHEDULER_KINDS

    assert SCHEDULERS == {"asha": ASHA, "pareto_asha": ParetoASHA, "fifo": FIFO}
    assert set(SCHEDULER_KINDS) == {"auto", *SCHEDULERS}  # the space's option strings are the registry's
    assert scheduler_kind(True) == "pareto_asha" and scheduler_kind(False) == "asha"
    common = dict(metric=M, max_t=4, grace_period=2, reduction_factor=2, full_fidelity=3)
    assert isinstance(build_scheduler("asha", **common), ASHA)
    assert isinstance(build_scheduler("pareto_asha", floor=0.05, **common), ParetoASHA)
    fifo = build_scheduler("fifo", **common)
    assert isinstance(fifo, FIFO) and fifo._time_attr == "step"  # the study's progress attribute by default
    assert [fifo.on_trial_result(None, None, {"step": t}) for t in (1, 3, 4)] == [C, C, S]
    assert not fifo.stopped_early("a") and fifo.get_state() == {"version": 1}
    with pytest.raises(ValueError, match="unknown scheduler"):
        build_scheduler("hyperband", **common)


class FakeTuner:
    """Stands in for ``tune.Tuner``: keeps what run_search builds."""

    made: list[FakeTuner] = []

    def __init__(self, trainable: Any, **kw: Any) -> None:
        self.kw = kw
        FakeTuner.made.append(self)

    @staticmethod
    def can_restore(path: str) -> bool:
        return False

    def fit(self) -> FakeTuner:
        return self


@pytest.mark.parametrize(("space_name", "kind"), [("cpu", ParetoASHA), ("smoke", ASHA)])
def test_run_search_picks_the_scheduler_by_objectives(
    space_name: str, kind: type, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import raysweep.tune.study as study
    from raysweep.tune.resources import ResourcePlan
    from raysweep.tune.space import load_space
    from raysweep.tune.study import StudyPaths, run_search

    monkeypatch.setattr(tune, "Tuner", FakeTuner)
    monkeypatch.setattr(tune, "with_parameters", lambda f, **kw: f)
    monkeypatch.setattr(tune, "with_resources", lambda f, resources: f)
    monkeypatch.setattr(study, "train_rows", lambda data: lambda cfg: cfg.data.train_limit)  # no Ray here
    space = load_space(space_name)
    plan = ResourcePlan(
        total_cpus=2, total_gpus=0, max_concurrent_trials=1, num_workers=2, cpus_per_worker=1, gpus_per_worker=0
    )
    paths = StudyPaths(name="s", storage=str(tmp_path / "st"), results=tmp_path / "res")
    made = run_search(space, paths, plan, {}, resume=False)
    scheduler = made.kw["tune_config"].scheduler
    assert type(scheduler) is kind and scheduler.metric == space.study.metric
    search = made.kw["tune_config"].search_alg
    assert isinstance(search, PrunedOptunaSearch) and search._stop_record is scheduler
    (callback,) = [c for c in made.kw["run_config"].callbacks if isinstance(c, SchedulerStateCallback)]
    assert callback.scheduler is scheduler
    # cpu: 500 steps (8000 rows / 64 = 125 a epoch, 4 epochs), every 100, grace 1 evaluation, factor 2:
    # rungs at steps 100, 200 and 400, max_t 501; smoke: 40 steps, every 20, grace 1 evaluation: ASHA's
    # rungs at 20 and 40 (the end)
    assert scheduler._time_attr == "step" and made.kw["param_space"]["train.max_steps"] == (
        500 if kind is ParetoASHA else 40
    )
    if kind is ParetoASHA:
        assert scheduler._milestones == [100, 200, 400] and scheduler._full_fidelity == 500 and scheduler._max_t == 501
        assert scheduler._floor is None
        assert search._anchor == space.lambda_zero_point() and search._anchor["loss.lam"] == 0.0
    else:
        assert [m for m, _ in scheduler._brackets[0]._rungs] == [40, 20] and scheduler._full_fidelity == 40
        assert search._anchor is None  # single-objective: no λ = 0 point
