"""``RunClock``: a run's cumulative time counters (steps, dev evaluations, start-up) and samples."""

from __future__ import annotations

import time

import pytest

from raysweep.train.run_clock import RunClock


def test_each_lap_goes_to_its_counter_and_start_up_is_counted_once() -> None:
    clock = RunClock(launched_at=time.time() - 2.0)
    clock.start_steps()
    time.sleep(0.05)
    clock.steps_done()
    time.sleep(0.02)
    clock.eval_done()
    clock.start_steps()  # a second call (a later epoch) adds no start-up
    figures = clock.figures(step=10, batch_size=64)
    assert figures["train_samples"] == 640.0
    assert figures["time_startup_s"] == pytest.approx(2.0, abs=0.5)
    assert 0.05 <= figures["time_steps_s"] < 0.5 and 0.02 <= figures["time_dev_eval_s"] < 0.5


def test_a_resumed_run_continues_its_checkpoints_counters() -> None:
    restored = {"time_steps_s": 30.0, "time_dev_eval_s": 4.0, "time_startup_s": 8.0, "dev_ami": 0.3}
    clock = RunClock(launched_at=None, restored=restored)
    clock.start_steps()
    clock.steps_done()
    figures = clock.figures(step=5, batch_size=8)
    assert figures["time_startup_s"] == 8.0 and figures["time_dev_eval_s"] == 4.0
    assert 30.0 <= figures["time_steps_s"] < 30.5


def test_the_warm_up_steps_are_kept_apart_once_unless_an_evaluation_fell_among_them() -> None:
    clock = RunClock(launched_at=None)
    clock.start_steps()
    time.sleep(0.05)
    clock.warmed_up(64)
    clock.warmed_up(64)  # once per run
    time.sleep(0.02)
    clock.steps_done()
    figures = clock.figures(step=4, batch_size=32)
    assert figures["warmup_samples"] == 64 and 0.05 <= figures["time_warmup_s"] < figures["time_steps_s"]
    interrupted = RunClock(launched_at=None)
    interrupted.start_steps()
    interrupted.steps_done()  # an evaluation after the first step: the warm-up is not apart from it
    interrupted.eval_done()
    interrupted.warmed_up(64)
    assert interrupted.figures(step=2, batch_size=32)["warmup_samples"] == 0.0


def test_the_steps_cpu_is_the_processs_and_misses_what_waiting_took() -> None:
    clock = RunClock(launched_at=None, threads=2)
    t0 = time.perf_counter()
    clock.start_steps()
    spin = time.process_time() + 0.1
    while time.process_time() < spin:  # a step that holds its core
        pass
    clock.warmed_up(32)
    time.sleep(0.1)  # a step that waits (the wall runs, the process's CPU does not)
    clock.steps_done()
    steps_wall = time.perf_counter() - t0
    time.sleep(0.05)
    clock.eval_done()  # an evaluation's CPU is not the steps'
    figures = clock.figures(step=4, batch_size=32)
    assert figures["cpu_threads"] == 2.0
    assert 0.1 <= figures["cpu_warmup_s"] < 0.15 and figures["cpu_warmup_s"] <= figures["time_warmup_s"] + 0.01
    assert figures["cpu_steps_s"] == pytest.approx(figures["cpu_warmup_s"], abs=0.03)
    # the steps' wall, the wait included (the spin's wall can be under 0.1 s: the process's CPU counts
    # every thread of it)
    assert figures["time_steps_s"] == pytest.approx(steps_wall, abs=0.01) and figures["time_steps_s"] >= 0.1
    resumed = RunClock(launched_at=None, restored=figures)
    resumed.start_steps()
    resumed.steps_done()
    assert resumed.figures(step=5, batch_size=32)["cpu_steps_s"] >= figures["cpu_steps_s"]
