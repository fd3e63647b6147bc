"""The search front's quality (hypervolume over full-fidelity trials) and matched picks."""

from __future__ import annotations

import pytest

from raysweep.results.pareto import full_fidelity, hypervolume, matched_pick, pick_per_model


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
