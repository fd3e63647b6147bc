"""Goodput of a study: samples / (plain rate x wall x nodes), and core-seconds by part adding up to
wall x cores."""

from __future__ import annotations

import pytest

from raysweep.tune.goodput import TrainTiming, describe, goodput_of_trials, phase_goodput, study_goodput


def test_the_issues_smoke_example() -> None:
    """About 20,000 samples in 930 s against a 163 samples/s plain loop: about 13 %."""
    runs = [TrainTiming(samples=20_000 / 12, cores=2, steps=30.0) for _ in range(12)]
    phase = phase_goodput(runs, wall_s=930.0, plain_rate=163.0, cores=2)
    assert phase.goodput == pytest.approx(20_000 / (163 * 930))
    assert 0.13 < phase.goodput < 0.135


def test_parts_add_up_to_wall_times_cores_and_the_rest_is_idle() -> None:
    runs = [
        TrainTiming(samples=640, cores=2, steps=4.0, dev_eval=1.0, startup=3.0, teardown=0.5),
        TrainTiming(samples=0, cores=1, embedding=6.0, metrics=2.0),
    ]
    phase = phase_goodput(runs, wall_s=20.0, plain_rate=100.0, cores=2)
    parts = phase.core_seconds
    assert parts["steps"] == 8.0 and parts["dev_eval"] == 2.0 and parts["startup"] == 6.0
    assert parts["embedding"] == 6.0 and parts["metrics"] == 2.0
    assert sum(parts.values()) == pytest.approx(40.0) and parts["idle"] == pytest.approx(15.0)
    assert phase.goodput == pytest.approx(640 / (100 * 20))


def test_a_plain_loop_study_on_two_nodes_scores_one() -> None:
    runs = [TrainTiming(samples=100.0 * 50, cores=4, steps=50.0) for _ in range(2)]
    assert phase_goodput(runs, wall_s=50.0, plain_rate=100.0, cores=8, nodes=2).goodput == pytest.approx(1.0)


def test_from_result_reads_the_workers_counters_and_the_evaluations_timing() -> None:
    result = {
        "train_samples": 480,
        "time_steps_s": 5.0,
        "time_dev_eval_s": 1.5,
        "time_startup_s": 7.0,
        "time_teardown_s": 0.3,
        "eval_embedding_s": 4.0,
        "eval_metrics_s": 2.0,
        "eval_finetune_train_samples": 320,
        "eval_finetune_time_steps_s": 3.0,
        "eval_finetune_time_dev_eval_s": 0.5,
        "eval_finetune_time_startup_s": 6.0,
        "eval_finetune_wall_s": 10.0,  # 0.5 s after its last step: its test predictions
        "dev_ami": 0.2,
    }
    t = TrainTiming.from_result(result, cores=2)
    assert (t.samples, t.steps, t.dev_eval, t.startup, t.embedding) == (800.0, 8.0, 2.0, 13.0, 4.0)
    assert t.teardown == pytest.approx(0.8)
    assert TrainTiming.from_result({}, cores=1).samples == 0.0
    # a final run exported from a search trial: its budget stays, its samples were the search's
    reused = TrainTiming.from_result({"train_samples": 480, "reused_run": "search-a", "time_teardown_s": 2.0}, cores=2)
    assert (reused.samples, reused.steps, reused.teardown) == (0.0, 0.0, 2.0)
    assert TrainTiming.from_result({"time_steps_s": float("nan")}, cores=1).steps == 0.0


def test_study_goodput_gives_every_phase_and_the_whole() -> None:
    search = [TrainTiming(samples=1000, cores=2, steps=10.0)]
    finals = [TrainTiming(samples=500, cores=2, steps=5.0, embedding=10.0)]
    out = study_goodput({"search": (search, 30.0), "finals": (finals, 70.0)}, plain_rate=50.0, cores=2)
    assert out["all"]["samples"] == 1500 and out["all"]["wall_s"] == 100.0
    assert out["all"]["goodput"] == pytest.approx(1500 / (50 * 100))
    assert out["search"]["goodput"] == pytest.approx(1000 / (50 * 30), rel=1e-5)  # 6 significant digits
    text = describe(out)
    assert "search: 66.7%" in text and "all: 30.0%" in text


def test_goodput_of_trials_reads_the_records_and_splits_the_start_up() -> None:
    from raysweep.tune.goodput import goodput_of_trials

    def trial(samples: float, steps: float, startup: float, loop: float, imports: float) -> dict:
        result = {"train_samples": samples, "time_steps_s": steps, "time_startup_s": startup}
        return {"result": {**result, "time_startup_loop_s": loop, "time_startup_imports_s": imports}}

    search = [trial(1000, 10.0, 8.0, 2.0, 1.5), trial(500, 10.0, 6.0, 1.0, 0.9), trial(900, 10.0, 7.0, 1.5, 1.2)]
    out = goodput_of_trials({"prepare": ([], 5.0), "search": (search, 60.0)}, {"samples_per_s": 100.0}, 2, 2)
    assert out["search"]["samples"] == 2400 and out["prepare"]["goodput"] == 0.0
    assert out["run_vs_plain"]["search"] == {"runs": 3, "median": 0.9, "min": 0.5, "max": 1.0}
    # the loop's start-up (2.0, 1.0, 1.5 s) less its model imports (1.5, 0.9, 1.2 s): raysweep's own
    split = {"runs": 3, "total": 7.0, "raysweep": 0.3, "model_imports": 1.2, "ray": 5.5}
    assert out["startup"]["search"] == pytest.approx(split)
    assert "median 0.90x (0.50-1.00, 3 runs)" in describe(out) and "Ray Train 5.5 s" in describe(out)
    assert "the training code's imports 1.2 s, raysweep's own 0.3 s" in describe(out)


def test_runs_of_part_of_a_node_are_measured_against_the_loop_of_their_own_threads() -> None:
    from raysweep.tune.goodput import goodput_of_trials

    search = [{"result": {"train_samples": 1000.0, "time_steps_s": 20.0}}]  # 50 samples/s, one thread
    plain = {"samples_per_s": 100.0, "threads": 2, "per_run": {"samples_per_s": 55.0, "threads": 1}}
    out = goodput_of_trials({"search": (search, 30.0)}, plain, 0.99, 2)
    assert out["run_vs_plain"]["search"]["median"] == pytest.approx(50 / 55, abs=1e-4)
    assert out["run_vs_node_plain"]["search"]["median"] == pytest.approx(0.5)
    assert out["search"]["goodput"] == pytest.approx(1000 / (100 * 30), rel=1e-5)  # the node's loop, always
    text = describe(out)
    assert "runs vs the plain loop on 1 thread(s), as each run: median 0.91x" in text
    assert "vs the whole node's loop 0.50x" in text
    whole = goodput_of_trials({"search": (search, 30.0)}, {"samples_per_s": 100.0, "threads": 2}, 2, 2)
    assert "run_vs_node_plain" not in whole and whole["run_vs_plain"]["search"]["median"] == pytest.approx(0.5)


def test_a_runs_speed_is_read_after_its_warm_up_as_the_plain_loops() -> None:
    from raysweep.tune.goodput import steady_rate

    warm = {"train_samples": 1280.0, "time_steps_s": 30.0, "time_warmup_s": 3.0, "warmup_samples": 64.0}
    assert steady_rate(warm) == pytest.approx((1280 - 64) / 27.0)
    assert steady_rate({"train_samples": 1280.0, "time_steps_s": 30.0}) == pytest.approx(1280 / 30)  # none kept
    out = goodput_of_trials({"search": ([{"result": warm}], 40.0)}, {"samples_per_s": 45.0}, 2, 2)
    assert out["run_vs_plain"]["search"]["median"] == pytest.approx(1216 / 27 / 45, abs=1e-4)
    assert out["search"]["samples"] == 1280  # goodput counts every step's samples, warm-up included


def test_a_runs_ratio_splits_into_the_cores_it_held_and_its_speed_per_core_second() -> None:
    from raysweep.tune.goodput import steps_held

    # steady: 1216 samples in 27 s on 1 thread, its process on a CPU 21.6 of those 27 s (0.8 held)
    shared = {
        "train_samples": 1280.0,
        "time_steps_s": 30.0,
        "time_warmup_s": 3.0,
        "warmup_samples": 64.0,
        "cpu_steps_s": 24.0,
        "cpu_warmup_s": 2.4,
        "cpu_threads": 1.0,
    }
    assert steps_held(shared) == pytest.approx(21.6 / 27)
    assert steps_held({"train_samples": 64.0, "time_steps_s": 2.0}) is None  # a record without the counter
    loop = {"samples_per_s": 45.0, "threads": 1, "cores": 0.98, "device": "cpu"}
    plain = {"samples_per_s": 80.0, "threads": 2, "cores": 1.96, "device": "cpu", "per_run": loop}
    out = goodput_of_trials({"search": ([{"result": shared}], 40.0)}, plain, 1, 2)
    ratio = out["run_vs_plain"]["search"]
    rate = 1216 / 27
    assert ratio["median"] == pytest.approx(rate / 45, abs=1e-4)
    assert ratio["held"] == pytest.approx(0.8) and ratio["loop_held"] == pytest.approx(0.98)
    # per core-second held: the run's rate over 0.8 of a core against the loop's over 0.98 of one
    assert ratio["per_core"] == pytest.approx((rate / 0.8) / (45 / 0.98), abs=1e-4)
    assert "held" not in out["run_vs_node_plain"]["search"]  # split against the loop of the run's threads only
    text = describe(out)
    assert "their steps held their cores 80% of the time (the loop's 98%" in text
    assert f"{ratio['per_core']:.2f}x the loop per core-second held" in text
    on_gpu = goodput_of_trials({"search": ([{"result": shared}], 40.0)}, {**loop, "device": "cuda"}, 1, 2)
    assert "per_core" not in on_gpu["run_vs_plain"]["search"]  # a GPU run's CPU says nothing of its step
