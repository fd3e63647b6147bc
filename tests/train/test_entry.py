"""The Train entry function: a process that only holds it (a Tune trial building its trainer) imports no
training stack; the worker that calls it imports the stack there and reports that time as imports."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

from raysweep.train import entry, worker

STACK = ("transformers", "sklearn", "scipy", "pytorch_metric_learning", "raysweep.train.worker")


def test_a_trial_holds_the_loop_without_importing_the_training_stack() -> None:
    """What a search trial's process imports to build its trainer (the driver's trial functions, the
    launcher, the pickled loop) leaves transformers, scikit-learn, scipy and PML unimported: they cost
    about 2 s of CPU in every fresh trial process, beside the runs training on the node."""
    code = (
        "import sys, cloudpickle\n"
        "import raysweep.tune.driver, raysweep.train.launch\n"
        "from raysweep.train.launch import build_trainer\n"
        "import inspect\n"
        "loop = inspect.signature(build_trainer).parameters['loop'].default\n"
        "cloudpickle.loads(cloudpickle.dumps(loop))\n"
        f"print(sorted(m for m in {STACK!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_the_pickled_loop_names_the_entry_module() -> None:
    import inspect

    import cloudpickle

    from raysweep.train.launch import build_trainer

    loop = inspect.signature(build_trainer).parameters["loop"].default
    assert loop is entry.train_loop_per_worker
    assert b"raysweep.train.entry" in cloudpickle.dumps(loop)  # by reference: unpickling imports only it


def test_the_entry_passes_when_it_entered_and_its_import_time(monkeypatch) -> None:
    seen: dict[str, Any] = {}

    def fake(loop_config: dict[str, Any], entered_at: float | None = None, imports_s: float = 0.0):
        seen.update(config=loop_config, entered_at=entered_at, imports_s=imports_s)
        return [{"step": 1}]

    monkeypatch.setattr(worker, "train_loop_per_worker", fake)
    before = time.time()
    assert entry.train_loop_per_worker({"config": {}}) == [{"step": 1}]
    assert seen["config"] == {"config": {}}
    assert before <= seen["entered_at"] <= time.time()
    assert 0.0 <= seen["imports_s"] < 1.0  # the module is imported already in this process
