"""One final run of a study, as it travels from the study's plan to a Tune trial and back into the
leaderboard: the method spec (``mtl:irony``), which configuration (``c0`` for the first pick,
``base`` for a baseline), the searched parameters it applies, the seed, and the search trial that may
already have trained it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class RunSpec:
    method: str
    """A method spec, ``name[:arg]`` (see :mod:`raysweep.methods.registry`)."""
    config_id: str
    params: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    reuse: str | None = None
    """The id of the search trial this run's configuration was picked from, when that trial ran to its
    end: the final run exports its last checkpoint if it trained this very config (same seed),
    instead of training again (:mod:`raysweep.train.finished_run`)."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON-able form Tune keeps in the trial's config (``{"spec": ...}``)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> RunSpec:
        reuse = raw.get("reuse")
        return cls(
            str(raw["method"]),
            str(raw["config_id"]),
            dict(raw.get("params") or {}),
            int(raw.get("seed", 0)),
            None if reuse is None else str(reuse),
        )

    @property
    def folder(self) -> str:
        """The model folder's name: ``mtl-irony-base-seed0``."""
        method = "".join(c if c.isalnum() or c in "._-" else "-" for c in self.method)
        return f"{method}-{self.config_id}-seed{self.seed}"
