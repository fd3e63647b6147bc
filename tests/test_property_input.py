"""Property test of the validation layer: random and boundary values for every config field and every
search distribution type. Each case ends in exactly one of three ways:

* a clean refusal: one ``RaysweepError`` line (problem; fix), and ``raysweep.run --dry-run`` on the
  same space exits 2 with one ``error:`` line and writes nothing;
* a config that trains a few steps in process (no Ray) on the tiny model to a finite loss;
* a run that diverges and is recorded as diverged (``diverged = 1`` with its reason).

A config that trains in process may still be too big for this machine as a cluster (GPUs it lacks):
then the dry run refuses it with exactly the resource plan's line. Anything else (a traceback, a
refusal in one place but not the other) fails. Each test prints its outcome counts (``-s`` shows them)
and asserts that every outcome was reached. ``derandomize=True`` keeps CI deterministic;
``max_examples`` bounds both to about a minute on 2 cores.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from raysweep.config import RetrofitConfig
from raysweep.errors import RaysweepError
from raysweep.rules import Rule
from raysweep.train.objectives import get_objective
from raysweep.tune.distributions import DISTRIBUTIONS

pytestmark = pytest.mark.filterwarnings("ignore")

FIXED = {("data", "data_dir"), ("model", "name")}
"""Set by the test (the tiny data and model), not generated."""


def boundary_values(rule: Rule, integer: bool) -> list[Any]:
    eps = 1 if integer else 1e-9
    out: list[Any] = [0, 1, -1, 2**31, 10**6]
    for bound in (rule.ge, rule.gt, rule.le, rule.lt):
        if bound is not None:
            out += [bound, bound - eps, bound + eps]
    if not integer:
        out += [math.nan, math.inf, -math.inf, 1e-12, 0.5, 1e6]
    return [int(v) if integer and isinstance(v, (int, float)) and math.isfinite(v) else v for v in out]


def field_values(section_cls: type, name: str) -> st.SearchStrategy[Any]:
    f = next(f for f in fields(section_cls) if f.name == name)
    rule: Rule = f.metadata.get("rule", Rule())
    default = f.default if f.default is not f.default_factory else None
    hint = str(f.type)
    wrong = st.sampled_from(["fast", [1], {"a": 1}, True])
    none = st.just(None)
    if rule.choices is not None:
        return st.one_of(st.sampled_from(list(rule.choices)), st.sampled_from(["", "x", "LINEAR", " cls"]), wrong)
    if "bool" in hint:
        return st.one_of(st.booleans(), wrong)
    integer = "int" in hint and "float" not in hint
    numbers = st.integers(-5, 10**6) if integer else st.floats(allow_nan=True, allow_infinity=True)
    choices = [st.sampled_from(boundary_values(rule, integer)), numbers, wrong]
    if "None" in hint or default is None:
        choices.append(none)
    return st.one_of(*choices)


SECTIONS = {f.name: f.default_factory for f in fields(RetrofitConfig)}  # type: ignore[misc]
FIELDS = [(s, f.name) for s, cls in SECTIONS.items() for f in fields(cls) if (s, f.name) not in FIXED]


@st.composite
def config_changes(draw) -> dict[str, dict[str, Any]]:
    """One to three fields changed from a small valid base."""
    chosen = draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=3, unique=True))
    changes: dict[str, dict[str, Any]] = {}
    for section, name in chosen:
        changes.setdefault(section, {})[name] = draw(field_values(SECTIONS[section], name))
    return changes


def base_config(model: str, data_dir: Path) -> dict[str, dict[str, Any]]:
    return {
        "data": {"data_dir": str(data_dir), "max_length": 16, "dev_limit": 24},
        "model": {"name": model, "pooling": "mean"},
        "sampler": {"kind": "mperclass", "m": 4, "batch_size": 24},
        "train": {"max_steps": 2, "eval_every": 2, "lr": 5e-3, "precision": "fp32", "num_workers": 1},
    }


def merged(base: dict[str, dict[str, Any]], changes: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {s: {**base.get(s, {}), **changes.get(s, {})} for s in {*base, *changes}}


def one_line(err: BaseException) -> str:
    text = str(err)
    assert "\n" not in text and "; " in text, f"not one line naming problem and fix: {text!r}"
    return text


def dry_run(tmp: Path, raw: dict[str, dict[str, Any]], capsys) -> tuple[int, list[str]]:
    from raysweep.run import main

    space = {
        "name": "prop",
        "base": raw,
        "search": {"loss.tau": {"type": "fixed", "value": raw.get("loss", {}).get("tau", 0.1)}},
        "study": {"num_samples": 1, "drift_texts": 0, "baselines": []},
        "evaluation": {"tasks": ["emotion"], "protocols": ["probe"]},
    }
    path = tmp / "prop.yaml"
    path.write_text(yaml.safe_dump(space, allow_unicode=True))
    argv = ["--space", str(path), "--name", "prop", "--storage", str(tmp / "st"), "--results-dir", str(tmp / "res")]
    capsys.readouterr()
    try:
        code = main([*argv, "--dry-run", "--data-dir", raw["data"]["data_dir"]])
    except SystemExit as stop:
        code = int(stop.code or 0)
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert not (tmp / "st").exists() and not (tmp / "res").exists(), "a dry run wrote something"
    return code, err


def cluster_refusal(cfg: RetrofitConfig) -> str | None:
    """The dry run's resource-plan refusal of ``cfg`` on this machine (the cluster it plans for), or None."""
    import os

    import torch

    from raysweep.tune.resources import plan_resources

    try:
        plan_resources(cfg, {"CPU": float(os.cpu_count() or 1), "GPU": float(torch.cuda.device_count())})
    except RaysweepError as error:
        return one_line(error)
    return None


def report(name: str, outcomes: Counter[str]) -> None:
    """Print what the generated cases did (``-s`` shows it)."""
    print(f"\n[property] {name}: {sum(outcomes.values())} examples, outcomes {dict(sorted(outcomes.items()))}")


def test_every_config_field(tiny_bert, tiny_data_dir, tmp_path_factory, capsys) -> None:
    from raysweep.train.local import train_locally

    outcomes: Counter[str] = Counter()

    @settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
    @example(changes={"train": {"lr": 1e9}})
    @example(changes={"train": {"lr": 1e9, "weight_decay": 0.0}})
    @example(changes={"train": {"weight_decay": 2**31}})
    @example(changes={"train": {"torch_threads": 10**6}})
    @example(changes={"train": {"cpus_per_worker": 2.0**31}})
    @example(changes={"loss": {"objective": "mtl"}})
    @example(changes={"train": {"grad_clip": -1.0}})
    @example(changes={"sampler": {"m": 1}})
    @example(changes={"train": {"weight_decay": math.nan}})
    @example(changes={"model": {"proj_dim": 2**31}})  # found here: a 274 GB projection head
    @given(changes=config_changes())
    def check(changes: dict[str, dict[str, Any]]) -> None:
        raw = merged(base_config(tiny_bert, tiny_data_dir), changes)
        tmp = tmp_path_factory.mktemp("prop")
        code, err = dry_run(tmp, raw, capsys)
        try:
            cfg = RetrofitConfig.from_dict(raw)
        except RaysweepError as error:
            one_line(error)
            assert code == 2 and len(err) == 1, (changes, code, err)
            outcomes["refused"] += 1
            return
        except (TypeError, ValueError) as error:  # a value the dataclasses could not even hold
            pytest.fail(f"{changes}: {type(error).__name__} instead of a refusal: {error}")
        # the config is valid: preflight may still refuse it against the data (a batch the data cannot fill)
        try:
            history = train_locally(cfg, steps=2)
        except RaysweepError as error:
            text = one_line(error)
            if "dev_p_at_1" in get_objective(cfg.loss.objective).dev_metrics:
                assert code == 2 and err == [f"error: {text}"], (changes, code, err, text)
            else:  # the space refuses it first: its objective does not report the study metric
                assert code == 2 and len(err) == 1 and "is not reported by the" in err[0], (changes, code, err)
            outcomes["refused at preflight"] += 1
            return
        last = history[-1]
        if last.get("diverged"):
            assert last["failure_reason"].startswith("non-finite"), last
            outcomes["diverged"] += 1
        else:
            assert math.isfinite(last["train_loss"]), last
            outcomes["trained"] += 1
        # it trains here (one rank, on CPU); a study also needs its metric reported (an objective
        # without the emotion metric, ce, can train but not be searched) and plans the cluster it needs
        if "dev_p_at_1" not in get_objective(cfg.loss.objective).dev_metrics:
            assert code == 2 and len(err) == 1 and "is not reported by the" in err[0], (changes, code, err)
            outcomes["trains, but cannot be searched on the study metric"] += 1
            return
        refusal = cluster_refusal(cfg)
        if refusal is None:
            assert code == 0, (changes, err)
        else:
            assert code == 2 and err == [f"error: {refusal}"], (changes, code, err, refusal)
            outcomes["trains, but too big for this cluster"] += 1

    check()
    report("config fields", outcomes)
    assert outcomes["refused"] and outcomes["trained"] and outcomes["diverged"], outcomes


KEYS = ["loss.lam", "loss.tau", "train.lr", "train.warmup_ratio", "sampler.m", "sampler.batch_size", "model.head"]


@st.composite
def distributions(draw) -> tuple[str, dict[str, Any]]:
    key = draw(st.sampled_from(KEYS))
    kind = draw(st.sampled_from(sorted(DISTRIBUTIONS)))
    number = st.one_of(st.sampled_from([0, 1, -1, 0.5, 2, 4, 6, 8, 12, 24, 64, 1e-5, 10.0]), st.floats(-1e3, 1e3))
    if kind in ("uniform", "loguniform", "int"):
        low, high = draw(number), draw(number)
        if kind == "int":
            low, high = (int(low), int(high)) if draw(st.booleans()) else (low, high)
        spec: dict[str, Any] = {"type": kind, "low": low, "high": high}
        if kind == "int" and draw(st.booleans()):
            spec["step"] = draw(st.sampled_from([1, 2, 4, 0, -1]))
        return key, spec
    values = st.one_of(number, st.sampled_from(["linear", "mlp", "x"]))
    if kind == "choice":
        return key, {"type": kind, "values": draw(st.lists(values, min_size=0, max_size=4))}
    return key, {"type": kind, "value": draw(values)}


def test_every_distribution_type(tiny_bert, tiny_data_dir, tmp_path_factory) -> None:
    from raysweep.tune.space import load_space

    outcomes: Counter[str] = Counter()

    @settings(max_examples=2500, deadline=None, derandomize=True)
    @given(case=distributions())
    def check(case: tuple[str, dict[str, Any]]) -> None:
        key, spec = case
        raw = base_config(tiny_bert, tiny_data_dir)
        raw["train"]["num_workers"] = 2
        path = tmp_path_factory.mktemp("dist") / "d.yaml"
        path.write_text(yaml.safe_dump({"name": "d", "base": raw, "search": {key: spec}}, allow_unicode=True))
        try:
            space = load_space(str(path))
        except RaysweepError as error:
            one_line(error)
            outcomes["refused"] += 1
            return
        distribution = space.search[key]
        for value in distribution.points():
            space.config_for({key: value})  # every value it stands for makes a valid config
        outcomes["accepted"] += 1

    check()
    report("distributions", outcomes)
    assert outcomes["refused"] and outcomes["accepted"], outcomes
