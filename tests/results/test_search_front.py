"""The search front's quality (hypervolume over full-fidelity trials) and matched picks."""

from __future__ import annotations

import pytest

from raysweep.results.pareto import full_fidelity, hypervolume, matched_pick, pick_per_model, reference_drift


def trial(tid: str, ami: float, drift: float, iters: int = 3) -> dict:
    result = {"dev_ami": ami, "dev_delta_emb": drift, "training_iteration": iters}
    return {"trial_id": tid, "status": "TERMINATED", "config": {}, "result": result, "error": None}


def test_hypervolume_of_a_front() -> None:
    trials = [trial("a", 0.3, 0.1), trial("b", 0.2, 0.05), trial("c", 0.25, 0.2)]  # c is dominated by a
    # reference (0.1, 0.3): b covers [0.05, 0.1) x 0.1, a covers [0.1, 0.3) x 0.2
    assert hypervolume(trials, "dev_ami", (0.1, 0.3)) == pytest.approx(0.05 * 0.1 + 0.2 * 0.2)
    assert hypervolume(trials, "dev_ami", (0.5, 0.3)) == 0.0  # nothing beats the reference
    assert hypervolume([], "dev_ami", (0.1, 0.3)) == 0.0


def test_matched_picks_use_full_fidelity_trials_only() -> None:
    trials = [trial("a", 0.3, 0.1), trial("b", 0.2, 0.05), trial("c", 0.28, 0.04, iters=2)]
    assert [t["trial_id"] for t in full_fidelity(trials, "dev_ami")] == ["a", "b"]
    assert matched_pick(trials, "dev_ami", {"drift_at_most": 0.06})["trial_id"] == "b"  # c stopped early
    assert matched_pick(trials, "dev_ami", {"metric_at_least": 0.25})["trial_id"] == "a"
    assert matched_pick(trials, "dev_ami", {"drift_at_most": 0.01}) is None
    picked = pick_per_model(trials, "dev_ami", 1, True, [{"drift_at_most": 0.06}, {"metric_at_least": 0.3}])
    assert [t["trial_id"] for t in picked] == ["a", "b"] or [t["trial_id"] for t in picked] == ["b", "a"]


def test_a_match_to_scl_reads_the_lambda_zero_points_own_figure() -> None:
    def at(tid: str, lam: float, ami: float, drift: float, iters: int = 3) -> dict:
        t = trial(tid, ami, drift, iters)
        t["config"] = {"loss.lam": lam}
        return t

    # SCL (λ = 0) at AMI 0.25, drift 0.09; e is as aware with less drift, f less aware with the least
    trials = [at("scl", 0.0, 0.25, 0.09), at("d", 0.5, 0.27, 0.08), at("e", 2.0, 0.25, 0.05), at("f", 9.0, 0.2, 0.01)]
    assert matched_pick(trials, "dev_ami", {"metric_at_least": "scl"})["trial_id"] == "e"
    assert matched_pick(trials, "dev_ami", {"drift_at_most": "scl"})["trial_id"] == "d"  # never SCL itself
    stopped = [at("scl", 0.0, 0.25, 0.09, iters=1), *trials[1:]]
    assert matched_pick(stopped, "dev_ami", {"metric_at_least": "scl"}) is None  # no full-fidelity λ = 0
    assert matched_pick(trials[:1], "dev_ami", {"metric_at_least": "scl"}) is None


def test_front_quality_in_study_json(tmp_path) -> None:
    import json

    from raysweep.results.writer import front_quality

    trials = [trial("a", 0.3, 0.1), trial("b", 0.2, 0.05), trial("c", 0.28, 0.04, iters=2)]
    assert front_quality(trials, "dev_ami", tmp_path / "missing.json") == {}
    (tmp_path / "plm_dev.json").write_text(json.dumps({"dev_ami": 0.1}))
    quality = front_quality(trials, "dev_ami", tmp_path / "plm_dev.json")
    assert quality["reference"] == {"dev_ami": 0.1, "dev_delta_emb": 0.1}  # c stopped early: not counted
    assert quality["hypervolume"] == pytest.approx(0.05 * 0.1)  # only b beats the reference's drift
    assert quality["least_drift"]["dev_delta_emb"] == 0.05 and quality["full_fidelity_trials"] == 2


def pinned(tid: str, ami: float, drift: float, step: int, iters: int = 3, length: int = 120) -> dict:
    """A trial of a study that pins its full fidelity (``train.max_steps``) in every config."""
    record = trial(tid, ami, drift, iters)
    record["config"] = {"loss.lam": 1.0, "train.max_steps": length}
    record["result"]["step"] = step
    return record


def test_full_fidelity_is_the_pinned_length_in_steps() -> None:
    trials = [
        pinned("a", 0.3, 0.1, 120),
        pinned("b", 0.2, 0.05, 120, iters=1),  # restored mid-run: Tune's iteration count started again
        pinned("c", 0.28, 0.04, 80, iters=4),  # stopped at 80 of 120 steps, though it reported most often
    ]
    assert [t["trial_id"] for t in full_fidelity(trials, "dev_ami")] == ["a", "b"]
    stopped = [pinned("c", 0.28, 0.04, 80), pinned("d", 0.25, 0.06, 80)]
    assert full_fidelity(stopped, "dev_ami") == []  # none trained fully: the longest does not count
    # a pick still comes back when no trial trained fully (the study would otherwise have no final runs)
    assert [t["trial_id"] for t in pick_per_model(stopped, "dev_ami", 1, False)] == ["c"]


def test_front_quality_counts_only_trials_at_full_fidelity(tmp_path) -> None:
    import json

    from raysweep.results.writer import front_quality

    (tmp_path / "plm_dev.json").write_text(json.dumps({"dev_ami": 0.1}))
    trials = [pinned("a", 0.3, 0.1, 120), pinned("b", 0.2, 0.05, 120, iters=1), pinned("c", 0.28, 0.04, 80)]
    quality = front_quality(trials, "dev_ami", tmp_path / "plm_dev.json")
    assert quality["full_fidelity_trials"] == 2 and quality["front_trial_ids"] == ["b", "a"]
    assert quality["hypervolume"] == pytest.approx(0.05 * 0.1)  # reference drift 0.1 (a's): b's box only


def test_the_reference_drift_is_the_lambda_zero_points() -> None:
    zero = pinned("z", 0.31, 0.09, 120)
    zero["config"]["loss.lam"] = 0.0
    others = [pinned("a", 0.3, 0.12, 120), pinned("b", 0.2, 0.05, 120)]
    assert reference_drift([*others, zero]) == 0.09  # SCL's drift, though a drifted more
    assert reference_drift(others) == 0.12  # no λ = 0 point: the largest drift
    assert reference_drift([]) is None
