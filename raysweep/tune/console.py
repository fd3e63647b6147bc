"""What a study prints: one line per trial event and a study line after each trial, instead of Ray's
trial tables (``--verbose`` brings those back; the full Ray logs are copied into the study folder).

::

    [search 2/10] trial 8209cf52 started: loss.lam=2.12 loss.tau=0.414 model.head=mlp
    [search 2/10] trial 8209cf52 step 40: dev_ami 0.114, dev_delta_emb 0.0156 (61 samples/s)
    [search 2/10] trial 8209cf52 stopped early at step 80: dev_ami 0.114, dev_delta_emb 0.0156
    [search] 2 of 10 trials done; best dev_ami 0.187 (dev_delta_emb 0.038); about 14 min left

The figures printed are the reported ones, unrounded beyond 3 significant digits, so a reader can
find every one of them in ``trials.csv`` or the leaderboard.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from ray.tune import Callback

if TYPE_CHECKING:
    import pandas as pd

SHOWN = ("dev_p_at_1", "dev_ami", "dev_map_at_r", "dev_delta_emb", "ami", "p_at_1", "map_at_r", "delta_emb")
SUMMARY = ("p_at_1", "ami", "map_at_r", "delta_emb")
"""The test figures of the study's closing summary, one line per leaderboard row (mean ± std over seeds)."""


def _figures(result: dict[str, Any], keys: tuple[str, ...]) -> str:
    return ", ".join(f"{k} {result[k]:.3g}" for k in keys if isinstance(result.get(k), (int, float)))


class ConsoleReporter(Callback):
    """A Tune callback that prints one line per trial event and a study line with the trials done,
    the best figure so far and an estimate of the time left.

    Args:
        phase: ``search`` or ``final``, the prefix of every line.
        metric: the figure "best so far" is judged on (maximised); for finals, the table's figures.
        total: how many trials the phase runs.
        keys: which reported figures a line shows (default: the dev and test figures of :data:`SHOWN`).
        full_steps: a trial's steps at full fidelity (a trial that ends before them was stopped early).
        out: where lines go (``print`` by default).
    """

    def __init__(
        self,
        phase: str,
        metric: str,
        total: int,
        keys: tuple[str, ...] = SHOWN,
        full_steps: int | None = None,
        out: Any = None,
    ) -> None:
        self.phase, self.metric, self.total, self.keys, self.full_steps = phase, metric, total, keys, full_steps
        self.out = out or (lambda line: print(line, flush=True))
        self.done: list[str] = []
        self.best: dict[str, Any] | None = None
        self.started = time.monotonic()
        self.last: dict[str, dict[str, Any]] = {}
        self.lines = 0
        self.earlier: set[str] | None = None  # trials a resumed study's earlier invocations ended

    def _count_earlier(self, trials: list, current: Any) -> None:
        """Once, at the first event: the trials that had ended before this invocation started (a resumed
        study's), which count as done but not towards the time per trial of the estimate; ``current`` is the
        trial of the event (ending now, not before)."""
        if self.earlier is None:
            ended = {"TERMINATED", "ERROR"}
            earlier = {t.trial_id for t in trials if t.status in ended and t.trial_id not in self.done}
            self.earlier = earlier - {current.trial_id}

    @property
    def finished(self) -> int:
        return len(self.done) + len(self.earlier or ())

    def setup(self, total_num_samples: int | None = None, **info: Any) -> None:
        """At the start of every ``fit`` (a resumed study's too): the clock of the time-left estimate
        restarts, and the phase's total is Tune's count when it knows one (a grid's size)."""
        self.started = time.monotonic()
        if isinstance(total_num_samples, int) and total_num_samples > 0:
            self.total = total_num_samples

    def _say(self, line: str) -> None:
        self.lines += 1
        self.out(line)

    def _name(self, trial: Any) -> str:
        spec = (trial.config or {}).get("spec")
        if isinstance(spec, dict):
            return f"{spec.get('method')} {spec.get('config_id')} seed {spec.get('seed')}"
        return f"trial {trial.trial_id}"

    def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._count_earlier(trials, trial)
        params = {k: v for k, v in (trial.config or {}).items() if k != "spec"}
        shown = " ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in sorted(params.items()))
        self._say(
            f"[{self.phase} {self.finished + 1}/{self.total}] {self._name(trial)} started"
            + (f": {shown}" if shown else "")
        )

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info: Any) -> None:
        self._count_earlier(trials, trial)  # a restored running trial's first event can be a result
        self.last[trial.trial_id] = result
        figures = _figures(result, self.keys)
        if not figures:
            return
        step = f" step {result['step']}" if "step" in result else ""
        rate = (
            f" ({result['samples_per_s']:.0f} samples/s)"
            if isinstance(result.get("samples_per_s"), (int, float))
            else ""
        )
        self._say(f"[{self.phase} {self.finished + 1}/{self.total}] {self._name(trial)}{step}: {figures}{rate}")

    def _ended(self, trial: Any, how: str) -> None:
        self.done.append(trial.trial_id)
        result = self.last.get(trial.trial_id) or trial.last_result or {}
        reason = result.get("failure_reason")
        if result.get("diverged"):
            how = f"diverged ({reason})" if reason else "diverged"
        self._say(
            f"[{self.phase} {self.finished}/{self.total}] {self._name(trial)} {how}: {_figures(result, self.keys)}"
        )
        value = result.get(self.metric)
        if isinstance(value, (int, float)) and not result.get("diverged"):
            if self.best is None or value > self.best.get(self.metric, float("-inf")):
                self.best = result
        elapsed = time.monotonic() - self.started
        left = elapsed / len(self.done) * max(self.total - self.finished, 0)
        best = f"; best {self.metric} {self.best[self.metric]:.3g}" if self.best else ""
        if self.best and "dev_delta_emb" in self.best and self.metric != "dev_delta_emb":
            best += f" (dev_delta_emb {self.best['dev_delta_emb']:.3g})"
        eta = f"; about {left / 60:.0f} min left" if self.total > self.finished else ""
        self._say(f"[{self.phase}] {self.finished} of {self.total} trials done{best}{eta}")

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._count_earlier(trials, trial)
        result = self.last.get(trial.trial_id) or {}
        step = result.get("step")
        early = self.full_steps is not None and isinstance(step, (int, float)) and step < self.full_steps
        self._ended(trial, f"stopped early at step {result.get('step')}" if early else "finished")

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._count_earlier(trials, trial)
        error = str(getattr(trial, "error_msg", "") or "see its error.txt").strip().splitlines()
        self._ended(trial, f"failed ({error[-1][:200] if error else 'see its error.txt'})")


def summary_lines(board: pd.DataFrame, keys: tuple[str, ...] = SUMMARY) -> list[str]:
    """The study's closing summary: one line per row of the leaderboard (``leaderboard.csv``), its
    test figures as ``mean ± std`` to 3 significant digits, read from the table itself."""
    lines = []
    for _, row in board.iterrows():
        figures = ", ".join(
            f"{k} {row[f'{k}_mean']:.3g} ± {row.get(f'{k}_std', 0.0):.2g}"
            for k in keys
            if f"{k}_mean" in row and row[f"{k}_mean"] == row[f"{k}_mean"]  # NaN: not measured
        )
        lines.append(f"[summary] {row['method']} {row['config_id']} ({int(row['n_seeds'])} seed(s)): {figures}")
    return lines
