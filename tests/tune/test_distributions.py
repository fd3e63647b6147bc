"""Search distributions: one class per ``type:``, each validating its YAML form, giving its Tune form, its
YAML form (which loads back equal), its description and the points that cover its range."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import yaml
from ray.tune.search import sample

from raysweep.errors import RaysweepError
from raysweep.tune.distributions import (
    DISTRIBUTIONS,
    Choice,
    Distribution,
    Fixed,
    IntRange,
    LogUniform,
    Uniform,
    covering_combinations,
    parse_distribution,
)
from raysweep.tune.distributions.integer import MAX_POINTS

WHERE = "x.yaml"
EXAMPLES: list[tuple[str, dict[str, Any]]] = [
    ("loss.lam", {"type": "loguniform", "low": 0.1, "high": 20.0}),
    ("loss.tau", {"type": "uniform", "low": 0.05, "high": 0.3}),
    ("sampler.m", {"type": "int", "low": 2, "high": 8, "step": 2}),
    ("model.head", {"type": "choice", "values": ["linear", "mlp"]}),
    ("train.weight_decay", {"type": "fixed", "value": 0.05}),
]


def parse(spec: Any, key: str = "loss.tau") -> Distribution:
    return parse_distribution(key, spec, WHERE)


def test_registry_maps_each_type_string_to_its_class() -> None:
    assert DISTRIBUTIONS == {
        "loguniform": LogUniform,
        "uniform": Uniform,
        "int": IntRange,
        "choice": Choice,
        "fixed": Fixed,
    }
    for kind, cls in DISTRIBUTIONS.items():
        assert cls.type == kind and issubclass(cls, Distribution)
    assert {c.type for c in DISTRIBUTIONS.values() if c.categorical} == {"choice", "fixed"}


@pytest.mark.parametrize(
    ("key", "spec", "expected"),
    [
        # the entry itself
        ("loss.tau", [0.1, 0.2], "search.loss.tau: is not a mapping"),
        ("loss.tau", {"low": 0, "high": 1}, "search.loss.tau.type: unknown type None; use one of loguniform, uniform"),
        ("loss.tau", {"type": "gaussian", "low": 0, "high": 1}, "search.loss.tau.type: unknown type 'gaussian'"),
        ("loss.tau", {"type": ["uniform"], "low": 0, "high": 1}, "search.loss.tau.type: unknown type ['uniform']"),
        # loguniform
        ("loss.tau", {"type": "loguniform", "low": "a", "high": 1}, "search.loss.tau.low: 'a' is not a number"),
        ("loss.tau", {"type": "loguniform", "low": 0.1}, "search.loss.tau.high: None is not a number"),
        ("loss.tau", {"type": "loguniform", "low": 0.5, "high": 0.1}, "search.loss.tau: empty or inverted range"),
        ("loss.tau", {"type": "loguniform", "low": 0.0, "high": 0.1}, "search.loss.tau.low: 0.0 <= 0 for a log scale"),
        ("loss.tau", {"type": "loguniform", "low": -1, "high": 0.1}, "-1 <= 0 for a log scale; use low > 0"),
        (
            "loss.tau",
            {"type": "loguniform", "low": 0.1, "high": 1, "step": 2},
            "search.loss.tau.step: is not a key of a loguniform distribution; use high, low, type",
        ),
        # uniform
        ("loss.tau", {"type": "uniform", "low": 0.5, "high": 0.1}, "inverted range [0.5, 0.1]; make low < high"),
        ("loss.tau", {"type": "uniform", "low": 0.1, "high": 0.1}, "empty or inverted range [0.1, 0.1]"),
        ("loss.tau", {"type": "uniform", "low": True, "high": 1}, "search.loss.tau.low: True is not a number"),
        ("loss.tau", {"type": "uniform", "low": 0, "high": float("inf")}, "search.loss.tau.high: inf is not a number"),
        ("loss.tau", {"type": "uniform", "low": 0, "high": float("nan")}, "search.loss.tau.high: nan is not a number"),
        ("loss.tau", {"type": "uniform", "values": [1]}, "search.loss.tau.values: is not a key of a uniform"),
        # int
        ("sampler.m", {"type": "int", "low": 2.5, "high": 8}, "search.sampler.m: bounds are not integers"),
        ("sampler.m", {"type": "int", "low": 8, "high": 2}, "search.sampler.m: empty or inverted range [8, 2]"),
        ("sampler.m", {"type": "int", "low": 2, "high": 8, "step": 0}, "search.sampler.m.step: 0 is not a positive"),
        ("sampler.m", {"type": "int", "low": 2, "high": 8, "step": -2}, "-2 is not a positive whole number"),
        ("sampler.m", {"type": "int", "low": 2, "high": 8, "step": 1.5}, "1.5 is not a positive whole number"),
        ("sampler.m", {"type": "int", "low": 2, "high": 8, "step": "2"}, "'2' is not a positive whole number"),
        (
            "sampler.m",
            {"type": "int", "low": 2, "high": 9, "step": 2},
            "search.sampler.m: high 9 is not low 2 plus a multiple of step 2; use e.g. high: 8",
        ),
        ("sampler.m", {"type": "int", "low": 2, "high": 8, "q": 2}, "search.sampler.m.q: is not a key of a int"),
        # choice
        ("model.head", {"type": "choice", "values": []}, "search.model.head.values: is empty or not a list"),
        ("model.head", {"type": "choice", "values": "mlp"}, "search.model.head.values: is empty or not a list"),
        ("model.head", {"type": "choice"}, "search.model.head.values: is empty or not a list"),
        ("model.head", {"type": "choice", "values": ["mlp"], "low": 0}, "search.model.head.low: is not a key of a"),
        # fixed
        ("model.head", {"type": "fixed"}, "search.model.head.value: is missing; write value: X"),
        ("model.head", {"type": "fixed", "values": ["mlp"]}, "search.model.head.values: is not a key of a fixed"),
    ],
)
def test_bad_specs_are_one_clear_line(key: str, spec: Any, expected: str) -> None:
    with pytest.raises(RaysweepError) as err:
        parse(spec, key)
    message = str(err.value)
    assert message.startswith(f"{WHERE}: search.{key}") and expected in message and "\n" not in message


@pytest.mark.parametrize(
    ("key", "spec", "default", "expected"),
    [
        ("model.head", {"type": "choice", "values": ["linear", 3]}, "linear", "search.model.head.values: 3 is a int"),
        ("loss.lam", {"type": "choice", "values": [1.0, "big"]}, 1.0, "'big' is a str, expected float"),
        ("sampler.m", {"type": "choice", "values": [4, 6.0]}, 4, "6.0 is a float, expected int"),
        ("model.head", {"type": "fixed", "value": 1}, "linear", "search.model.head.value: 1 is a int, expected str"),
        ("data.drop_neutral", {"type": "fixed", "value": 1}, False, "1 is a int, expected bool"),
        (
            "train.epochs",
            {"type": "uniform", "low": 1, "high": 4},
            1,
            "search.train.epochs: uniform samples float values but train.epochs is a int; use type: int",
        ),
        ("train.epochs", {"type": "loguniform", "low": 1, "high": 4}, 1, "loguniform samples float values"),
        ("model.head", {"type": "int", "low": 1, "high": 4}, "linear", "is a str; use type: choice"),
        ("train.precision", {"type": "uniform", "low": 0, "high": 1}, "auto", "is a str; use type: choice"),
    ],
)
def test_values_must_suit_the_config_field(key: str, spec: dict, default: Any, expected: str) -> None:
    distribution = parse(spec, key)
    with pytest.raises(RaysweepError) as err:
        distribution.check_field(default, WHERE)
    assert str(err.value).startswith(f"{WHERE}: search.{key}") and expected in str(err.value)


@pytest.mark.parametrize(
    ("spec", "default"),
    [
        ({"type": "int", "low": 1, "high": 4}, 1.0),  # whole numbers for a float field
        ({"type": "uniform", "low": 1e-4, "high": 1e-2}, None),  # an optional field (head_lr)
        ({"type": "choice", "values": [None, 100]}, None),
        ({"type": "choice", "values": [1, 2.5]}, 1.0),
        ({"type": "fixed", "value": True}, False),
    ],
)
def test_values_that_suit_the_field_pass(spec: dict, default: Any) -> None:
    parse(spec).check_field(default, WHERE)


def test_tune_forms() -> None:
    log = parse({"type": "loguniform", "low": 0.1, "high": 20}).tune()
    assert isinstance(log, sample.Float) and isinstance(log.get_sampler(), sample.LogUniform)
    assert (log.lower, log.upper) == (0.1, 20.0)
    uni = parse({"type": "uniform", "low": 0.05, "high": 0.3}).tune()
    assert isinstance(uni, sample.Float) and isinstance(uni.get_sampler(), sample.Uniform)
    assert (uni.lower, uni.upper) == (0.05, 0.3)
    integer = parse({"type": "int", "low": 2, "high": 8, "step": 2}).tune()
    assert isinstance(integer, sample.Integer) and isinstance(integer.get_sampler(), sample.Quantized)
    assert (integer.lower, integer.upper, integer.get_sampler().q) == (2, 8, 2)
    choice = parse({"type": "choice", "values": ["linear", "mlp"]}).tune()
    assert isinstance(choice, sample.Categorical) and choice.categories == ["linear", "mlp"]
    assert parse({"type": "fixed", "value": 0.05}).tune() == 0.05


@pytest.mark.parametrize(
    ("spec", "text"),
    [
        ({"type": "loguniform", "low": 1e-5, "high": 1e-4}, "loguniform(1e-05, 0.0001)"),
        ({"type": "uniform", "low": 0.05, "high": 0.3}, "uniform(0.05, 0.3)"),
        ({"type": "int", "low": 2, "high": 8}, "int(2..8, step 1)"),
        ({"type": "int", "low": 2.0, "high": 8.0, "step": 2}, "int(2..8, step 2)"),
        ({"type": "choice", "values": ["linear", "mlp"]}, "choice(linear, mlp)"),
        ({"type": "fixed", "value": 0.05}, "fixed(0.05)"),
    ],
)
def test_describe(spec: dict, text: str) -> None:
    assert parse(spec).describe() == text


@pytest.mark.parametrize(("key", "spec"), EXAMPLES, ids=[s["type"] for _, s in EXAMPLES])
def test_yaml_form_loads_back_equal(key: str, spec: dict) -> None:
    distribution = parse(spec, key)
    assert distribution.to_dict()["type"] == spec["type"]
    again = parse(yaml.safe_load(yaml.safe_dump(distribution.to_dict())), key)
    assert again == distribution and again.to_dict() == distribution.to_dict()
    assert type(again) is DISTRIBUTIONS[spec["type"]]


def test_int_step_defaults_to_one_and_is_written_out() -> None:
    distribution = parse({"type": "int", "low": 2, "high": 8}, "sampler.m")
    assert distribution == IntRange("sampler.m", 2, 8, 1)
    assert distribution.to_dict() == {"type": "int", "low": 2, "high": 8, "step": 1}


def test_points_cover_each_range() -> None:
    assert parse({"type": "uniform", "low": 0.5, "high": 1.5}).points() == [0.5, 1.0, 1.5]
    assert parse({"type": "loguniform", "low": 0.01, "high": 1}).points() == pytest.approx([0.01, 0.1, 1.0])
    assert parse({"type": "choice", "values": [4, 6, 8]}).points() == [4, 6, 8]
    assert parse({"type": "fixed", "value": "mlp"}).points() == ["mlp"]
    assert parse({"type": "int", "low": 2, "high": 8}).points() == [2, 3, 4, 5, 6, 7, 8]
    # Optuna samples 1, 3, 5, ...; Ray's own random search the multiples of step: both are covered
    assert parse({"type": "int", "low": 1, "high": 9, "step": 2}).points() == list(range(1, 10))


def test_a_long_int_grid_is_covered_at_its_ends_and_inside() -> None:
    points = parse({"type": "int", "low": 0, "high": 1000, "step": 10}).points()
    assert points[0] == 0 and points[-1] == 1000 and 3 <= len(points) <= MAX_POINTS
    assert all(p % 10 == 0 for p in points) and points == sorted(set(points))
    assert parse({"type": "int", "low": 1, "high": MAX_POINTS}).points() == list(range(1, MAX_POINTS + 1))


def test_coverage_is_the_product_when_small() -> None:
    search = {
        "sampler.m": Choice("sampler.m", (4, 6)),
        "sampler.batch_size": Choice("sampler.batch_size", (32, 64)),
        "loss.tau": Uniform("loss.tau", 0.1, 0.3),
    }
    combos = list(covering_combinations(search))
    assert len(combos) == 2 * 2 * 3
    assert {(c["sampler.m"], c["sampler.batch_size"]) for c in combos} == {(4, 32), (4, 64), (6, 32), (6, 64)}


def test_coverage_is_every_pair_when_the_product_is_too_large() -> None:
    search = {f"k.{i}": Choice(f"k.{i}", tuple(range(5))) for i in range(4)}  # 625 combinations
    combos = list(covering_combinations(search, cap=100))
    assert len(combos) == 6 * 25
    for a, b in itertools.combinations(search, 2):
        assert {(c[a], c[b]) for c in combos} == set(itertools.product(range(5), range(5)))
        at_four = [c for c in combos if (c[a], c[b]) == (4, 4)]
        assert at_four and all(c[k] == 0 for c in at_four for k in search if k not in (a, b))  # the others: rep.
    assert len(list(covering_combinations({"k.0": search["k.0"]}, cap=1))) == 5  # one key: all its points


def test_a_huge_int_range_is_covered_without_listing_it() -> None:
    points = parse({"type": "int", "low": 1, "high": 10**12 + 1, "step": 2}).points()
    assert points[0] == 1 and points[-1] == 10**12 + 1 and 10**12 in points and len(points) <= 2 * MAX_POINTS
