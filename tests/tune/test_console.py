"""The study console: one line per trial event, a study line per finished trial, figures as reported."""

from __future__ import annotations

from types import SimpleNamespace

from raysweep.tune.console import ConsoleReporter


def test_lines_per_trial_and_the_study_line() -> None:
    lines: list[str] = []
    console = ConsoleReporter("search", "dev_ami", total=2, full_steps=120, out=lines.append)
    a = SimpleNamespace(trial_id="aaa", config={"loss.lam": 2.12, "model.head": "mlp"}, last_result={})
    b = SimpleNamespace(trial_id="bbb", config={"loss.lam": 0.1}, last_result={}, error_msg="boom\nValueError: x")
    console.on_trial_start(0, [], a)
    for step, ami in ((40, 0.1), (80, 0.114)):
        console.on_trial_result(
            0, [], a, {"step": step, "dev_ami": ami, "dev_delta_emb": 0.0156, "samples_per_s": 61.2}
        )
    console.on_trial_complete(0, [], a)
    console.on_trial_start(0, [], b)
    console.on_trial_error(0, [], b)
    assert lines[0] == "[search 1/2] trial aaa started: loss.lam=2.12 model.head=mlp"
    assert lines[2] == "[search 1/2] trial aaa step 80: dev_ami 0.114, dev_delta_emb 0.0156 (61 samples/s)"
    assert lines[3] == "[search 1/2] trial aaa stopped early at step 80: dev_ami 0.114, dev_delta_emb 0.0156"
    assert lines[4].startswith("[search] 1 of 2 trials done; best dev_ami 0.114 (dev_delta_emb 0.0156); about ")
    assert lines[6] == "[search 2/2] trial bbb failed (ValueError: x): "
    assert lines[7] == "[search] 2 of 2 trials done; best dev_ami 0.114 (dev_delta_emb 0.0156)"
    assert console.lines == len(lines) == 8


def test_setup_takes_tunes_total_and_restarts_the_clock() -> None:
    console = ConsoleReporter("final", "p_at_1", total=0, out=[].append)
    console.started = 0.0
    console.setup(total_num_samples=9)
    assert console.total == 9 and console.started > 0.0
    console.setup(total_num_samples=None)  # unknown: kept
    assert console.total == 9


def test_summary_lines_are_the_leaderboards_figures() -> None:
    import pandas as pd

    from raysweep.tune.console import summary_lines

    board = pd.DataFrame(
        [
            {"method": "emo", "config_id": "c0", "n_seeds": 3, "p_at_1_mean": 0.87543, "p_at_1_std": 0.01234}
            | {"ami_mean": 0.5401, "ami_std": 0.002, "map_at_r_mean": 0.4616, "map_at_r_std": 0.0}
            | {"delta_emb_mean": 0.04512, "delta_emb_std": 0.00371},
            {"method": "plm", "config_id": "base", "n_seeds": 1, "p_at_1_mean": 0.458, "p_at_1_std": 0.0}
            | {"ami_mean": float("nan"), "ami_std": 0.0, "delta_emb_mean": 2.98e-09, "delta_emb_std": 0.0},
        ]
    )
    assert summary_lines(board) == [
        "[summary] emo c0 (3 seed(s)): p_at_1 0.875 ± 0.012, ami 0.54 ± 0.002, map_at_r 0.462 ± 0, "
        "delta_emb 0.0451 ± 0.0037",
        "[summary] plm base (1 seed(s)): p_at_1 0.458 ± 0, delta_emb 2.98e-09 ± 0",
    ]


def test_a_resumed_phase_counts_the_trials_its_earlier_invocations_ended() -> None:
    """17 final runs of which 14 ended before ``--resume``: the first run of this invocation is 15/17,
    and the time left is this invocation's time per run times the runs left, not times 16."""
    lines: list[str] = []
    console = ConsoleReporter("final", "ami", total=17, out=lines.append)
    trials = [SimpleNamespace(trial_id=f"t{i}", status="TERMINATED", config={}, last_result={}) for i in range(14)]
    left = [SimpleNamespace(trial_id=f"t{i}", status="PENDING", config={}, last_result={}) for i in range(14, 17)]
    trials += left
    console.on_trial_start(0, trials, left[0])
    console.started -= 600.0  # this invocation's first run took 10 minutes
    left[0].status = "TERMINATED"
    console.on_trial_complete(0, trials, left[0])
    assert lines[0] == "[final 15/17] trial t14 started"
    assert lines[1].startswith("[final 15/17] trial t14 finished")
    assert lines[2] == "[final] 15 of 17 trials done; about 20 min left"
