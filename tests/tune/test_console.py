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
