"""The searcher reports single-objective intermediate values at the result's ``step``: a Train run
restored mid-trial starts Tune's ``training_iteration`` again at 1, its step goes on."""

from __future__ import annotations

import optuna
from ray import tune

from raysweep.tune.searcher import PrunedOptunaSearch


def test_intermediate_values_are_keyed_by_step() -> None:
    searcher = PrunedOptunaSearch(metric="dev_ami", mode="max", sampler=optuna.samplers.RandomSampler(seed=0))
    assert searcher.set_search_properties(None, None, {"loss.lam": tune.loguniform(0.1, 20.0)})
    searcher.suggest("t")
    searcher.on_trial_result("t", {"dev_ami": 0.1, "step": 40, "training_iteration": 1})
    searcher.on_trial_result("t", {"dev_ami": 0.2, "step": 80, "training_iteration": 2})
    searcher.on_trial_result("t", {"dev_ami": 0.3, "step": 120, "training_iteration": 1})  # after a restore
    (trial,) = searcher._ot_study.trials
    assert trial.intermediate_values == {40: 0.1, 80: 0.2, 120: 0.3}
