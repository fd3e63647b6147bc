"""Paired comparisons from the runs' per-example outputs: which pairs are tested, the Holm-adjusted
p-values, and the fast macro-F1 the bootstrap uses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import f1_score

from raysweep.methods.run_spec import RunSpec
from raysweep.metrics.paired import holm
from raysweep.results.comparisons import compare, macro_f1, p_vs_reference


def test_fast_macro_f1_equals_scikit_learn() -> None:
    rng = np.random.default_rng(0)
    for classes in (2, 3, 7):
        labels = rng.integers(0, classes - 1, 200)  # the last class never occurs
        pred = rng.integers(0, classes, 200)
        expected = f1_score(labels, pred, labels=list(range(classes)), average="macro", zero_division=0)
        assert abs(macro_f1(labels, pred, classes) - expected) < 1e-12


def write_run(
    models: Path,
    method: str,
    config_id: str,
    seed: int,
    p_at_1: np.ndarray,
    sst2: np.ndarray,
    finetuned: np.ndarray | None = None,
) -> dict:
    spec = RunSpec(method, config_id, {}, seed)
    folder = models / spec.folder
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed + 100 * len(method))
    labels = np.arange(300) % 6
    arrays = {
        "emotion/labels": labels,
        "emotion/clusters": np.where(rng.random(300) < 0.5, labels, rng.integers(0, 6, 300)),
        "emotion/p_at_1": p_at_1,
        "sst2/test_labels": np.arange(300) % 2,
        "sst2/probe/pred": sst2,
    }
    result = {"method": method, "p_at_1": float(p_at_1.mean()), "ami": 0.1, "sst2_probe_f1": 0.5}
    if finetuned is not None:  # only the seeds that evaluation.finetune_seeds fine-tunes
        arrays["sst2/finetune/pred"] = finetuned
        result["sst2_finetune_f1"] = 0.5
    np.savez(folder / "evaluation.npz", **arrays)
    return {"trial_id": spec.folder, "status": "TERMINATED", "config": {"spec": spec.to_dict()}, "result": result}


def test_every_method_against_plm_and_emo_against_the_trained_ones(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    hard = rng.random(300)  # example difficulty, shared by every method
    truth = np.arange(300) % 2

    def hits(rate: float) -> np.ndarray:
        return (rng.random(300) * 0.3 + hard * 0.7 < rate).astype(float)

    def probe(rate: float) -> np.ndarray:
        return np.where(rng.random(300) < rate, truth, 1 - truth)

    finals = [write_run(tmp_path, "emo", "c0", s, hits(0.8), probe(0.8)) for s in range(3)]
    finals += [write_run(tmp_path, "scl", "c0", s, hits(0.8), probe(0.8)) for s in range(3)]
    finals += [write_run(tmp_path, "tlearn", "base", s, hits(0.5), probe(0.8)) for s in range(2)]
    finals += [write_run(tmp_path, "plm", "base", 0, hits(0.3), probe(0.8))]
    table = compare(finals, tmp_path, lambda spec: "m", n_boot=100)
    pairs = set(zip(table["method"], table["versus"], strict=True))
    assert pairs == {("emo", "plm"), ("scl", "plm"), ("tlearn", "plm"), ("emo", "scl"), ("emo", "tlearn")}
    assert set(table["metric"]) == {"p_at_1", "ami", "sst2_probe_f1"}
    p = p_vs_reference(table)
    assert p[("emo", "c0", "p_at_1")] < 0.001 and p[("tlearn", "base", "p_at_1")] < 0.05
    assert p[("emo", "c0", "sst2_probe_f1")] > 0.05  # planted no difference
    emo_scl = table[(table["method"] == "emo") & (table["versus"] == "scl") & (table["metric"] == "p_at_1")]
    assert emo_scl["p_holm"].iloc[0] > 0.05
    assert (table["p_holm"] >= table["p"] - 1e-12).all()
    for metric, column in table.groupby("metric"):  # each figure is its own family of 5 comparisons
        assert len(column) == 5 and column["p_holm"].tolist() == pytest.approx(holm(column["p"].tolist())), metric


def test_mtl_is_shown_and_compared_on_its_own_task_only() -> None:
    from raysweep.results.comparisons import own_task

    assert own_task("mtl:irony", "irony_probe_f1") and own_task("mtl:irony", "ami")
    assert own_task("mtl:irony", "delta_emb") and not own_task("mtl:irony", "sst2_fewshot_k8_f1")
    assert own_task("mtl", "sst2_probe_f1") and own_task("emo", "sst2_probe_f1")  # no task named: shown


def test_each_pick_meets_the_one_lambda_zero_scl_and_a_figure_of_some_seeds_is_tested_on_those(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    truth = np.arange(300) % 2

    def probe(rate: float) -> np.ndarray:
        return np.where(rng.random(300) < rate, truth, 1 - truth)

    def hits(rate: float) -> np.ndarray:
        return (rng.random(300) < rate).astype(float)

    finals = []
    for method, config in (("emo", "c0"), ("emo", "c1"), ("scl", "l0")):  # SCL once (study.scl_from: lambda_zero)
        for seed in range(3):
            finetuned = probe(0.9 if method == "emo" else 0.6) if seed == 0 else None
            finals.append(write_run(tmp_path, method, config, seed, hits(0.6), probe(0.8), finetuned))
    finals.append(write_run(tmp_path, "plm", "base", 0, hits(0.3), probe(0.8), probe(0.6)))
    table = compare(finals, tmp_path, lambda spec: "m", n_boot=200)
    versus_scl = table[(table["method"] == "emo") & (table["versus"] == "scl")]
    assert set(versus_scl["config_id"]) == {"c0", "c1"} and (versus_scl["versus_config_id"] == "l0").all()
    assert set(versus_scl["metric"]) == {"p_at_1", "ami", "sst2_probe_f1", "sst2_finetune_f1"}
    finetune = table[table["metric"] == "sst2_finetune_f1"]
    assert len(finetune) == 2 + 2 + 1  # each Emo pick vs SCL and vs PLM, SCL vs PLM
    assert (finetune["n_seeds"] == 1).all() and (finetune["versus_n_seeds"] == 1).all()  # seed 0 only
    emo_rows = table[(table["method"] == "emo") & (table["metric"] == "p_at_1")]
    assert (emo_rows["n_seeds"] == 3).all() and emo_rows["versus_n_seeds"].tolist().count(3) == 2
    assert versus_scl[versus_scl["metric"] == "sst2_finetune_f1"]["p"].max() < 0.01  # planted 0.9 vs 0.6


def test_runs_scored_on_different_examples_are_refused_not_compared(tmp_path: Path) -> None:
    from raysweep.errors import RaysweepError

    rng = np.random.default_rng(3)
    finals = [write_run(tmp_path, "emo", "c0", s, rng.random(300), rng.integers(0, 2, 300)) for s in range(2)]
    finals.append(write_run(tmp_path, "plm", "base", 0, rng.random(300), rng.integers(0, 2, 300)))
    path = tmp_path / "plm-base-seed0" / "evaluation.npz"
    with np.load(path) as saved:
        arrays = dict(saved)
    arrays["sst2/test_labels"] = arrays["sst2/test_labels"][::-1].copy()  # another draw of SST-2's test rows
    np.savez(path, **arrays)
    with pytest.raises(RaysweepError, match="emo c0 vs plm base: the runs were scored on different sst2 examples"):
        compare(finals, tmp_path, lambda spec: "m", n_boot=20)


def test_runs_embedded_in_different_precisions_are_refused_not_compared(tmp_path: Path) -> None:
    """``evaluation.precision: auto`` on nodes that resolve it differently: PLM in fp32, Emo in bf16."""
    import json

    from raysweep.errors import RaysweepError

    rng = np.random.default_rng(4)
    finals = [write_run(tmp_path, "emo", "c0", s, rng.random(300), rng.integers(0, 2, 300)) for s in range(2)]
    finals.append(write_run(tmp_path, "plm", "base", 0, rng.random(300), rng.integers(0, 2, 300)))
    for folder, precision in (("emo-c0-seed0", "bf16"), ("emo-c0-seed1", "bf16"), ("plm-base-seed0", "bf16")):
        (tmp_path / folder / "evaluation.json").write_text(json.dumps({"precision": precision}))
    assert not compare(finals, tmp_path, lambda spec: "m", n_boot=20).empty  # one precision: compared
    (tmp_path / "plm-base-seed0" / "evaluation.json").write_text(json.dumps({"precision": "fp32"}))
    with pytest.raises(RaysweepError, match=r"emo c0 vs plm base: .* different precisions \(bf16, fp32\)"):
        compare(finals, tmp_path, lambda spec: "m", n_boot=20)
