"""Numeric precision and attention kernel for a device (training steps; evaluation embeddings take the
same precision).

bf16 autocast pays on GPUs and on CPUs whose bf16 matrix units the kernels reach (AMX, or AVX512-BF16
on some parts): there a bf16 step ran about 2.5x fp32 (AMD EPYC with AVX512-BF16). A CPU flag does not
say so on its own: on an Intel Xeon that lists ``avx512_bf16`` but exposes no AMX to its VM, a bf16
matmul ran at 0.66x fp32 and the whole training step at 0.62x (``python -m bench``, 2026-12-02). So
``auto`` on CPU measures: where the flags allow bf16 it times one matmul chain of a small encoder's
shapes (:func:`cpu_bf16_speedup`, about 0.3 s) in both precisions and takes bf16 only where it is
:data:`BF16_MIN_SPEEDUP` faster; the answer is kept on disk per CPU model, flags, torch version and
thread count (``$RAYSWEEP_CACHE_DIR/precision/``), so a node measures once and every later run reads
it. On CPU the SDPA kernel's bf16 backward is slow, so the bf16 path uses eager attention; fp32 uses
SDPA. Written by hand: neither torch nor oneDNN says whether bf16 is the faster choice on a CPU.
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
from functools import cache
from pathlib import Path

import torch

BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")
"""CPU flags without which bf16 is never chosen on CPU (nothing is measured)."""
BF16_MIN_SPEEDUP = 1.2
"""bf16 is chosen on CPU only where its matmul chain runs at least this much faster than fp32's."""


def _cpuinfo(field: str) -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:  # not Linux
        return ""
    return next((ln.partition(":")[2] for ln in text.splitlines() if ln.startswith(field)), "").strip()


def cpu_flags() -> list[str]:
    """This CPU's feature flags (none off Linux, so fp32 there)."""
    return (_cpuinfo("flags") or _cpuinfo("Features")).split()


def cpu_bf16_speedup(width: int = 384, rows: int = 2048, rounds: int = 3) -> float:
    """How much faster one forward + backward of a two-matmul block (``rows`` tokens, hidden ``width``,
    4x expansion: a transformer MLP's shapes) runs under bf16 autocast than in fp32, best of ``rounds``
    each, on this process's threads."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(rows, width, generator=gen)
    w1 = torch.randn(width, 4 * width, generator=gen, requires_grad=True)
    w2 = torch.randn(4 * width, width, generator=gen, requires_grad=True)

    def once(bf16: bool) -> float:
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = torch.relu(x @ w1) @ w2
        out.float().sum().backward()
        return time.perf_counter() - start

    once(False), once(True)  # warm-up: kernel selection, allocation
    fp32 = min(once(False) for _ in range(rounds))
    bf16 = min(once(True) for _ in range(rounds))
    return fp32 / max(bf16, 1e-9)


def _cache_file(flags: list[str], threads: int) -> Path:
    from raysweep.data.tokenized import cache_dir

    cpu = _cpuinfo("model name") or platform.processor()
    key = json.dumps([cpu, platform.machine(), sorted(flags), torch.__version__, threads])
    return cache_dir() / "precision" / f"cpu-bf16-{hashlib.sha256(key.encode()).hexdigest()[:16]}.json"


@cache
def _cpu_bf16_pays(threads: int) -> bool:
    flags = cpu_flags()
    if not any(flag in flags for flag in BF16_CPU_FLAGS):
        return False
    path = _cache_file(flags, threads)
    try:
        return bool(json.loads(path.read_text())["bf16"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    from raysweep.atomic import write_text

    speedup = cpu_bf16_speedup()
    pays = speedup >= BF16_MIN_SPEEDUP
    try:
        write_text(path, json.dumps({"bf16": pays, "speedup": round(speedup, 3), "threads": threads}))
    except OSError:  # a read-only cache: measure again next time
        pass
    return pays


def cpu_has_bf16() -> bool:
    """Whether bf16 autocast is the faster choice on this CPU at this process's thread count (measured
    once per node and cached; see the module docstring)."""
    return _cpu_bf16_pays(torch.get_num_threads())


def resolve_precision(requested: str, device: torch.device) -> str:
    """``requested`` unless it is ``auto``: then bf16 on a CUDA device that supports it and on a CPU where
    it is measured faster (:func:`cpu_has_bf16`), fp32 elsewhere. Training steps and evaluation
    embeddings (``models.embed.embedding_precision``) both resolve through here."""
    if requested != "auto":
        return requested
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if device.type == "cpu" and cpu_has_bf16() else "fp32"


def resolve_attention(requested: str, precision: str, device: torch.device) -> str:
    if requested != "auto":
        return requested
    return "eager" if (precision == "bf16" and device.type == "cpu") else "sdpa"
