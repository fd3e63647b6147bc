"""Choosing how a study searches: ``study.scheduler`` and ``study.sampler``, validated with the
project's rules and mapped to classes in their registries."""

from __future__ import annotations

import optuna
import pytest

from raysweep.errors import RaysweepError
from raysweep.tune.optuna_samplers import SAMPLERS, build_sampler
from raysweep.tune.space import load_space


def test_schedulers_resolve_and_describe() -> None:
    assert load_space("cpu").scheduler_kind() == "pareto_asha" and load_space("smoke").scheduler_kind() == "asha"
    asha = load_space("cpu", {"study": {"scheduler": "asha"}})
    assert asha.scheduler_kind() == "asha" and "ASHA on dev_ami (grace 1, factor 2)" in asha.describe()
    fifo = load_space("cpu", {"study": {"scheduler": "fifo", "sampler": "random"}})
    assert "random search on (dev_ami max, dev_delta_emb min), no early stopping, seed 0" in fifo.describe()


@pytest.mark.parametrize(
    ("study", "message"),
    [
        ({"scheduler": "hyperband"}, "study.scheduler: unknown scheduler 'hyperband'"),
        ({"scheduler": "pareto_asha", "multi_objective": False}, "pareto_asha needs two objectives"),
        ({"sampler": "cmaes"}, "study.sampler: unknown sampler 'cmaes'"),
    ],
)
def test_bad_choices_are_refused_in_one_line(study: dict, message: str) -> None:
    with pytest.raises(RaysweepError, match=message) as err:
        load_space("cpu", {"study": study})
    assert "\n" not in str(err.value) and str(err.value).startswith(load_space("cpu").path)


def test_the_sampler_registry() -> None:
    assert set(SAMPLERS) == {"tpe", "nsga2", "random"}
    tpe = build_sampler("tpe", seed=3, num_samples=10)
    assert isinstance(tpe, optuna.samplers.TPESampler) and tpe._n_startup_trials == 3
    nsga2 = build_sampler("nsga2", seed=0, num_samples=64)
    assert isinstance(nsga2, optuna.samplers.NSGAIISampler) and nsga2._population_size == 32
    assert isinstance(build_sampler("random", seed=0, num_samples=5), optuna.samplers.RandomSampler)
    with pytest.raises(ValueError, match="unknown sampler 'grid'"):
        build_sampler("grid", seed=0, num_samples=5)
