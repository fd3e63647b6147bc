"""Search-space files: the shipped spaces load; every malformed file is one line naming file and key."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from raysweep.errors import RaysweepError
from raysweep.tune.space import SPACES_DIR, load_space

GOOD = {
    "base": {"model": {"name": "minilm"}, "train": {"max_steps": 10}},
    "search": {
        "loss.lam": {"type": "loguniform", "low": 0.1, "high": 10.0},
        "model.head": {"type": "choice", "values": ["linear", "mlp"]},
    },
    "study": {"num_samples": 4},
}


@pytest.mark.parametrize("name", ["smoke", "cpu", "full"])
def test_shipped_spaces_load(name: str) -> None:
    space = load_space(name)
    assert space.search and space.study.num_samples >= 3
    if name in ("cpu", "full"):
        assert space.study.multi_objective
    if name == "full":
        assert {"bert-base-uncased", "roberta-base"} == set(space.search["model.name"].values)
        assert len(space.data_variants()) == 2 and space.base.train.gpus_per_worker == 1


def write(tmp_path: Path, content) -> Path:
    path = tmp_path / "space.yaml"
    path.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
    return path


def with_(section: str, key: str, value) -> dict:
    raw = yaml.safe_load(yaml.safe_dump(GOOD))
    raw.setdefault(section, {})[key] = value
    return raw


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("search: [unclosed", "is not valid YAML"),
        ({**GOOD, "serach": {}}, "serach: unknown key"),
        (with_("search", "loss.lambda", {"type": "uniform", "low": 0, "high": 1}), "loss has no field 'lambda'"),
        (with_("search", "loss.tau", {"type": "uniform", "low": 0.5, "high": 0.1}), "empty or inverted range"),
        (with_("search", "loss.tau", {"type": "uniform", "low": 0.1, "high": 0.1}), "empty or inverted range"),
        (with_("search", "loss.tau", {"type": "loguniform", "low": 0.0, "high": 0.1}), "<= 0 for a log scale"),
        (with_("search", "loss.tau", {"type": "uniform", "low": "a", "high": 1}), "is not a number"),
        (with_("search", "loss.tau", {"type": "gaussian", "low": 0, "high": 1}), "unknown type"),
        (with_("search", "model.head", {"type": "choice", "values": []}), "is empty or not a list"),
        (with_("search", "model.name", {"type": "uniform", "low": 0, "high": 1}), "changes the training data"),
        (with_("study", "num_samples", "ten"), "study.num_samples: 'ten' is a str, expected int"),
        (with_("study", "metrik", "dev_ami"), "study.metrik: unknown key"),
        (with_("base", "train", {"lr": "fast"}), "base.train.lr: 'fast' is a str"),
        (with_("base", "loss", {"tau": -1.0}), "τ"),
        (with_("base", "model", {"headd": "mlp"}), "unknown key"),
        (with_("study", "sampler", "cmaes"), "study.sampler: unknown sampler 'cmaes'"),
        (with_("evaluation", "finetune_tasks", ["emotion"]), "evaluation.finetune_tasks"),
        (with_("evaluation", "finetune_tasks", ["sst5"]), "evaluation.finetune_tasks"),
        (with_("study", "matched_picks", [{"metric_at_least": "plm"}]), "is not a matching rule"),
        (with_("study", "matched_picks", [{"metric_at_least": "scl"}]), "only a multi-objective search runs"),
        (with_("study", "scl_from", "lambda_zero"), "study.scl_from: lambda_zero needs the search's λ = 0 point"),
        (with_("study", "scl_from", "zero"), "study.scl_from"),
        (with_("evaluation", "finetune_seeds", 0), "evaluation.finetune_seeds"),
    ],
)
def test_bad_spaces_are_one_clear_line(tmp_path: Path, content, expected: str) -> None:
    path = write(tmp_path, content)
    with pytest.raises(RaysweepError) as err:
        load_space(str(path))
    message = str(err.value)
    assert str(path) in message and expected in message and "\n" not in message


def test_a_match_to_scl_loads_in_a_multi_objective_space(tmp_path: Path) -> None:
    rules = [{"metric_at_least": "scl"}, {"drift_at_most": 0.05}]
    raw = with_("study", "matched_picks", rules)
    raw["study"]["multi_objective"] = True
    assert load_space(str(write(tmp_path, raw))).study.matched_picks == rules


def test_unknown_space_name_lists_the_known_ones() -> None:
    with pytest.raises(RaysweepError, match="use one of cpu, full, smoke"):
        load_space("nosuch")


def test_dry_run_prints_plan_and_starts_nothing(capsys, tmp_path: Path, shared_data_dir: Path) -> None:
    from raysweep.run import main

    assert (
        main(
            [
                "--space",
                "smoke",
                "--dry-run",
                "--data-dir",
                str(shared_data_dir),
                "--storage",
                str(tmp_path / "st"),
                "--results-dir",
                str(tmp_path / "res"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "TPE on dev_p_at_1" in out and "concurrent trial(s)" in out and "search  loss.lam" in out
    assert not (tmp_path / "st").exists() and not (tmp_path / "res").exists()


def round_trip(tmp_path: Path, space) -> dict:
    """``space`` -> to_dict -> YAML file -> load_space -> to_dict."""
    path = tmp_path / "round-trip.yaml"
    path.write_text(yaml.safe_dump(space.to_dict(), sort_keys=False, allow_unicode=True))
    return load_space(str(path)).to_dict()


@pytest.mark.parametrize("name", sorted(p.stem for p in SPACES_DIR.glob("*.yaml")))
def test_every_shipped_space_round_trips(tmp_path: Path, name: str) -> None:
    space = load_space(name)
    assert round_trip(tmp_path, space) == space.to_dict()


def test_a_fixed_parameter_round_trips(tmp_path: Path) -> None:
    # regression: to_dict wrote {type: fixed, low: None, high: None}, which load_space refused
    space = load_space(str(write(tmp_path, with_("search", "train.weight_decay", {"type": "fixed", "value": 0.05}))))
    assert space.to_dict()["search"]["train.weight_decay"] == {"type": "fixed", "value": 0.05}
    assert round_trip(tmp_path, space) == space.to_dict()
    assert space.tune_space()["train.weight_decay"] == 0.05 and "fixed(0.05)" in space.describe()


def test_every_distribution_type_round_trips_in_a_space(tmp_path: Path) -> None:
    raw = yaml.safe_load(yaml.safe_dump(GOOD))
    raw["search"].update(
        {
            "loss.tau": {"type": "uniform", "low": 0.05, "high": 0.3},
            "train.epochs": {"type": "int", "low": 1, "high": 3},
            "model.pooling": {"type": "choice", "values": ["cls", "mean"]},
            "train.weight_decay": {"type": "fixed", "value": 0.0},
        }
    )
    space = load_space(str(write(tmp_path, raw)))
    types = {d["type"] for d in space.to_dict()["search"].values()}
    assert types == {"loguniform", "uniform", "int", "choice", "fixed"}
    assert round_trip(tmp_path, space) == space.to_dict()


def refusal(tmp_path: Path, base: dict, search: dict) -> str:
    raw = {"base": base, "search": search}
    with pytest.raises(RaysweepError) as err:
        load_space(str(write(tmp_path, raw)))
    message = str(err.value)
    assert message.startswith(f"{tmp_path / 'space.yaml'}: search: ") and "\n" not in message
    return message


def named_keys(message: str) -> set[str]:
    """The ``key=value`` parts of ``FILE: search: a=1 with b=2: problem``."""
    return set(message.split(": search: ", 1)[1].split(": ", 1)[0].split(" with "))


TWO_WORKERS = {"sampler": {"kind": "mperclass", "m": 4, "batch_size": 64}, "train": {"num_workers": 2}}


def test_a_choice_with_one_invalid_value_is_refused(tmp_path: Path) -> None:
    search = {"model.head": {"type": "choice", "values": ["linear", "mlp", "attention"]}}
    message = refusal(tmp_path, {}, search)
    assert "search: model.head=attention: " in message and "'attention'" in message


def test_an_int_range_with_invalid_middle_values_is_refused(tmp_path: Path) -> None:
    # both ends are fine (a worker's batch of 32 splits into m=2 and m=8); m=3 is not
    search = {"sampler.m": {"type": "int", "low": 2, "high": 8}}
    message = refusal(tmp_path, TWO_WORKERS, search)
    assert "search: sampler.m=3: " in message and "m=3" in message.split("sampler.m=3: ", 1)[1]


def test_a_uniform_range_leaving_the_valid_interval_is_refused(tmp_path: Path) -> None:
    message = refusal(tmp_path, {}, {"train.warmup_ratio": {"type": "uniform", "low": 0.5, "high": 1.5}})
    assert "search: train.warmup_ratio=1.0: train.warmup_ratio" in message  # the end is refused, not just 1.5


def test_a_relation_over_a_product_is_refused_naming_both_keys(tmp_path: Path) -> None:
    # a worker's batch of 24 takes m=4 and m=6, and m=4 takes both batch sizes: only m=6 x 32 fails
    base = {"sampler": {"kind": "mperclass", "m": 4, "batch_size": 48}, "train": {"num_workers": 2}}
    search = {
        "loss.lam": {"type": "loguniform", "low": 0.1, "high": 10.0},
        "sampler.m": {"type": "choice", "values": [4, 6]},
        "sampler.batch_size": {"type": "choice", "values": [32, 64]},
    }
    assert named_keys(refusal(tmp_path, base, search)) == {"sampler.m=6", "sampler.batch_size=32"}


def test_every_data_variant_is_checked(tmp_path: Path) -> None:
    message = refusal(tmp_path, {}, {"model.pooling": {"type": "choice", "values": ["cls", "max"]}})
    assert "search: model.pooling=max: " in message and "'max'" in message


def test_a_large_space_is_still_checked_over_every_pair(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("raysweep.tune.distributions.coverage.COVERAGE_CAP", 10)
    base = {"sampler": {"kind": "mperclass", "m": 4, "batch_size": 48}, "train": {"num_workers": 2}}
    search = {
        "loss.lam": {"type": "loguniform", "low": 0.1, "high": 10.0},
        "loss.tau": {"type": "uniform", "low": 0.05, "high": 0.3},
        "sampler.m": {"type": "choice", "values": [4, 6]},
        "sampler.batch_size": {"type": "choice", "values": [32, 64]},
    }
    assert named_keys(refusal(tmp_path, base, search)) == {"sampler.m=6", "sampler.batch_size=32"}


def test_loading_the_largest_shipped_space_stays_quick() -> None:
    start = time.perf_counter()
    space = load_space("full")
    assert time.perf_counter() - start < 2.0 and len(space.covering_params()) > 100


def test_the_description_says_plm_runs_once_and_names_the_matched_picks() -> None:
    text = load_space("cpu", {"study": {"matched_picks": [{"drift_at_most": 0.05}], "baseline_seeds": None}}).describe()
    assert "1 config(s) + drift_at_most 0.05 x 3 seeds; baselines scl, tlearn, mtl:sst2, mtl:isarcasm x 3 seeds" in text
    assert "mtl:isarcasm x 3 seeds; plm, plm:cls once" in text
    assert "baselines plm once" in load_space("smoke").describe()
