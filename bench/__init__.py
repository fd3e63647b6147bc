"""raysweep benchmarks (`python -m bench`); shared helpers for the sections: config, timing, memory, JSON."""

from __future__ import annotations

import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data"


def data_dir(given: str | None) -> str:
    return str(given or os.environ.get("RAYSWEEP_DATA_DIR") or DEFAULT_DATA)


def bench_config(
    data: str,
    *,
    model: str = "minilm",
    batch: int = 64,
    max_length: int = 128,
    train_limit: int | None = 4096,
    dev_limit: int | None = 512,
    **train: Any,
):
    """The benchmark's retrofit config: MiniLM, m-per-class batches of real GoEmotions texts."""
    from raysweep.config import DataConfig, LossConfig, ModelConfig, RetrofitConfig, SamplerConfig, TrainConfig

    return RetrofitConfig(
        data=DataConfig(data_dir=data, max_length=max_length, train_limit=train_limit, dev_limit=dev_limit),
        model=ModelConfig(name=model),
        loss=LossConfig(lam=1.0, tau=0.1),
        sampler=SamplerConfig(kind="mperclass", m=4, batch_size=batch),
        train=TrainConfig(**{"max_failures": 0, **train}),
    ).validate()


def machine() -> dict[str, Any]:
    """The machine a table was measured on (CPU model from ``/proc/cpuinfo`` where there is one)."""
    import platform

    import optuna
    import ray
    import torch

    model = ""
    try:
        model = next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if "model name" in line
            ),
            "",
        )
    except OSError:
        pass
    return {
        "platform": platform.platform(),
        "processor": model or platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "gpus": torch.cuda.device_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "ray": ray.__version__,
        "optuna": optuna.__version__,
    }


def peak_rss_mb() -> float:
    """This process's peak resident set size (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def median(xs: list[float]) -> float:
    return float(statistics.median(xs)) if xs else float("nan")


def now() -> float:
    return time.perf_counter()


def emit(result: dict[str, Any], out: str | None) -> None:
    """Write a section's result as JSON (atomically) to ``out`` or stdout."""
    text = json.dumps(result, indent=1, sort_keys=True, default=float)
    if out is None:
        sys.stdout.write(text + "\n")
        return
    from raysweep import atomic

    atomic.write_text(out, text)
