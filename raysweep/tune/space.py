"""Search spaces: a YAML file -> a validated ``SearchSpace`` -> Ray Tune / Optuna distributions.

A space file has four sections, all optional except ``search``::

    base:         fixed values of the RetrofitConfig, by section (data, model, loss, sampler, train)
    search:       dotted config keys -> distributions:
                    {type: loguniform|uniform, low: A, high: B}
                    {type: int, low: A, high: B[, step: S]}
                    {type: choice, values: [...]}
                    {type: fixed, value: X}
    study:        how the study runs (StudySettings below)
    evaluation:   what every final model is scored on (EvaluationSettings below)

Everything is validated before anything starts; a problem is one line naming the file, the key and
the fix.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from raysweep.config import RetrofitConfig
from raysweep.errors import RaysweepError

SPACES_DIR = Path(__file__).resolve().parents[2] / "search_spaces"
DISTRIBUTIONS = ("loguniform", "uniform", "int", "choice", "fixed")
DATA_KEYS = (
    "model.name",
    "model.pooling",
    "data.max_length",
    "data.train_limit",
    "data.dev_limit",
    "data.drop_neutral",
    "data.data_dir",
)
"""Keys that change the prepared training data (tokens, frozen targets): only choice/fixed allowed."""
EMOTION_METRICS = ("dev_p_at_1", "dev_ami", "dev_map_at_r", "dev_mrr")
BASELINES = ("plm", "scl", "tlearn", "mtl")


@dataclass
class Distribution:
    key: str
    type: str
    low: float | None = None
    high: float | None = None
    step: int | None = None
    values: list[Any] = field(default_factory=list)

    def tune(self):
        from ray import tune

        if self.type == "loguniform":
            return tune.loguniform(self.low, self.high)
        if self.type == "uniform":
            return tune.uniform(self.low, self.high)
        if self.type == "int":
            return tune.qrandint(int(self.low), int(self.high), self.step or 1)
        if self.type == "choice":
            return tune.choice(self.values)
        return self.values[0]

    def describe(self) -> str:
        if self.type in ("loguniform", "uniform"):
            return f"{self.type}({self.low:g}, {self.high:g})"
        if self.type == "int":
            return f"int({int(self.low)}..{int(self.high)}, step {self.step or 1})"
        if self.type == "choice":
            return f"choice({', '.join(map(str, self.values))})"
        return f"fixed({self.values[0]})"


@dataclass
class StudySettings:
    num_samples: int = 8
    seed: int = 0
    metric: str = "dev_p_at_1"
    """The emotion metric (dev split, encoder embedding) that ASHA stops on and TPE maximises."""
    multi_objective: bool = False
    """Search (metric: max, dev_delta_emb: min) for a Pareto front instead of the metric alone."""
    sampler: str = "tpe"
    """Optuna sampler: ``tpe`` (multi-objective: MOTPE; good at tens of trials) or ``nsga2``
    (multi-objective only; a population of min(num_samples / 2, 50), for long studies)."""
    drift_texts: int = 500
    """Non-GoEmotions texts on which dev Δemb is tracked during training (needed for multi-objective)."""
    asha_grace_period: int = 1
    asha_reduction_factor: int = 2
    max_concurrent_trials: int | str = "auto"
    trial_max_failures: int = 1
    seeds: int = 3
    """Re-runs of each chosen configuration (and of each trained baseline) with seeds 0..K-1."""
    pareto_picks: int = 1
    """How many configurations spread along the Pareto front (or the best, single-objective) to re-run."""
    baselines: list[str] = field(default_factory=lambda: list(BASELINES))
    mtl_task: str = "irony"

    def validate(self, where: str) -> None:
        _require(self.num_samples >= 1, where, "study.num_samples", f"{self.num_samples} < 1", "use >= 1")
        _require(self.sampler in ("tpe", "nsga2"), where, "study.sampler", f"{self.sampler!r}", "use tpe or nsga2")
        _require(
            self.sampler == "tpe" or self.multi_objective,
            where,
            "study.sampler",
            "nsga2 needs two objectives",
            "set multi_objective: true or use tpe",
        )
        _require(
            self.metric in EMOTION_METRICS,
            where,
            "study.metric",
            f"unknown metric {self.metric!r}",
            f"use one of {', '.join(EMOTION_METRICS)}",
        )
        _require(
            self.asha_grace_period >= 1 and self.asha_reduction_factor >= 2,
            where,
            "study.asha_*",
            "grace period < 1 or reduction factor < 2",
            "use grace_period >= 1, reduction_factor >= 2",
        )
        mc = self.max_concurrent_trials
        _require(
            mc == "auto" or (isinstance(mc, int) and mc >= 1),
            where,
            "study.max_concurrent_trials",
            f"{mc!r} is neither 'auto' nor a positive integer",
            "use auto or e.g. 2",
        )
        _require(
            self.seeds >= 1 and self.pareto_picks >= 1,
            where,
            "study.seeds/pareto_picks",
            "must be >= 1",
            "use e.g. seeds: 3, pareto_picks: 2",
        )
        bad = [b for b in self.baselines if b not in BASELINES]
        _require(
            not bad, where, "study.baselines", f"unknown baseline {bad[:1]}", f"use some of {', '.join(BASELINES)}"
        )
        _require(
            not self.multi_objective or self.drift_texts > 10,
            where,
            "study.drift_texts",
            "multi-objective needs dev Δemb",
            "set drift_texts to e.g. 500",
        )


@dataclass
class EvaluationSettings:
    tasks: list[str] = field(default_factory=lambda: ["emotion", "drift", "sst2", "isarcasm", "irony"])
    protocols: list[str] = field(default_factory=lambda: ["probe", "fewshot"])
    limit: int | None = None
    """Cap every split at this many rows (quick studies); None: full splits."""
    drift_n: int = 1000
    max_length: int = 128
    finetune_epochs: int = 3
    finetune_head_lr: float = 1e-3
    finetune_tasks: list[str] | None = None
    """Downstream tasks the ``finetune`` protocol runs on; None: all of them."""
    finetune_train_limit: int | None = None
    """Cap each task's fine-tuning train split at this many rows (stratified); None: ``limit``."""

    def validate(self, where: str) -> None:
        bad = [p for p in self.protocols if p not in ("probe", "fewshot", "finetune")]
        _require(not bad, where, "evaluation.protocols", f"unknown protocol {bad[:1]}", "use probe, fewshot, finetune")
        _require(
            self.limit is None or self.limit > 0,
            where,
            "evaluation.limit",
            f"{self.limit} <= 0",
            "use a positive row cap or leave it out",
        )
        stray = [t for t in self.finetune_tasks or [] if t not in self.tasks or t in ("emotion", "drift")]
        _require(
            not stray,
            where,
            "evaluation.finetune_tasks",
            f"{stray[:1]} is not one of the downstream tasks",
            "list only tasks named in evaluation.tasks (not emotion or drift)",
        )


@dataclass
class SearchSpace:
    name: str
    path: str
    base: RetrofitConfig
    search: dict[str, Distribution]
    study: StudySettings
    evaluation: EvaluationSettings
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The resolved space (defaults and overrides applied) in the YAML schema; loads back the same."""

        def distribution(d: Distribution) -> dict[str, Any]:
            if d.type == "choice":
                return {"type": d.type, "values": list(d.values)}
            out = {"type": d.type, "low": d.low, "high": d.high}
            return {**out, "step": d.step} if d.step else out

        return {
            "name": self.name,
            "description": self.description,
            "base": self.base.to_dict(),
            "search": {k: distribution(d) for k, d in self.search.items()},
            "study": dataclasses.asdict(self.study),
            "evaluation": dataclasses.asdict(self.evaluation),
        }

    def tune_space(self) -> dict[str, Any]:
        return {k: d.tune() for k, d in self.search.items()}

    def data_variants(self) -> list[dict[str, Any]]:
        """Every combination of the searched data-affecting keys (each needs its own prepared data)."""
        keys = [k for k in self.search if k in DATA_KEYS]
        combos = itertools.product(*(self.search[k].values for k in keys))
        return [dict(zip(keys, c, strict=True)) for c in combos]

    def config_for(self, params: dict[str, Any]) -> RetrofitConfig:
        return apply_params(self.base, params)

    def describe(self) -> str:
        lines = [f"space {self.name} ({self.path})" + (f": {self.description}" if self.description else "")]
        lines += [f"  search  {k:<22} {d.describe()}" for k, d in self.search.items()]
        s = self.study
        sampler = {"tpe": "TPE", "nsga2": "NSGA-II"}[s.sampler]
        algo = f"{sampler} on ({s.metric} max, dev_delta_emb min)" if s.multi_objective else f"{sampler} on {s.metric}"
        lines.append(
            f"  study   {s.num_samples} trials, {algo}, ASHA on {s.metric} "
            f"(grace {s.asha_grace_period}, factor {s.asha_reduction_factor}), seed {s.seed}"
        )
        lines.append(
            f"  then    {s.pareto_picks} config(s) x {s.seeds} seeds; baselines {', '.join(s.baselines)} "
            f"x {s.seeds} seeds"
        )
        e = self.evaluation
        lines.append(f"  eval    tasks {', '.join(e.tasks)}; protocols {', '.join(e.protocols)}; limit {e.limit}")
        return "\n".join(lines)


def apply_params(base: RetrofitConfig, params: dict[str, Any]) -> RetrofitConfig:
    """``base`` with dotted keys (``loss.lam``) replaced by ``params``, validated."""
    raw = base.to_dict()
    for key, value in params.items():
        section, name = key.split(".", 1)
        raw[section][name] = value
    return RetrofitConfig.from_dict(raw)


def resolve_space_path(name_or_path: str) -> Path:
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise RaysweepError(f"search space {path} does not exist; give a YAML file or a name in {SPACES_DIR}")
        return path
    candidate = SPACES_DIR / f"{name_or_path}.yaml"
    if not candidate.is_file():
        known = ", ".join(sorted(p.stem for p in SPACES_DIR.glob("*.yaml")))
        raise RaysweepError(f"unknown search space {name_or_path!r}; use one of {known} or a YAML path")
    return candidate


def load_space(name_or_path: str, overrides: dict[str, dict[str, Any]] | None = None) -> SearchSpace:
    """Read and validate a space; ``overrides`` (by section) win over the file (CLI flags)."""
    path = resolve_space_path(name_or_path)
    where = str(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        at = f" line {mark.line + 1}" if mark is not None else ""
        raise RaysweepError(
            f"{where}:{at} is not valid YAML ({getattr(err, 'problem', err)}); fix the syntax"
        ) from None
    _require(isinstance(raw, dict), where, "(top level)", "is not a mapping", "write `search:` etc. at the top level")
    allowed = {"name", "description", "base", "search", "study", "evaluation"}
    unknown = sorted(set(raw) - allowed)
    _require(not unknown, where, unknown[0] if unknown else "", "unknown key", f"use only {', '.join(sorted(allowed))}")
    for section, values in (overrides or {}).items():
        raw.setdefault(section, {})
        raw[section] = {**(raw[section] or {}), **values}

    base_raw = raw.get("base") or {}
    _require(isinstance(base_raw, dict), where, "base", "is not a mapping", "give sections data/model/loss/...")
    try:
        for section, values in base_raw.items():
            _require(isinstance(values, dict), where, f"base.{section}", "is not a mapping", "give key: value pairs")
        base = RetrofitConfig.from_dict(_typed_base(base_raw, where))
    except RaysweepError as err:
        raise RaysweepError(f"{where}: base.{err}") from None

    search_raw = raw.get("search") or {}
    _require(
        isinstance(search_raw, dict) and search_raw,
        where,
        "search",
        "is empty or not a mapping",
        "give at least one dotted key, e.g. loss.lam: {type: loguniform, low: 0.1, high: 20}",
    )
    search = {key: _distribution(key, spec, base, where) for key, spec in search_raw.items()}
    study = _settings(StudySettings, raw.get("study") or {}, "study", where)
    study.validate(where)
    evaluation = _settings(EvaluationSettings, raw.get("evaluation") or {}, "evaluation", where)
    evaluation.validate(where)
    space = SearchSpace(
        name=str(raw.get("name") or path.stem),
        path=where,
        base=base,
        search=search,
        study=study,
        evaluation=evaluation,
        description=str(raw.get("description") or ""),
    )
    for variant in space.data_variants():  # every data variant must make a valid config
        try:
            space.config_for({**{k: _sample_value(d) for k, d in search.items()}, **variant})
        except RaysweepError as err:
            raise RaysweepError(f"{where}: search: {err}") from None
    return space


def _typed_base(base_raw: dict[str, Any], where: str) -> dict[str, Any]:
    """Check each base value's type against the config field's default (YAML gives str for typos)."""
    defaults = RetrofitConfig().to_dict()
    for section, values in base_raw.items():
        for key, value in values.items():
            default = defaults.get(section, {}).get(key, value)
            _check_type(value, default, f"base.{section}.{key}", where)
    return base_raw


def _check_type(value: Any, default: Any, key: str, where: str) -> None:
    if value is None or default is None:
        return
    numeric = (int, float)
    if isinstance(default, bool) or isinstance(value, bool):
        ok = isinstance(value, bool) and isinstance(default, bool)
    elif isinstance(default, numeric):
        ok = isinstance(value, numeric) and (isinstance(value, int) or not isinstance(default, int))
    else:
        ok = isinstance(value, type(default))
    _require(
        ok,
        where,
        key,
        f"{value!r} is a {type(value).__name__}, expected {type(default).__name__}",
        f"write a {type(default).__name__} value",
    )


def _distribution(key: str, spec: Any, base: RetrofitConfig, where: str) -> Distribution:
    at = f"search.{key}"
    parts = key.split(".")
    sections = {f.name for f in fields(RetrofitConfig)}
    _require(
        len(parts) == 2 and parts[0] in sections,
        where,
        at,
        "is not a dotted config key",
        "use section.field, e.g. loss.lam",
    )
    section = getattr(base, parts[0])
    names = {f.name for f in dataclasses.fields(section)}
    _require(
        parts[1] in names, where, at, f"{parts[0]} has no field {parts[1]!r}", f"use one of {', '.join(sorted(names))}"
    )
    _require(isinstance(spec, dict), where, at, "is not a mapping", "write {type: ..., low: ..., high: ...}")
    kind = spec.get("type")
    _require(
        kind in DISTRIBUTIONS, where, f"{at}.type", f"unknown type {kind!r}", f"use one of {', '.join(DISTRIBUTIONS)}"
    )
    allowed = {
        "loguniform": {"low", "high"},
        "uniform": {"low", "high"},
        "int": {"low", "high", "step"},
        "choice": {"values"},
        "fixed": {"value"},
    }[kind] | {"type"}
    extra = sorted(set(spec) - allowed)
    _require(
        not extra,
        where,
        f"{at}.{extra[0] if extra else ''}",
        f"is not a key of a {kind} distribution",
        f"use {', '.join(sorted(allowed))}",
    )
    default = getattr(section, parts[1])
    if kind in ("loguniform", "uniform", "int"):
        low, high = spec.get("low"), spec.get("high")
        for name, v in (("low", low), ("high", high)):
            _require(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v),
                where,
                f"{at}.{name}",
                f"{v!r} is not a number",
                "write a finite number",
            )
        _require(low < high, where, at, f"empty or inverted range [{low}, {high}]", "make low < high")
        if kind == "loguniform":
            _require(low > 0, where, f"{at}.low", f"{low} <= 0 for a log scale", "use low > 0 or type: uniform")
        if kind == "int":
            _require(
                float(low).is_integer() and float(high).is_integer(),
                where,
                at,
                "bounds are not integers",
                "use whole numbers",
            )
        _require(key not in DATA_KEYS, where, at, "changes the training data", "use choice or fixed for data keys")
        return Distribution(key, kind, float(low), float(high), spec.get("step"))
    if kind == "choice":
        values = spec.get("values")
        _require(
            isinstance(values, list) and values,
            where,
            f"{at}.values",
            "is empty or not a list",
            "give a non-empty list",
        )
        for v in values:
            _check_type(v, default, f"{at}.values", where)
        return Distribution(key, kind, values=list(values))
    _require("value" in spec, where, f"{at}.value", "is missing", "write value: X")
    _check_type(spec["value"], default, f"{at}.value", where)
    return Distribution(key, kind, values=[spec["value"]])


def _sample_value(d: Distribution) -> Any:
    if d.type in ("loguniform", "uniform"):
        return d.low
    if d.type == "int":
        return int(d.low)
    return d.values[0]


def _settings(cls: type, raw: Any, section: str, where: str):
    _require(isinstance(raw, dict), where, section, "is not a mapping", "give key: value pairs")
    defaults = cls()
    known = {f.name for f in fields(cls)}
    for key, value in raw.items():
        _require(key in known, where, f"{section}.{key}", "unknown key", f"use one of {', '.join(sorted(known))}")
        if key != "max_concurrent_trials":
            _check_type(value, getattr(defaults, key), f"{section}.{key}", where)
    return cls(**raw)


def _require(ok: bool, where: str, key: str, problem: str, fix: str) -> None:
    if not ok:
        raise RaysweepError(f"{where}: {key}: {problem}; {fix}")
