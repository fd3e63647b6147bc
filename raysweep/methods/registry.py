"""The registry of methods: ``name -> Method``, the one place a method's name is written.

Every phase reads this: the search space validates ``study.baselines`` against it, the study plans
one run per (method, configuration, seed) from its ``from_pick``/``seeded`` flags, the driver calls
``run``, the leaderboard fills the ``settings`` columns and orders rows as listed here, and the
tables show ``label``. A new method is one entry below (plus its ``run`` and a test).
"""

from __future__ import annotations

from raysweep.errors import RaysweepError
from raysweep.methods import emo, mtl, plm, tlearn
from raysweep.methods.method import SETTINGS, Method, MethodSpec

PROPOSED = "emo"
"""The method a study searches for (its picks are re-run as this method)."""
REFERENCE = "plm"
"""The method every other is compared with (Δ rows in the tables)."""
LAMBDA_ZERO = "scl"
"""The method that is the method's λ = 0 point (SCL), which a multi-objective search runs first."""
LAMBDA_ZERO_CONFIG = "l0"
"""The config id of SCL's final runs when they re-run the search's λ = 0 point (``study.scl_from:
lambda_zero``) instead of each pick: every pick of the method is compared with it."""

METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method(
            "emo",
            "Emo",
            emo.train_and_export,
            objective="supcon",
            from_pick=True,
            settings=SETTINGS,
            description="SupCon + λ·VSP, the searched configuration (BERTEmo/RoBERTaEmo)",
        ),
        Method(
            LAMBDA_ZERO,
            "SCL (λ=0)",
            emo.train_and_export,
            objective="supcon",
            overrides={"loss": {"lam": 0.0}},
            from_pick=True,
            settings=SETTINGS,
            description="the picked configuration without preservation (λ = 0)",
        ),
        Method(
            "tlearn",
            "TLearn",
            tlearn.run,
            objective="ce",
            sampler="stratified",
            settings=("sampler", "lr"),
            description="cross-entropy transfer learning on GoEmotions",
        ),
        Method(
            "mtl",
            "MTL",
            mtl.run,
            objective="mtl",
            sampler="stratified",
            settings=("sampler", "lr"),
            arg="task",
            default_arg=lambda study: getattr(study, "mtl_task", None),
            description="emotion and a downstream task's cross-entropy trained jointly",
        ),
        Method(
            "plm",
            "PLM",
            plm.run,
            seeded=False,
            arg="pooling",
            description="the pre-trained model untouched",
        ),
    )
}
"""Every method, in the order tables list them."""

BASELINES = tuple(name for name, m in METHODS.items() if name != PROPOSED)
"""What ``study.baselines`` may name (with an argument where the method takes one)."""


def parse_method(spec: str, study: object | None = None) -> MethodSpec:
    """``name[:arg]`` -> :class:`MethodSpec`; a one-line error for an unknown name or a stray argument.

    Without an argument, a method that takes one gets its default from ``study`` (MTL: ``mtl_task``).
    """
    name, sep, arg = str(spec).partition(":")
    method = METHODS.get(name)
    if method is None:
        raise RaysweepError(f"unknown method {spec!r}; use one of {', '.join(METHODS)} (mtl:TASK, plm:POOLING)")
    if sep and not arg:
        raise RaysweepError(f"method {spec!r}: nothing after ':'; write e.g. mtl:irony or leave the ':' out")
    if sep and method.arg is None:
        raise RaysweepError(f"method {name} takes no argument (got {spec!r}); write {name}")
    if not sep and method.default_arg is not None and study is not None:
        arg = method.default_arg(study) or ""
    return MethodSpec(method, arg or None)


def expand(spec: str, study: object | None = None, tasks: list[str] | None = None) -> list[MethodSpec]:
    """The runs a spec in ``study.baselines`` stands for: itself, or — for a method trained with a task
    (MTL) given without one and no study default — one spec per downstream task in ``tasks``, since
    MTL is trained jointly with the task it is scored on."""
    chosen = parse_method(spec, study)
    if chosen.method.arg == "task" and chosen.arg is None:
        return [MethodSpec(chosen.method, task) for task in tasks or []]
    return [chosen]


def order(spec_key: str) -> int:
    """Where a method's rows go in tables (the registry's order)."""
    return list(METHODS).index(spec_key.partition(":")[0]) if spec_key.partition(":")[0] in METHODS else len(METHODS)
