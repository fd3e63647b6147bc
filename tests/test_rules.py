"""Every config field's valid range, stated once (``raysweep.rules``) and checked at the edge."""

from __future__ import annotations

import math

import pytest

from raysweep.config import RetrofitConfig
from raysweep.errors import RaysweepError
from raysweep.rules import Rule, type_matches


@pytest.mark.parametrize(
    ("section", "values", "message"),
    [
        ("train", {"grad_clip": -1.0}, "train.grad_clip: -1.0 is not positive"),
        ("train", {"grad_clip": 0.0}, "train.grad_clip: 0.0 is not positive"),
        ("train", {"head_lr": -1e-3}, "train.head_lr: -0.001 is not positive"),
        ("train", {"weight_decay": math.nan}, "train.weight_decay: nan is not a finite number"),
        ("train", {"lr": math.inf}, "train.lr: inf is not a finite number"),
        ("train", {"max_failures": -1}, "Ray reads a negative count as unlimited"),
        ("train", {"seed": -3}, "train.seed: -3 is negative"),
        ("train", {"warmup_ratio": 1.0}, "train.warmup_ratio: 1.0 is not below 1"),
        ("train", {"num_workers": 0}, "train.num_workers: 0 is below 1"),
        ("train", {"torch_threads": 0}, "train.torch_threads: 0 is below 1"),
        ("train", {"max_steps": 2.5}, "train.max_steps: 2.5 is a float, expected int"),
        ("train", {"epochs": True}, "train.epochs: True is a bool, expected int"),
        ("loss", {"lam": math.nan}, "loss.lam (λ): nan is not a finite number"),
        ("loss", {"tau": -0.1}, "loss.tau (τ): -0.1 is not positive"),
        ("sampler", {"m": 1}, "m=1 leaves every anchor without a positive"),
        ("sampler", {"batch_size": 1}, "sampler.batch_size: 1 is below 2"),
        ("model", {"head": "x"}, "model.head: unknown head 'x'; use one of linear, mlp"),
        ("model", {"name": " "}, "model.name: is empty"),
        ("data", {"max_length": 4}, "data.max_length: 4 is below 8"),
        ("data", {"train_limit": 0}, "data.train_limit: 0 is not positive"),
    ],
)
def test_out_of_range_values_are_one_line(section: str, values: dict, message: str) -> None:
    with pytest.raises(RaysweepError) as err:
        RetrofitConfig().replace(**{section: values})
    assert message in str(err.value) and "\n" not in str(err.value)


def test_the_defaults_and_boundaries_are_valid() -> None:
    cfg = RetrofitConfig().replace(train={"warmup_ratio": 0.0, "max_failures": 0, "seed": 2**32 - 1})
    assert cfg.train.seed == 2**32 - 1
    assert RetrofitConfig().replace(sampler={"kind": "stratified", "m": 1}).sampler.m == 1  # m unused there


def test_rule_messages_and_types() -> None:
    assert Rule(ge=0).problem(-1) == "-1 is negative" and Rule(gt=0).problem(0) == "0 is not positive"
    assert Rule(ge=0).problem(math.nan) == "nan is not a finite number"  # not "nan is negative"
    assert Rule(choices=("a",), noun="head").problem("b") == "unknown head 'b'"
    assert type_matches(None, int | None) and not type_matches(True, int) and type_matches(3, float)
    assert type_matches(["a"], list[str]) and not type_matches("ab", list[str])
