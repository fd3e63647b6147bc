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

The distributions are the classes of :mod:`raysweep.tune.distributions`. Everything is validated
before anything starts, each search range over its whole range (every choice, and every combination
of the searched keys, so relations such as m x batch size hold for every config a trial can get); a
problem is one line naming the file, the key and the fix.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from raysweep.config import RetrofitConfig
from raysweep.errors import RaysweepError
from raysweep.evaluation.settings import EvaluationSettings
from raysweep.methods.registry import BASELINES, LAMBDA_ZERO, parse_method
from raysweep.rules import check_fields, one_of, ranged
from raysweep.tune.distributions import Distribution, covering_combinations, parse_distribution
from raysweep.tune.distributions.checks import check_type as _check_type
from raysweep.tune.distributions.checks import require as _require
from raysweep.tune.optuna_samplers import SAMPLERS

if TYPE_CHECKING:
    from raysweep.methods.method import Method

SPACES_DIR = Path(__file__).resolve().parents[2] / "search_spaces"
DATA_KEYS = (
    "model.name",
    "model.pooling",
    "data.max_length",
    "data.train_limit",
    "data.dev_limit",
    "data.drop_neutral",
    "data.data_dir",
)
"""Keys that change the prepared training data (tokens, frozen targets): only categorical distributions
(choice, fixed) may search them."""
EMOTION_METRICS = ("dev_p_at_1", "dev_ami", "dev_map_at_r", "dev_mrr")
SCHEDULER_KINDS = ("auto", "pareto_asha", "asha", "fifo")
"""``study.scheduler``: ``auto`` or a key of :data:`raysweep.tune.schedulers.SCHEDULERS` (the same
keys; the schedulers import Ray, which loading a space does not)."""
LAMBDA = "loss.lam"


@dataclass
class StudySettings:
    """How a study runs: search size and objectives, early stopping, re-runs and baselines. Every
    field's range is stated here (``raysweep.rules``) and checked by ``validate``."""

    num_samples: int = ranged(8, ge=1, fix="use >= 1 search trial")
    seed: int = ranged(0, ge=0, lt=2**32, fix="use a seed in 0 .. 2**32 - 1")
    metric: str = one_of("dev_p_at_1", EMOTION_METRICS, "metric")
    """The emotion metric (dev split, encoder embedding) that ASHA stops on and TPE maximises."""
    multi_objective: bool = False
    """Search (metric: max, dev_delta_emb: min) for a Pareto front instead of the metric alone."""
    sampler: str = one_of("tpe", tuple(SAMPLERS), "sampler", fix=f"use one of {', '.join(SAMPLERS)}")
    """Optuna sampler (:mod:`raysweep.tune.optuna_samplers`): ``tpe`` (multi-objective: MOTPE; good at
    tens of trials), ``nsga2`` (multi-objective only; a population of min(num_samples / 2, 50), for long
    studies) or ``random`` (the baseline a model-based sampler should beat)."""
    scheduler: str = one_of("auto", SCHEDULER_KINDS, "scheduler", fix=f"use one of {', '.join(SCHEDULER_KINDS)}")
    """Early stopping (:mod:`raysweep.tune.schedulers`): ``auto`` (``pareto_asha`` when multi-objective,
    else ``asha``), ``pareto_asha`` (multi-objective only), ``asha`` (on the metric alone) or ``fifo``
    (no early stopping)."""
    lambda_zero: bool = True
    """Run the λ = 0 point (SCL, SupCon alone) first in a multi-objective search, so the method's own
    front holds its λ = 0 end (see :meth:`SearchSpace.lambda_zero_point`)."""
    drift_texts: int = ranged(500, ge=0, fix="use 0 (no dev Δemb) or e.g. 500 texts")
    """Non-GoEmotions texts on which dev Δemb is tracked during training (needed for multi-objective)."""
    asha_grace_period: int = ranged(1, ge=1, fix="use grace_period >= 1")
    """Evaluations before the first rung: the schedulers run on steps, so it sits at ``asha_grace_period
    x eval_every`` steps (:mod:`raysweep.tune.schedulers.fidelity`)."""
    asha_reduction_factor: int = ranged(2, ge=2, fix="use reduction_factor >= 2")
    max_concurrent_trials: int | str = "auto"
    trial_max_failures: int = ranged(1, ge=0, fix="use 0 or more retries (Ray reads a negative count as unlimited)")
    seeds: int = ranged(3, ge=1, fix="use e.g. seeds: 3")
    """Re-runs of each chosen configuration (and of each trained baseline) with seeds 0..K-1."""
    baseline_seeds: int | None = ranged(None, ge=1, fix="use e.g. baseline_seeds: 2, or leave it out for seeds")
    """Seeds of the trained baselines that do not re-run a pick (TLearn, MTL); None: ``seeds``. Methods
    that re-run a pick (Emo, SCL) always take ``seeds``, so the method and its ablation share their seeds."""
    pareto_picks: int = ranged(1, ge=1, fix="use e.g. pareto_picks: 2")
    """How many configurations spread along the Pareto front (or the best, single-objective) to re-run."""
    matched_picks: list[dict[str, float | str]] = field(default_factory=list)
    """Picks by a matching rule, re-run beside the spread ones: ``{drift_at_most: X}`` (the most
    emotion-aware full-fidelity trial with dev Δemb <= X) or ``{metric_at_least: Y}`` (the least
    drifting one with the dev metric >= Y), so Emo and SCL can be compared at equal drift or awareness;
    X or Y ``scl`` is the λ = 0 point's own dev figure (``{metric_at_least: scl}``: Emo as emotion-aware
    as SCL with the least drift), which needs a multi-objective study (the λ = 0 point runs only there)."""
    scl_from: str = one_of("picks", ("picks", "lambda_zero"), "scl_from", fix="use picks or lambda_zero")
    """Where SCL's final runs come from: ``picks`` (each pick re-run with λ = 0: the ablation of each
    configuration) or ``lambda_zero`` (the search's own λ = 0 point, once, its seed 0 the search trial
    itself when it ran to its end: the SCL that ``{metric_at_least: scl}`` matches, and one SCL for every
    pick, which saves a study (picks - 1) x seeds training runs); ``lambda_zero`` needs the λ = 0 point."""
    baselines: list[str] = field(default_factory=lambda: list(BASELINES))
    mtl_task: str | None = None
    """The task a bare ``mtl`` in ``baselines`` trains with; None: one MTL per downstream task of the
    evaluation (``mtl:sst2``, ``mtl:isarcasm``, ...), each scored on its own task."""

    def seeds_of(self, method: Method) -> int:
        """How many seeds (0..K-1) a method's final runs take: ``seeds`` for the method and every method
        that re-runs a pick (SCL), ``baseline_seeds`` (else ``seeds``) for the other trained baselines,
        one for a method that is not seeded (PLM)."""
        if not method.seeded:
            return 1
        if method.from_pick or self.baseline_seeds is None:
            return self.seeds
        return self.baseline_seeds

    def validate(self, where: str) -> None:
        try:
            check_fields(self, "study")
        except RaysweepError as err:
            raise RaysweepError(f"{where}: {err}") from None
        _require(
            self.sampler == "tpe" or self.multi_objective,
            where,
            "study.sampler",
            "nsga2 needs two objectives",
            "set multi_objective: true or use tpe",
        )
        _require(
            self.scheduler != "pareto_asha" or self.multi_objective,
            where,
            "study.scheduler",
            "pareto_asha needs two objectives",
            "set multi_objective: true or use auto, asha or fifo",
        )
        _require(
            self.scl_from == "picks" or (self.multi_objective and self.lambda_zero),
            where,
            "study.scl_from",
            "lambda_zero needs the search's λ = 0 point, which only a multi-objective search with lambda_zero runs",
            "set multi_objective: true and lambda_zero: true, or use scl_from: picks",
        )
        for rule in self.matched_picks:
            value = next(iter(rule.values()), None) if isinstance(rule, dict) else None
            _require(
                isinstance(rule, dict)
                and len(rule) == 1
                and next(iter(rule)) in ("drift_at_most", "metric_at_least")
                and (value == LAMBDA_ZERO or (isinstance(value, (int, float)) and not isinstance(value, bool))),
                where,
                "study.matched_picks",
                f"{rule!r} is not a matching rule",
                "write e.g. [{drift_at_most: 0.05}, {metric_at_least: 0.2}, {metric_at_least: scl}]",
            )
            _require(
                value != LAMBDA_ZERO or self.multi_objective,
                where,
                "study.matched_picks",
                f"{rule!r} matches the λ = 0 point, which only a multi-objective search runs",
                "set multi_objective: true or give a number",
            )
        mc = self.max_concurrent_trials
        _require(
            mc == "auto" or (isinstance(mc, int) and not isinstance(mc, bool) and mc >= 1),
            where,
            "study.max_concurrent_trials",
            f"{mc!r} is neither 'auto' nor a positive integer",
            "use auto or e.g. 2",
        )
        for key in self.baselines:
            try:
                chosen = parse_method(key, self)
            except RaysweepError as err:
                raise RaysweepError(f"{where}: study.baselines: {err}") from None
            _require(
                chosen.method.name in BASELINES,
                where,
                "study.baselines",
                f"unknown baseline {key!r}",
                f"use some of {', '.join(BASELINES)}",
            )
        _require(
            not self.multi_objective or self.drift_texts > 10,
            where,
            "study.drift_texts",
            "multi-objective needs dev Δemb",
            "set drift_texts to e.g. 500",
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
        return {
            "name": self.name,
            "description": self.description,
            "base": self.base.to_dict(),
            "search": {k: d.to_dict() for k, d in self.search.items()},
            "study": dataclasses.asdict(self.study),
            "evaluation": dataclasses.asdict(self.evaluation),
        }

    def tune_space(self) -> dict[str, Any]:
        """The ``param_space`` for Ray Tune: dotted key -> Tune domain (or plain value, for ``fixed``)."""
        return {k: d.tune() for k, d in self.search.items()}

    def scheduler_kind(self) -> str:
        """The early stopping the search uses: ``study.scheduler``, with ``auto`` resolved
        (``pareto_asha`` for a multi-objective space, else ``asha``)."""
        if self.study.scheduler != "auto":
            return self.study.scheduler
        return "pareto_asha" if self.study.multi_objective else "asha"

    def lambda_zero_point(self) -> dict[str, Any] | None:
        """The search's λ = 0 point (SCL on the method's own front), or None when the study does not run
        one (single-objective, or ``study.lambda_zero: false``).

        ``loss.lam`` is 0; every other searched key takes the base config's value when its
        distribution can sample it, else the distribution's center (a log range's geometric mean, a
        uniform range's or an int grid's middle, a choice's first value). The base is the space's
        stated default configuration, so the point differs from it in λ alone wherever the searched
        ranges allow; a base value outside its range means the author moved the search away from it,
        and the center of the range is then the most neutral value inside it.
        """
        if not (self.study.multi_objective and self.study.lambda_zero):
            return None
        raw = self.base.to_dict()
        point = {}
        for key, distribution in self.search.items():
            section, name = key.split(".", 1)
            point[key] = distribution.value_near(raw[section][name])
        point[LAMBDA] = 0.0
        return point

    def data_variants(self) -> list[dict[str, Any]]:
        """Every combination of the searched data-affecting keys (each needs its own prepared data)."""
        keys = [k for k in self.search if k in DATA_KEYS]
        combos = itertools.product(*(self.search[k].points() for k in keys))  # categorical: every value
        return [dict(zip(keys, c, strict=True)) for c in combos]

    def covering_params(self) -> list[dict[str, Any]]:
        """Parameter sets that cover every value and combination the search can sample (see
        :func:`~raysweep.tune.distributions.covering_combinations`): what :func:`load_space` validates."""
        return list(covering_combinations(self.search))

    def config_for(self, params: dict[str, Any]) -> RetrofitConfig:
        return apply_params(self.base, params)

    def describe(self) -> str:
        lines = [f"space {self.name} ({self.path})" + (f": {self.description}" if self.description else "")]
        lines += [f"  search  {k:<22} {d.describe()}" for k, d in self.search.items()]
        s = self.study
        sampler = {"tpe": "TPE", "nsga2": "NSGA-II", "random": "random search"}[s.sampler]
        algo = f"{sampler} on ({s.metric} max, dev_delta_emb min)" if s.multi_objective else f"{sampler} on {s.metric}"
        stopping = {
            "pareto_asha": f"Pareto-ASHA on ({s.metric}, dev_delta_emb)",
            "asha": f"ASHA on {s.metric}",
            "fifo": "no early stopping",
        }[self.scheduler_kind()]
        rungs = (
            ""
            if self.scheduler_kind() == "fifo"
            else f" (grace {s.asha_grace_period}, factor {s.asha_reduction_factor})"
        )
        zero = ", the λ = 0 point first" if self.lambda_zero_point() is not None else ""
        lines.append(f"  study   {s.num_samples} trials{zero}, {algo}, {stopping}{rungs}, seed {s.seed}")
        matched = "".join(f" + {k} {v}" for rule in s.matched_picks for k, v in rule.items())
        groups: dict[int | None, list[str]] = {}  # by seed count; None: not seeded (PLM: untrained, once)
        for b in s.baselines:
            method = parse_method(b, s).method
            groups.setdefault(s.seeds_of(method) if method.seeded else None, []).append(b)
        parts = [f"{', '.join(names)} x {k} seeds" for k, names in groups.items() if k is not None]
        parts += [f"{', '.join(groups[None])} once"] if None in groups else []
        baselines = f"baselines {'; '.join(parts)}" if parts else "no baselines"
        lines.append(f"  then    {s.pareto_picks} config(s){matched} x {s.seeds} seeds; {baselines}")
        e = self.evaluation
        lines.append(f"  eval    tasks {', '.join(e.tasks)}; protocols {', '.join(e.protocols)}; limit {e.limit}")
        return "\n".join(lines)


def apply_params(base: RetrofitConfig, params: dict[str, Any]) -> RetrofitConfig:
    """``base`` with dotted keys (``loss.lam``) replaced by ``params``, validated."""
    return RetrofitConfig.from_dict(_merged(base.to_dict(), params))


def _merged(raw: dict[str, dict[str, Any]], params: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A copy of the config dict ``raw`` with dotted keys replaced by ``params`` (``raw`` is left as it is)."""
    out = {section: dict(values) for section, values in raw.items()}
    for key, value in params.items():
        section, name = key.split(".", 1)
        out[section][name] = value
    return out


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
    _check_objective_reports(base, search, study, where)
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
    _check_whole_range(space, where)
    return space


def _check_whole_range(space: SearchSpace, where: str) -> None:
    """Refuse a space that can sample an invalid config: every value of every distribution, and every
    combination of them (see ``SearchSpace.covering_params``), must pass ``RetrofitConfig`` validation.

    The first failure is one line naming the fewest searched keys (with their values) that still fail
    with the others left at the base config, e.g. ``search: sampler.m=3 with sampler.batch_size=64: ...``.
    """
    raw = space.base.to_dict()
    for params in space.covering_params():
        if _config_problem(raw, params) is None:
            continue
        culprit = dict(params)
        for key in params:  # the base alone is valid: drop each key that the failure does not need
            rest = {k: v for k, v in culprit.items() if k != key}
            if _config_problem(raw, rest) is not None:
                culprit = rest
        named = " with ".join(f"{k}={_show(v)}" for k, v in culprit.items())
        raise RaysweepError(f"{where}: search: {named}: {_config_problem(raw, culprit)}")


def _config_problem(raw: dict[str, dict[str, Any]], params: dict[str, Any]) -> str | None:
    """Why the config ``raw`` with ``params`` applied is invalid, or None when it is valid."""
    try:
        RetrofitConfig.from_dict(_merged(raw, params))
    except RaysweepError as err:
        return str(err)
    except (TypeError, ValueError) as err:  # a value of a type the rules cannot compare
        return f"the config rules cannot take it ({type(err).__name__}: {err}); give a value of the field's type"
    return None


def _show(value: Any) -> str:
    """A searched value for a message: floats to 6 significant digits (``1.0``, ``0.316228``)."""
    return str(float(f"{value:.6g}")) if isinstance(value, float) else str(value)


def _check_objective_reports(base: RetrofitConfig, search: dict[str, Any], study: StudySettings, where: str) -> None:
    """Every objective the search can train must report the study's metric on dev (else no trial
    could ever be ranked, which a study would find out only after its whole search)."""
    from raysweep.train.objectives import get_objective

    spec = search.get("loss.objective")
    names = spec.points() if spec is not None else [base.loss.objective]
    for name in names:
        try:
            objective = get_objective(name)
        except RaysweepError as err:
            raise RaysweepError(f"{where}: {err}") from None
        _require(
            study.metric in objective.dev_metrics,
            where,
            "study.metric",
            f"{study.metric} is not reported by the {name} objective (it reports {', '.join(objective.dev_metrics)})",
            "search the supcon objective (the method) or choose one of the metrics it reports",
        )


def _typed_base(base_raw: dict[str, Any], where: str) -> dict[str, Any]:
    """Check each base value's type against the config field's default (YAML gives str for typos)."""
    defaults = RetrofitConfig().to_dict()
    for section, values in base_raw.items():
        for key, value in values.items():
            default = defaults.get(section, {}).get(key, value)
            _check_type(value, default, f"base.{section}.{key}", where)
    return base_raw


def _distribution(key: str, spec: Any, base: RetrofitConfig, where: str) -> Distribution:
    """The distribution of ``search.KEY``: a dotted config key, a valid YAML form, values of the field's type."""
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
    distribution = parse_distribution(key, spec, where)
    _require(
        distribution.categorical or key not in DATA_KEYS,
        where,
        at,
        "changes the training data",
        "use choice or fixed for data keys",
    )
    distribution.check_field(getattr(section, parts[1]), where)
    return distribution


def _settings(cls: type, raw: Any, section: str, where: str):
    _require(isinstance(raw, dict), where, section, "is not a mapping", "give key: value pairs")
    defaults = cls()
    known = {f.name for f in fields(cls)}
    for key, value in raw.items():
        _require(key in known, where, f"{section}.{key}", "unknown key", f"use one of {', '.join(sorted(known))}")
        if key != "max_concurrent_trials":
            _check_type(value, getattr(defaults, key), f"{section}.{key}", where)
    return cls(**raw)
