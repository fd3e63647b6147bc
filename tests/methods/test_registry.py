"""The method registry: every name a space may use is registered with a label, specs parse, and no
method or objective name is written as a string anywhere but next to its implementation."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from raysweep.config import RetrofitConfig
from raysweep.errors import RaysweepError
from raysweep.methods.registry import BASELINES, METHODS, PROPOSED, REFERENCE, parse_method
from raysweep.methods.run_spec import RunSpec
from raysweep.train.objectives import OBJECTIVES
from raysweep.tune.space import StudySettings

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = {
    "raysweep/methods": "the method registry and its implementations",
    "raysweep/train/objectives": "the objective registry and its implementations",
    "raysweep/config.py": "the config's default objective and its list of option strings",
}

PART_NAMES = {("raysweep/losses/supcon_vsp.py", "supcon")}
"""Logged loss parts that happen to share an objective's name (``train_supcon``)."""


def test_every_method_a_space_uses_is_registered() -> None:
    for path in sorted((ROOT / "search_spaces").glob("*.yaml")):
        study = StudySettings(**(yaml.safe_load(path.read_text()).get("study") or {}))
        for key in [PROPOSED, *study.baselines]:
            chosen = parse_method(key, study)
            assert chosen.label and chosen.method.description, (path.name, key)
    assert set(BASELINES) | {PROPOSED} == set(METHODS) and REFERENCE in METHODS
    for method in METHODS.values():
        assert method.objective is None or method.objective in OBJECTIVES, method.name


def test_parameterised_specs() -> None:
    mtl = parse_method("mtl:sst2")
    assert (mtl.key, mtl.label, mtl.arg) == ("mtl:sst2", "MTL (sst2)", "sst2")
    assert parse_method("mtl", StudySettings(mtl_task="irony")).arg == "irony"
    assert parse_method("mtl:csv:data/reviews.tsv:text:label").label == "MTL (reviews.tsv:text:label)"
    assert parse_method("plm:mean").method.config(RetrofitConfig(), "mean").model.pooling == "mean"
    scl = parse_method("scl").method.config(RetrofitConfig())
    assert scl.loss.lam == 0.0 and scl.loss.objective == "supcon"
    assert parse_method("tlearn").method.config(RetrofitConfig()).sampler.kind == "stratified"
    for bad, message in (("nope", "unknown method"), ("scl:x", "takes no argument"), ("mtl:", "nothing after")):
        with pytest.raises(RaysweepError, match=message):
            parse_method(bad)


def test_run_spec_round_trip() -> None:
    spec = RunSpec("mtl:irony", "base", {"loss.lam": 1.0}, 2)
    assert RunSpec.from_dict(spec.to_dict()) == spec and spec.folder == "mtl-irony-base-seed2"


def string_literals(path: Path) -> list[tuple[int, str]]:
    """String constants of a module that are not docstrings."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    docstrings |= {  # attribute docstrings: a string statement after an assignment
        id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def test_no_method_or_objective_name_outside_its_registry() -> None:
    names = set(METHODS) | set(OBJECTIVES)
    found = []
    for path in sorted((ROOT / "raysweep").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if any(rel == a or rel.startswith(a + "/") for a in ALLOWED):
            continue
        found += [
            f"{rel}:{line}: {text!r}"
            for line, text in string_literals(path)
            if text in names and (rel, text) not in PART_NAMES
        ]
    assert not found, "method/objective names written outside the registries:\n" + "\n".join(found)


def test_a_bare_mtl_is_one_mtl_per_downstream_task() -> None:
    from raysweep.methods.registry import expand
    from raysweep.tune.space import load_space
    from raysweep.tune.study import final_specs

    assert [c.key for c in expand("mtl", StudySettings(), ["sst2", "irony"])] == ["mtl:sst2", "mtl:irony"]
    assert [c.key for c in expand("mtl", StudySettings(mtl_task="irony"), ["sst2"])] == ["mtl:irony"]
    space = load_space("cpu", {"study": {"baselines": ["plm", "mtl"]}})  # the shipped cpu space names its tasks
    methods = {s["method"] for s in final_specs(space, [{"loss.lam": 1.0}])}
    assert {f"mtl:{t}" for t in space.evaluation.downstream} <= methods and "mtl" not in methods
    assert space.base.model.pooling == "mean"  # MiniLM's own pooling
