"""The search's full fidelity is the final runs' length, in steps: worked out for every configuration
a space can sample, refused when they differ, and the rungs in the same unit."""

from __future__ import annotations

import pytest

from raysweep.errors import RaysweepError
from raysweep.tune.schedulers.fidelity import SearchFidelity, search_fidelity, training_length
from raysweep.tune.space import load_space
from raysweep.tune.study import search_length

FULL_ROWS = 36308  # single-label GoEmotions' training rows


def test_training_length_counts_as_the_worker_does() -> None:
    cfg = load_space("cpu").base  # batch 64, 4 epochs, max_steps 500, every 100
    assert training_length(cfg, 8000) == (500, 100)  # 125 steps an epoch x 4, the cap of 500 reached
    assert training_length(cfg, 5000) == (312, 100)  # 78 steps an epoch x 4 bind first
    full = load_space("full").base
    assert training_length(full.replace(train={"max_steps": None, "eval_every": None}), FULL_ROWS) == (1512, 378)


def test_the_shipped_spaces_have_one_length() -> None:
    assert search_length(load_space("cpu"), lambda cfg: 8000) == SearchFidelity(500, 100)
    assert search_length(load_space("smoke"), lambda cfg: 3000) == SearchFidelity(40, 20)
    # batch 64 or 96 for 4 epochs would be 2268 or 1512 steps: the cap of 1500 gives both one length
    assert search_length(load_space("full"), lambda cfg: FULL_ROWS) == SearchFidelity(1500, 375)


def test_a_space_whose_trials_train_for_different_lengths_is_refused() -> None:
    train = {**load_space("full").base.to_dict()["train"], "max_steps": None, "eval_every": None}
    space = load_space("full", {"base": {"train": train}})  # 4 epochs, no cap
    with pytest.raises(RaysweepError, match="different lengths") as err:
        search_length(space, lambda cfg: FULL_ROWS)
    message = str(err.value)
    assert "1512 steps with" in message and "sampler.batch_size=96" in message and "2268 with" in message
    assert "set base.train.max_steps to at most 1512" in message and message.startswith(space.path)
    searched = load_space("cpu", {"search": {"train.max_steps": {"type": "int", "low": 40, "high": 120, "step": 40}}})
    with pytest.raises(RaysweepError, match=r"40 steps with .*train\.max_steps=40.*, 120 with"):
        search_length(searched, lambda cfg: 8000)


def test_rungs_in_steps() -> None:
    fidelity = search_fidelity([({}, load_space("cpu").base)], lambda cfg: 8000, "f")
    assert (fidelity.max_t, fidelity.grace_period(2), fidelity.grace_period(1), fidelity.grace_period(9)) == (
        501,
        200,
        100,
        500,  # never past full fidelity
    )
    with pytest.raises(RaysweepError, match="0 steps"):
        search_fidelity([({}, load_space("cpu").base)], lambda cfg: 10, "f")
