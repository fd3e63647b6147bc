"""``auto`` precision on CPU: bf16 only where the flags allow it and a measured matmul says it is faster,
measured once per node (cached on disk), never on a CPU without bf16 flags."""

from __future__ import annotations

import json

import pytest
import torch

from raysweep.models import precision


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch, tmp_path):
    monkeypatch.setenv("RAYSWEEP_CACHE_DIR", str(tmp_path))
    precision._cpu_bf16_pays.cache_clear()
    yield tmp_path
    precision._cpu_bf16_pays.cache_clear()


def _speedup(value: float, calls: list[int]):
    def measure(*_a, **_k) -> float:
        calls.append(1)
        return value

    return measure


def test_no_bf16_flags_means_fp32_without_measuring(fresh, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(precision, "cpu_flags", lambda: ["avx2", "fma"])
    monkeypatch.setattr(precision, "cpu_bf16_speedup", _speedup(5.0, calls))
    assert precision.resolve_precision("auto", torch.device("cpu")) == "fp32"
    assert calls == []


@pytest.mark.parametrize(("speedup", "expected"), [(2.5, "bf16"), (0.62, "fp32"), (1.1, "fp32")])
def test_flags_and_a_measured_speedup_decide(fresh, monkeypatch: pytest.MonkeyPatch, speedup, expected) -> None:
    calls: list[int] = []
    monkeypatch.setattr(precision, "cpu_flags", lambda: ["avx2", "avx512_bf16"])
    monkeypatch.setattr(precision, "cpu_bf16_speedup", _speedup(speedup, calls))
    assert precision.resolve_precision("auto", torch.device("cpu")) == expected
    assert precision.resolve_precision("auto", torch.device("cpu")) == expected
    assert calls == [1]  # once per process
    (saved,) = (fresh / "precision").glob("cpu-bf16-*.json")
    assert json.loads(saved.read_text()) == {
        "bf16": expected == "bf16",
        "speedup": speedup,
        "threads": torch.get_num_threads(),
    }
    # a new process on the same node reads the measurement instead of measuring again
    precision._cpu_bf16_pays.cache_clear()
    assert precision.resolve_precision("auto", torch.device("cpu")) == expected
    assert calls == [1]


def test_an_explicit_precision_is_kept(fresh, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(precision, "cpu_bf16_speedup", _speedup(0.1, []))
    monkeypatch.setattr(precision, "cpu_flags", lambda: ["amx_bf16"])
    assert precision.resolve_precision("bf16", torch.device("cpu")) == "bf16"
    assert precision.resolve_precision("fp32", torch.device("cpu")) == "fp32"


def test_the_measurement_runs_and_is_a_ratio() -> None:
    speedup = precision.cpu_bf16_speedup(width=64, rows=128, rounds=1)
    assert 0.01 < speedup < 100
