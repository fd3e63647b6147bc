"""The search's λ = 0 point (SCL on the method's own front): its values (λ = 0, the base config
inside the searched ranges, the ranges' centers elsewhere), and the searcher that runs it once, first,
either enqueued in Optuna (a range that holds 0) or outside it (a log range cannot), across a resume
on the same sqlite study."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import optuna
import pytest

from raysweep.tune.distributions import parse_distribution
from raysweep.tune.searcher import PrunedOptunaSearch
from raysweep.tune.space import load_space

M, D = "dev_ami", "dev_delta_emb"


def test_the_point_is_lambda_zero_and_the_base_inside_the_ranges() -> None:
    space = load_space("cpu")
    assert space.lambda_zero_point() == {
        "loss.lam": 0.0,
        "loss.tau": 0.1,  # the base's, inside loguniform(0.03, 0.5)
        "model.head": "linear",
        "sampler.kind": "mperclass",
        "train.lr": 5e-5,
    }
    assert load_space("smoke").lambda_zero_point() is None  # single-objective: no front to put it on
    without = {"study": {"lambda_zero": False, "scl_from": "picks"}}  # scl_from: lambda_zero needs the point
    assert load_space("cpu", without).lambda_zero_point() is None


def test_values_the_ranges_cannot_take_become_their_centers() -> None:
    space = load_space(
        "cpu",
        {
            "base": {"loss": {"lam": 1.0, "tau": 0.9}, "model": {"name": "minilm", "pooling": "mean", "head": "mlp"}},
            "search": {
                "model.head": {"type": "choice", "values": ["linear"]},
                "train.eval_every": {"type": "int", "low": 10, "high": 50, "step": 20},
            },
        },
    )
    point = space.lambda_zero_point()
    assert point["loss.tau"] == pytest.approx(math.sqrt(0.03 * 0.5))  # 0.9 is outside: the geometric middle
    assert point["model.head"] == "linear"  # mlp is not a choice: the first value
    assert point["train.eval_every"] == 30  # the base's None is not on the grid 10, 30, 50: its middle
    assert point["loss.lam"] == 0.0


def test_distribution_centers_and_membership() -> None:
    def dist(spec: dict[str, Any]):
        return parse_distribution("k.x", spec, "f")

    assert dist({"type": "uniform", "low": 0, "high": 4}).value_near(5.0) == 2.0
    assert dist({"type": "uniform", "low": 0, "high": 4}).value_near(0.0) == 0.0
    assert dist({"type": "loguniform", "low": 0.1, "high": 10}).value_near(0.0) == pytest.approx(1.0)
    assert dist({"type": "int", "low": 1, "high": 9, "step": 2}).value_near(4) == 5
    assert dist({"type": "int", "low": 1, "high": 9, "step": 2}).value_near(3) == 3
    assert dist({"type": "choice", "values": [4, 8]}).value_near("4") == 4
    assert dist({"type": "fixed", "value": 3}).value_near(7) == 3


def _searcher(space, db: Path) -> PrunedOptunaSearch:
    searcher = PrunedOptunaSearch(
        metric=[M, D],
        mode=["max", "min"],
        storage=optuna.storages.RDBStorage(f"sqlite:///{db}"),
        study_name="s",
        sampler=optuna.samplers.TPESampler(seed=0),
        anchor=space.lambda_zero_point(),
    )
    assert searcher.set_search_properties(None, None, space.tune_space())  # what Tune does first
    return searcher


def _lambdas(db: Path) -> list[float | None]:
    study = optuna.load_study(study_name="s", storage=f"sqlite:///{db}")
    return [t.params.get("loss.lam", t.system_attrs.get("fixed_params", {}).get("loss.lam")) for t in study.trials]


def test_a_log_lambda_range_runs_the_point_outside_optuna_once_across_a_resume(tmp_path: Path) -> None:
    space = load_space("cpu")
    db = tmp_path / "optuna.db"
    searcher = _searcher(space, db)
    first = searcher.suggest("t0")
    assert first == space.lambda_zero_point() and searcher.anchor_trial("t0")
    second = searcher.suggest("t1")
    assert 0.1 <= second["loss.lam"] <= 10.0 and not searcher.anchor_trial("t1")
    searcher.on_trial_result("t0", {M: 0.2, D: 0.09, "step": 40})
    searcher.on_trial_complete("t0", {M: 0.2, D: 0.09, "step": 120})  # not told to Optuna: it cannot hold λ = 0
    assert _lambdas(db) == [second["loss.lam"]]
    searcher.save(str(tmp_path / "searcher.pkl"))

    resumed = _searcher(space, db)  # Tune's order on --resume: set_search_properties, then restore
    resumed.restore(str(tmp_path / "searcher.pkl"))
    assert resumed.suggest("t2")["loss.lam"] > 0 and not resumed.anchor_trial("t2")
    assert len(_lambdas(db)) == 2 and 0.0 not in _lambdas(db)


def test_a_range_that_holds_zero_gets_the_point_enqueued_once_across_a_resume(tmp_path: Path) -> None:
    space = load_space("cpu", {"search": {"loss.lam": {"type": "uniform", "low": 0.0, "high": 5.0}}})
    db = tmp_path / "optuna.db"
    searcher = _searcher(space, db)
    assert _lambdas(db) == [0.0]  # waiting in the Optuna study
    assert searcher.suggest("t0") == space.lambda_zero_point() and not searcher.anchor_trial("t0")
    searcher.on_trial_complete("t0", {M: 0.2, D: 0.09, "step": 120})
    study = optuna.load_study(study_name="s", storage=f"sqlite:///{db}")
    assert study.trials[0].state == optuna.trial.TrialState.COMPLETE and study.trials[0].values == [0.2, 0.09]
    searcher.save(str(tmp_path / "searcher.pkl"))

    for _ in range(2):  # resumed twice: never enqueued again (Ray's own enqueue_trial would add a copy)
        resumed = _searcher(space, db)
        resumed.restore(str(tmp_path / "searcher.pkl"))
    assert resumed.suggest("t1")["loss.lam"] != 0.0
    assert _lambdas(db).count(0.0) == 1 and len(_lambdas(db)) == 2
