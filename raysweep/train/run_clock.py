"""What a training run spent its time on, reported with every evaluation: the inputs of a study's
goodput (``raysweep.tune.goodput``).

Every report of ``train.worker`` carries the run's cumulative counters:

* ``train_samples``: samples of its optimizer steps so far (step x global batch);
* ``time_steps_s``: seconds inside the training steps (forward, backward, optimizer, batch slicing,
  the step log lines), from the first step on;
* ``time_dev_eval_s``: seconds in dev evaluations and in the reports and checkpoints written with
  them (a report's own checkpoint is counted in the next report);
* ``time_startup_s``: from the moment the trainer was built (``launched_at``, wall clock, set by
  ``train.launch``) to the first step: Ray Train's controller and worker group, the workers' imports,
  the model load and the data fetch; of which ``time_startup_loop_s`` is raysweep's part, from the
  worker entering the training loop (``train.entry``) to its first step (the training stack's imports,
  the data fetch from the object store, the model load, the DDP wrapper), the rest being Ray Train's
  (controller, worker group, process group); and of the loop's part, ``time_startup_imports_s`` went
  into imports, paid once by each fresh worker process: torch, PML, scikit-learn and raysweep's training
  modules (``train.worker``) and the model's code (``models.encoder.import_model_code``: transformers'
  modelling modules and what they import); the rest is raysweep's own work;
* ``time_warmup_s`` and ``warmup_samples``: the seconds and samples of the run's first
  :data:`WARMUP_STEPS` steps (part of ``time_steps_s`` and ``train_samples``), kept apart so that the run's
  speed can be read in steady state, as the plain loop's is (it runs as many steps untimed first: the
  first steps of a fresh process build oneDNN's kernels and the allocator's pools, 2x a later step);
* ``cpu_steps_s`` and ``cpu_warmup_s``: the CPU seconds this rank's process used inside those steps and
  warm-up steps (``time.process_time``: every thread of the process), with ``cpu_threads``, the rank's
  intra-op threads: a run whose steps got their cores all the time has ``cpu_steps_s`` close to
  ``time_steps_s x cpu_threads``; what is missing went to other processes on the same cores (a
  neighbour's start-up, an evaluation, the driver), which is how a study tells a slow step from a
  step that waited (``raysweep.tune.goodput.run_rates``).

A run resumed from a checkpoint continues the counters that checkpoint recorded, and adds its own
start-up; the work lost after that checkpoint is not counted anywhere (a study's goodput shows it as
idle). Written by hand: Ray Train reports no breakdown of a run's time.
"""

from __future__ import annotations

import time
from typing import Any

COUNTERS = ("time_steps_s", "time_dev_eval_s", "time_startup_s")
"""The counters that add up to a run's time (with its teardown)."""
LOOP_STARTUP = "time_startup_loop_s"
"""The part of ``time_startup_s`` inside the worker's training loop."""
LOOP_IMPORTS = "time_startup_imports_s"
"""The part of ``time_startup_loop_s`` spent on imports: the training stack (``train.entry``) and the model's code."""
WARMUP = ("time_warmup_s", "warmup_samples")
"""The seconds and samples of a run's first steps (inside ``time_steps_s`` and ``train_samples``)."""
STEP_CPU = ("cpu_steps_s", "cpu_warmup_s")
"""The process CPU seconds inside ``time_steps_s`` and inside ``time_warmup_s``."""
WARMUP_STEPS = 2
"""Steps a run's warm-up counts: the plain loop's untimed warm-up (``train.plain_loop.plain_loop_rate``)."""


class RunClock:
    """Cumulative time counters of one run, on one rank (rank 0's are the ones Tune sees).

    Args:
        launched_at: ``time.time()`` when the trainer was built; None: no start-up is measured.
        restored: the metrics of the checkpoint the run resumes from (its counters go on from there).
        entered_at: ``time.time()`` when the worker entered the training loop (default: now).
        imports_s: seconds of the loop's start-up spent importing the model's code.
        threads: the rank's intra-op threads (reported as ``cpu_threads``).
    """

    def __init__(
        self,
        launched_at: float | None,
        restored: dict[str, Any] | None = None,
        entered_at: float | None = None,
        imports_s: float = 0.0,
        threads: int = 1,
    ) -> None:
        restored = restored or {}
        self.launched_at = launched_at
        self.entered_at = time.time() if entered_at is None else entered_at
        self.imports_s = imports_s
        self.threads = max(int(threads), 1)
        kept = (*COUNTERS, LOOP_STARTUP, LOOP_IMPORTS, *WARMUP, *STEP_CPU)
        self.totals = {k: float(restored.get(k, 0.0) or 0.0) for k in kept}
        self._mark = time.perf_counter()
        self._cpu_mark = time.process_time()
        self._started = False
        self._steps_from = self._mark
        self._cpu_from = self._cpu_mark
        self._warm = False

    def start_steps(self) -> None:
        """The first step is about to run: the start-up ends here (once per run)."""
        if not self._started:
            now = time.time()
            self.totals[LOOP_STARTUP] += max(now - self.entered_at, 0.0)
            self.totals[LOOP_IMPORTS] += max(self.imports_s, 0.0)
            if self.launched_at is not None:
                self.totals["time_startup_s"] += max(now - self.launched_at, 0.0)
        self._started = True
        self._mark = self._steps_from = time.perf_counter()
        self._cpu_mark = self._cpu_from = time.process_time()

    def warmed_up(self, samples: float) -> None:
        """The run's first :data:`WARMUP_STEPS` steps (``samples`` of them) are done: their time is kept
        apart, once per run, unless an evaluation already fell among them (then nothing is)."""
        if not self._warm and self._mark == self._steps_from:
            self.totals["time_warmup_s"] += time.perf_counter() - self._steps_from
            self.totals["cpu_warmup_s"] += time.process_time() - self._cpu_from
            self.totals["warmup_samples"] += samples
        self._warm = True

    def _lap(self, counter: str) -> None:
        now, cpu = time.perf_counter(), time.process_time()
        self.totals[counter] += now - self._mark
        if counter == "time_steps_s":
            self.totals["cpu_steps_s"] += cpu - self._cpu_mark
        self._mark, self._cpu_mark = now, cpu

    def steps_done(self) -> None:
        """An evaluation begins: the time since the last mark was spent in steps."""
        self._lap("time_steps_s")

    def eval_done(self) -> None:
        """An evaluation (or the report after it) ended: the time since the last mark was spent there."""
        self._lap("time_dev_eval_s")

    def figures(self, step: int, batch_size: int) -> dict[str, float]:
        """The counters to report at ``step`` of a run whose global batch is ``batch_size``."""
        return {
            "train_samples": float(step * batch_size),
            "cpu_threads": float(self.threads),
            **{k: round(v, 4) for k, v in self.totals.items()},
        }
