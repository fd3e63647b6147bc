"""A tiny real multi-objective search (``run_search``: Tune + Optuna + Pareto-ASHA, 2 Train workers a
trial, tiny local BERT), its trials in a fixed order, one at a time: two low-λ trials, a high-λ one,
then a repeat of the second. At the one deciding rung (step 5 of 10; the schedulers run on steps) the
high-λ trial drifts least, so it continues to full fidelity (where ASHA on the emotion metric alone may stop it) and the
study's Pareto pick can choose it; the repeat is dominated by it and stops, and reaches Optuna as
PRUNED with its partial values, not as a complete result."""

from __future__ import annotations

import functools
import pickle
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import optuna
import pytest
import task_fixtures
from tiny_study import tiny_space

tiny_tasks_dir = pytest.fixture(scope="session")(task_fixtures.tiny_tasks_dir)

METRIC, DRIFT = "dev_p_at_1", "dev_delta_emb"
LOW = {"loss.lam": 0.15, "loss.tau": 0.2, "model.head": "mlp"}
HIGH = {"loss.lam": 10.0, "loss.tau": 0.1, "model.head": "linear"}
POINTS = [{"loss.lam": 0.1, "loss.tau": 0.1, "model.head": "linear"}, LOW, HIGH, LOW]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_high_lambda_low_drift_trial_reaches_full_fidelity_and_can_be_picked(
    ray_local, tiny_bert: str, tiny_tasks_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ray.tune.schedulers import ASHAScheduler

    import raysweep.tune.searcher as searcher_module
    from raysweep.results.pareto import pareto_front
    from raysweep.tune.resources import plan_resources
    from raysweep.tune.space import load_space
    from raysweep.tune.study import StudyPaths, prepare_data, run_search

    monkeypatch.setattr(  # the searcher run_search builds, with the trials enqueued in this order
        searcher_module,
        "PrunedOptunaSearch",
        functools.partial(searcher_module.PrunedOptunaSearch, points_to_evaluate=POINTS),
    )
    path = str(
        tiny_space(tmp_path, tiny_bert, num_samples=len(POINTS), seeds=1, baselines=("plm",), max_concurrent_trials=1)
    )
    space = load_space(path)  # multi-objective; the data folder as `--data-dir` gives it
    space = (
        load_space(  # no λ = 0 point: the trials run in exactly the order of POINTS (tests/tune/test_lambda_zero.py)
            path,
            {
                "base": {"data": {**space.base.to_dict()["data"], "data_dir": str(tiny_tasks_dir)}},
                "study": {"lambda_zero": False},
            },
        )
    )
    assert space.study.multi_objective
    plan = plan_resources(space.base, dict(ray_local.cluster_resources()), space.study.max_concurrent_trials)
    paths = StudyPaths(name="pareto", storage=str(tmp_path / "st"), results=tmp_path / "res")
    grid = run_search(space, paths, plan, prepare_data(space, str(tiny_tasks_dir), plan), resume=False)

    records = [
        {"trial_id": r.metrics["trial_id"], "status": "TERMINATED", "config": r.config, "result": r.metrics}
        for r in grid
        if r.metrics
    ]
    assert len(records) == len(POINTS)
    lam = {r["trial_id"]: r["config"]["loss.lam"] for r in records}
    last = {r["trial_id"]: r["result"]["step"] for r in records}  # the schedulers' progress: steps
    (high,) = [r for r in records if r["config"]["loss.lam"] == HIGH["loss.lam"]]
    assert max(last.values()) == 10  # 10 steps, one report every 5
    assert last[high["trial_id"]] == 10, records  # the high-λ trial reached full fidelity
    assert all(r["config"]["train.max_steps"] == 10 for r in records)  # pinned: its final runs train as long
    front = pareto_front([r for r in records if last[r["trial_id"]] == 10], METRIC)
    assert high["trial_id"] in {t["trial_id"] for t in front}, front  # and the Pareto pick can choose it

    # the rung as the experiment checkpoint holds it, in arrival order; and ASHA on the metric alone
    rung = scheduler_state(Path(paths.root) / "search")["rungs"][5]  # the one deciding rung: step 5
    assert [lam[trial_id] for trial_id, *_ in rung] == [p["loss.lam"] for p in POINTS]
    decisions = [decision for *_, decision in rung]
    assert decisions[2] == "CONTINUE" and decisions[3] == "STOP"  # the repeat is dominated by the high-λ trial
    asha = ASHAScheduler(metric=METRIC, mode="max", max_t=3, grace_period=1, reduction_factor=2)
    for trial_id, metric, drift, decision in rung:
        asha.on_trial_add(None, SimpleNamespace(trial_id=trial_id))
        theirs = asha.on_trial_result(
            None, SimpleNamespace(trial_id=trial_id), {"training_iteration": 1, METRIC: metric}
        )
        print(f"rung 1: λ={lam[trial_id]:<5} {METRIC} {metric:.3f} {DRIFT} {drift:.4f}: {decision}; ASHA: {theirs}")

    # Optuna: the stopped trial is PRUNED with its partial values, every other one COMPLETE
    study = optuna.load_study(study_name="pareto", storage=f"sqlite:///{paths.optuna_db}")
    states = [t.state for t in sorted(study.trials, key=lambda t: t.number)]
    done, pruned = optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED
    assert states == [done, done, done, pruned]
    stopped = study.trials[3]
    assert stopped.values is None and set(stopped.user_attrs["partial_values"]) == {METRIC, DRIFT}
    assert stopped.user_attrs["stopped_at"] == 5.0  # the step it was stopped at
    assert {t.number for t in study.best_trials} <= {0, 1, 2}


def scheduler_state(experiment: Path) -> dict[str, Any]:
    """The scheduler state in the experiment's newest callback checkpoint (newest by name, as Tune)."""
    newest = sorted(experiment.glob("callback-states-*.pkl"))[-1]
    states = pickle.loads(newest.read_bytes())
    return next(s["state"] for s in states.values() if s and s.get("scheduler") == "ParetoASHA")
