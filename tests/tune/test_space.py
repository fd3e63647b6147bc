"""Search-space files: the shipped spaces load; every malformed file is one line naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from raysweep.errors import RaysweepError
from raysweep.tune.space import load_space

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
        (with_("study", "sampler", "cmaes"), "study.sampler: 'cmaes'"),
        (with_("evaluation", "finetune_tasks", ["emotion"]), "evaluation.finetune_tasks"),
        (with_("evaluation", "finetune_tasks", ["sst5"]), "evaluation.finetune_tasks"),
    ],
)
def test_bad_spaces_are_one_clear_line(tmp_path: Path, content, expected: str) -> None:
    path = write(tmp_path, content)
    with pytest.raises(RaysweepError) as err:
        load_space(str(path))
    message = str(err.value)
    assert str(path) in message and expected in message and "\n" not in message


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
