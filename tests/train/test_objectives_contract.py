"""Every registered objective against the contract of ``raysweep.train.objectives.base.Objective``,
in process (no Ray) on the tiny models: a new objective in the registry is picked up by each test.

Plus the registry itself: every objective name a search space, the config or the code may ask for
is registered with the attributes the rest of raysweep reads, and the dev macro-F1 of the search is
the test-time figure (``raysweep.metrics.classification``).
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import math
from pathlib import Path

import numpy as np
import pytest
import task_fixtures
import torch
import yaml
from torch import nn

from raysweep import config as config_mod
from raysweep.config import DataConfig, LossConfig, ModelConfig, RetrofitConfig, SamplerConfig, TrainConfig
from raysweep.data.tasks import load_task
from raysweep.errors import RaysweepError
from raysweep.evaluation import downstream
from raysweep.export import model_card
from raysweep.losses.supcon_vsp import LossTerms
from raysweep.methods.mtl import mtl_training_data
from raysweep.metrics.classification import classification_scores
from raysweep.models.retrofit import RetrofitModel
from raysweep.samplers import build_sampler
from raysweep.train.data import prepare_training_data
from raysweep.train.objectives import OBJECTIVES, Objective, StepContext, build_objective, get_objective
from raysweep.train.objectives.mtl import MTLTrainingData
from raysweep.train.training_data import TrainingData

ROOT = Path(__file__).resolve().parents[2]
NAMES = sorted(OBJECTIVES)
DEVICES = ["cpu", *(["cuda"] if torch.cuda.is_available() else [])]
DRIFT_TEXTS = [f"my friend said {w} about the movie today" for w in ("great", "sad", "angry", "thanks")] * 3

tiny_tasks_dir = pytest.fixture(scope="session")(task_fixtures.tiny_tasks_dir)


def tiny_config(model: str, data_dir: Path, objective: str) -> RetrofitConfig:
    return RetrofitConfig(
        data=DataConfig(data_dir=str(data_dir), max_length=16),
        model=ModelConfig(name=model, pooling="mean"),  # random tiny models' [CLS] barely varies
        loss=LossConfig(objective=objective, lam=1.0, tau=0.1),
        sampler=SamplerConfig(kind="mperclass", m=4, batch_size=24),
        train=TrainConfig(num_workers=1, cpus_per_worker=1.0, precision="fp32", max_failures=0),
    ).validate()


def training_data(cls: type[Objective], cfg: RetrofitConfig, data_dir: Path) -> TrainingData:
    """The data ``cls`` declares it reads (``data_type``), prepared as a study prepares it."""
    if issubclass(cls.data_type, MTLTrainingData):
        base = mtl_training_data(cfg, load_task("irony", data_dir))
    elif cls.data_type is TrainingData:
        base = prepare_training_data(cfg, device="cpu")
    else:
        raise AssertionError(f"{cls.__name__}.data_type {cls.data_type.__name__}: add a builder for it here")
    # drift texts as the search tracks them, so dev_delta_emb is part of the contract too
    drift = prepare_training_data(cfg.replace(loss={"objective": "ce"}), drift_texts=DRIFT_TEXTS, device="cpu")
    return dataclasses.replace(base, drift_tokens=drift.drift_tokens, frozen_drift=drift.frozen_drift)


def built(name: str, model: str, data_dir: Path, device: str = "cpu"):
    cls = get_objective(name)
    cfg = tiny_config(model, data_dir, name)
    data = training_data(cls, cfg, data_dir)
    objective = build_objective(cfg, data)
    ctx = StepContext(device=torch.device(device), precision="fp32", rank=0, world=1, seed=0)
    torch.manual_seed(0)
    net = RetrofitModel.from_config(cfg.model, "eager", head=objective.build_head)
    objective.setup(net, ctx)
    net = net.to(ctx.device).train()
    return cls, cfg, data, objective, net, ctx


# ---------------------------------------------------------------- the contract, per objective


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", NAMES)
def test_objective_meets_the_contract(name: str, device: str, tiny_model: str, tiny_tasks_dir: Path) -> None:
    cls, cfg, data, objective, net, ctx = built(name, tiny_model, tiny_tasks_dir, device)
    assert isinstance(objective, cls) and isinstance(data, cls.data_type)
    assert (data.frozen_train is not None) == cls.needs_frozen_targets(cfg)

    idx = np.asarray(next(iter(build_sampler(cfg.sampler, data.train_labels, 1, 0, cfg.train.seed))))
    terms = objective.loss(net, idx, ctx)
    assert isinstance(terms, LossTerms)
    assert terms.total.dim() == 0 and terms.total.requires_grad and torch.isfinite(terms.total)
    assert "loss" in terms.parts
    for key, part in terms.parts.items():  # logged parts stay on the device: no host sync per step
        assert isinstance(part, torch.Tensor), f"parts[{key!r}] is a {type(part).__name__}, not a tensor"
        assert part.dim() == 0 and part.is_floating_point() and not part.requires_grad, key
        assert part.device == next(net.parameters()).device, key
        assert torch.isfinite(part), key
    assert float(terms.parts["loss"]) == pytest.approx(float(terms.total.detach()), rel=1e-5)  # one rank: unscaled

    terms.total.backward()
    grads = {n: p.grad for n, p in net.named_parameters() if p.grad is not None}
    assert grads and all(torch.isfinite(g).all() for g in grads.values())
    assert any(n.startswith("encoder.") and g.abs().sum() > 0 for n, g in grads.items()), "no gradient reaches it"

    net.zero_grad(set_to_none=True)
    metrics = objective.evaluate(net, ctx)
    assert net.training  # the mode it was found in
    assert set(cls.dev_metrics) | {"dev_delta_emb"} <= set(metrics), sorted(metrics)
    for key, value in metrics.items():
        assert key.startswith("dev_") and type(value) is float and math.isfinite(value), (key, value)


@pytest.mark.parametrize("name", NAMES)
def test_only_rank_zero_returns_metrics(name: str, tiny_bert: str, tiny_tasks_dir: Path) -> None:
    """With world 1 every row is rank 0's; a rank > 0 (alone, so no collective blocks) returns ``{}``."""
    _, _, _, objective, net, ctx = built(name, tiny_bert, tiny_tasks_dir)
    assert objective.evaluate(net, dataclasses.replace(ctx, rank=1, world=1)) == {}


def _predict_class_zero(head: nn.Module) -> None:
    """Make every linear layer of ``head`` output class 0 whatever its input."""
    with torch.no_grad():
        for layer in head.modules():
            if isinstance(layer, nn.Linear):
                layer.weight.zero_()
                layer.bias.zero_()
                layer.bias[0] = 1.0


F1_NAMES = [n for n in NAMES if any(k.endswith("macro_f1") for k in OBJECTIVES[n].dev_metrics)]


@pytest.mark.parametrize("name", F1_NAMES)
def test_dev_macro_f1_is_the_test_time_figure(name: str, tiny_bert: str, tiny_tasks_dir: Path) -> None:
    """A class never predicted and a class absent from the dev split both count, as at test time."""
    cls = get_objective(name)
    cfg = tiny_config(tiny_bert, tiny_tasks_dir, name)
    data = training_data(cls, cfg, tiny_tasks_dir)
    data = dataclasses.replace(data, label_names=[*data.label_names, "absent"])  # no dev row of it
    objective = build_objective(cfg, data)
    ctx = StepContext(device=torch.device("cpu"), precision="fp32", rank=0, world=1, seed=0)
    net = RetrofitModel.from_config(cfg.model, "eager", head=objective.build_head)
    objective.setup(net, ctx)
    _predict_class_zero(net.head)
    metrics = objective.evaluate(net, ctx)

    splits = {"": (data.dev_labels, data.num_classes), "emotion_": (data.dev_labels, data.num_classes)}
    if isinstance(data, MTLTrainingData) and data.task_dev_labels is not None:
        splits["task_"] = (data.task_dev_labels, len(data.task_label_names))
    checked = 0
    for prefix, (labels, num_classes) in splits.items():
        key = f"dev_{prefix}macro_f1"
        if key not in metrics:
            continue
        zeros = np.zeros(len(labels), dtype=np.int64)
        test_time = downstream.classification_scores(labels, zeros, num_classes)
        assert downstream.classification_scores is classification_scores  # one definition
        assert metrics[key] == pytest.approx(test_time["macro_f1"])
        assert metrics[f"dev_{prefix}accuracy"] == pytest.approx(test_time["accuracy"])
        share = float(np.mean(labels == 0))
        assert metrics[key] == pytest.approx(2 * share / (share + 1) / num_classes)  # only class 0 scores
        checked += 1
    assert checked >= 1


# ---------------------------------------------------------------- the registry


def objective_names_in_use() -> dict[str, str]:
    """Every objective name a space, the config or raysweep's own code may ask for -> where."""
    used = {name: "raysweep/config.py OBJECTIVES" for name in config_mod.OBJECTIVES}
    used[LossConfig().objective] = "LossConfig default"
    for path in sorted((ROOT / "search_spaces").glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        base = ((raw.get("base") or {}).get("loss") or {}).get("objective")
        if base is not None:
            used[base] = f"{path.name} base.loss.objective"
        spec = (raw.get("search") or {}).get("loss.objective") or {}
        for value in [*spec.get("values", []), *([spec["value"]] if "value" in spec else [])]:
            used[value] = f"{path.name} search.loss.objective"
    for path in sorted((ROOT / "raysweep").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            pairs = []
            if isinstance(node, ast.Dict):
                pairs = list(zip(node.keys, node.values, strict=True))
            elif isinstance(node, ast.Call):
                pairs = [(ast.Constant(k.arg), k.value) for k in node.keywords if k.arg]
            for key, value in pairs:
                if isinstance(key, ast.Constant) and key.value == "objective" and isinstance(value, ast.Constant):
                    used[value.value] = f"{path.relative_to(ROOT)}:{node.lineno}"
    return used


def test_every_objective_in_use_is_registered() -> None:
    used = objective_names_in_use()
    assert {"supcon", "ce", "mtl"} <= set(used)
    missing = {name: where for name, where in used.items() if name not in OBJECTIVES}
    assert missing == {}


@pytest.mark.parametrize("name", NAMES)
def test_registered_objective_declares_its_attributes(name: str) -> None:
    cls = OBJECTIVES[name]
    assert issubclass(cls, Objective) and not inspect.isabstract(cls) and cls.name == name
    assert isinstance(cls.card_name, str) and cls.card_name.strip() and cls.card_name != name
    assert isinstance(cls.dev_metrics, tuple) and cls.dev_metrics
    assert all(k.startswith("dev_") for k in cls.dev_metrics)
    assert isinstance(cls.uses_sampler_for_contrast, bool)
    assert issubclass(cls.data_type, TrainingData)
    for lam, targets in ((0.0, "precomputed"), (1.0, "precomputed"), (1.0, "recompute")):
        cfg = RetrofitConfig(loss=LossConfig(objective=name, lam=lam, vsp_targets=targets))
        assert isinstance(cls.needs_frozen_targets(cfg), bool)
    # the model card names the method by its card_name
    assert cls.card_name in model_card(RetrofitConfig(loss=LossConfig(objective=name)), {})


def test_needs_frozen_targets_follows_lambda_and_the_target_mode() -> None:
    supcon = get_objective("supcon")

    def needs(lam: float, targets: str) -> bool:
        return supcon.needs_frozen_targets(RetrofitConfig(loss=LossConfig(lam=lam, vsp_targets=targets)))

    assert needs(1.0, "precomputed") and not needs(0.0, "precomputed") and not needs(1.0, "recompute")
    assert supcon.uses_sampler_for_contrast and not get_objective("ce").uses_sampler_for_contrast
    assert get_objective("mtl").card_name == (
        "multi-task cross-entropy on GoEmotions and a downstream task (MTL baseline)"
    )


def test_unknown_objective_is_one_line_naming_the_choices() -> None:
    with pytest.raises(RaysweepError) as err:
        get_objective("x")
    assert str(err.value) == "loss.objective: unknown objective 'x'; use one of ce, mtl, supcon"


def test_objective_modules_import_base_only() -> None:
    """Each objective module reaches the others' shared code through ``base``, never another objective."""
    package = ROOT / "raysweep" / "train" / "objectives"
    for path in sorted(package.glob("*.py")):
        if path.name in ("__init__.py", "base.py"):
            continue
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                mod = node.module or ""
                if node.level:
                    mod = "raysweep.train.objectives" + (f".{mod}" if mod else "")
                imported.add(mod)
            elif isinstance(node, ast.Import):
                imported.update(a.name for a in node.names)
        siblings = {m for m in imported if m.startswith("raysweep.train.objectives")}
        assert siblings <= {"raysweep.train.objectives.base"}, f"{path.name} imports {sorted(siblings)}"
