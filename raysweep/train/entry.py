"""The function every Ray Train worker of raysweep runs: what ``train.launch`` hands to ``TorchTrainer``.

Kept apart from :mod:`raysweep.train.worker`, which imports transformers, PML, scikit-learn and scipy
besides torch (4.6-4.9 s against 2.8-3.3 s for what Ray Train's ``TorchTrainer`` imports itself, in a
fresh process on 2 cores), so that a process that only *holds* the function never pays for them:
cloudpickle sends a module-level function by reference, and unpickling it imports its module.
The Tune trial that builds the trainer (``tune.driver.search_trial``) is such a process, one fresh one
per trial, starting while another trial trains beside it. The Train worker imports the training stack
when it calls the function; that import is timed and reported with the model's own imports
(``time_startup_imports_s``, :mod:`raysweep.train.run_clock`).
"""

from __future__ import annotations

import time
from typing import Any


def train_loop_per_worker(loop_config: dict[str, Any]) -> list[dict[str, Any]]:
    """:func:`raysweep.train.worker.train_loop_per_worker`, its module imported here, on the worker."""
    entered_at = time.time()
    started = time.perf_counter()
    from raysweep.train import worker

    return worker.train_loop_per_worker(loop_config, entered_at, time.perf_counter() - started)
