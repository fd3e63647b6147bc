"""What a method of a study is: the one record every phase reads (space, study, driver, leaderboard,
tables, model cards), so a method is added in one place, :mod:`raysweep.methods.registry`.

A method is named by a spec string ``name[:arg]``: ``emo``, ``scl``, ``tlearn``, ``plm``,
``plm:mean`` (the plain model read out in another pooling), ``mtl:irony`` or ``mtl:csv:...`` (MTL
trained jointly with that task). :class:`MethodSpec` is a parsed spec.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from raysweep.config import RetrofitConfig

SETTINGS = ("lam", "tau", "head", "sampler", "lr")
"""The configuration columns of the leaderboard a method may fill."""


@dataclass(frozen=True)
class RunContext:
    """Everything a method's ``run`` gets: the run's config (the method's overrides applied), where
    to put the model, the Ray storage and run name for its Train runs, the study's prepared data
    (``shared_data(cfg)``: an object ref or None when the method prepares its own), the data folder,
    the spec's argument and a finished run it may reuse."""

    cfg: RetrofitConfig
    out: Path
    storage: str
    name: str
    data_dir: str | None = None
    arg: str | None = None
    shared_data: Callable[[RetrofitConfig], Any] | None = None
    label: str = ""
    reuse: str | None = None
    """The name of a Train run under ``storage`` that may already have trained ``cfg`` to its end (the
    picked search trial's): a method that trains ``cfg`` as it is exports that run's last checkpoint
    when :func:`raysweep.train.finished_run.finished_checkpoint` finds it, instead of training again."""


@dataclass(frozen=True)
class Method:
    """One method: how it is named and shown, what it trains and how it runs.

    An implementation provides ``run(ctx) -> model folder`` (a folder the evaluation suite scores:
    an HF model with ``raysweep.json``) and declares the rest as data:

    * ``objective``: the objective it trains (a name in ``raysweep.train.objectives.OBJECTIVES``),
      None for a method that trains nothing;
    * ``sampler``: the batch sampler it forces (``stratified`` for cross-entropy), None to keep the
      configuration's;
    * ``overrides``: config changes by section (SCL: ``{"loss": {"lam": 0.0}}``);
    * ``from_pick``: True when it is run once per configuration picked by the search (emo, scl),
      False when it is run once per searched model name (the baselines);
    * ``seeded``: re-run with every seed (False: once, seed 0);
    * ``settings``: the leaderboard columns of :data:`SETTINGS` it fills from its config;
    * ``arg``: what the part after ``:`` names (``task``, ``pooling``) or None when it takes none;
      ``default_arg`` reads the default from the study settings (MTL's ``mtl_task``).
    """

    name: str
    label: str
    run: Callable[[RunContext], Path]
    objective: str | None = None
    sampler: str | None = None
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    from_pick: bool = False
    seeded: bool = True
    settings: tuple[str, ...] = ()
    arg: str | None = None
    default_arg: Callable[[Any], str | None] | None = None
    description: str = ""

    def config(self, cfg: RetrofitConfig, arg: str | None = None) -> RetrofitConfig:
        """``cfg`` with this method's objective, sampler, overrides (and pooling argument) applied."""
        sections: dict[str, dict[str, Any]] = {k: dict(v) for k, v in self.overrides.items()}
        if self.objective is not None:
            sections.setdefault("loss", {})["objective"] = self.objective
        if self.sampler is not None:
            sections.setdefault("sampler", {})["kind"] = self.sampler
        if self.arg == "pooling" and arg:
            sections.setdefault("model", {})["pooling"] = arg
        return cfg.replace(**sections) if sections else cfg


@dataclass(frozen=True)
class MethodSpec:
    """A parsed ``name[:arg]``: the registered method and its argument."""

    method: Method
    arg: str | None = None

    @property
    def key(self) -> str:
        """The spec as written in records and file names: ``mtl:irony``."""
        return self.method.name if self.arg is None else f"{self.method.name}:{self.arg}"

    @property
    def label(self) -> str:
        """The name in tables: ``MTL (irony)``, ``PLM (mean)``."""
        if self.arg is None:
            return self.method.label
        shown = self.arg.split(":", 1)[1].rsplit("/", 1)[-1] if self.arg.startswith("csv:") else self.arg
        return f"{self.method.label} ({shown})"

    @property
    def folder(self) -> str:
        """A file-name-safe form of the key."""
        return "".join(c if c.isalnum() or c in "._-" else "-" for c in self.key)
