"""The suite: every figure for a tiny model as Ray tasks, the CLI's JSON, and errors before any model."""

from __future__ import annotations

import json

import numpy as np
import pytest
import task_fixtures

from raysweep import atomic
from raysweep.errors import RaysweepError
from raysweep.evaluation.__main__ import main
from raysweep.evaluation.suite import evaluate_model
from raysweep.metrics.classification import classification_scores
from raysweep.tune.driver import flatten_evaluation

tiny_tasks_dir = pytest.fixture(scope="session")(task_fixtures.tiny_tasks_dir)


def test_evaluate_model_all_figures(tiny_roberta, tiny_tasks_dir, ray_local, tmp_path):
    csv_task = tmp_path / "mine.csv"
    csv_task.write_text("text,label\n" + "".join(f"great wonderful w{i},pos\nangry hate w{i},neg\n" for i in range(20)))
    out = evaluate_model(
        tiny_roberta,
        ["emotion", "drift", "irony", f"csv:{csv_task}:text:label"],
        "probe,fewshot",
        data_dir=tiny_tasks_dir,
        drift_n=30,
    )
    assert out["reference_model"] == tiny_roberta and out["data_dir"] == str(tiny_tasks_dir)
    assert out["emotion"]["n"] == 72 and set(out["emotion"]) >= {"ami", "ari", "fms", "mrr", "p_at_1", "map_at_r"}
    assert out["drift"]["delta_emb"] == pytest.approx(0.0, abs=1e-6) and out["drift"]["knn_overlap"] == 1.0
    assert set(out["downstream"]) == {"irony", "mine"}
    irony = out["downstream"]["irony"]
    assert set(irony) >= {"probe", "fewshot", "n_train", "n_test"} and "pos_f1" in irony["probe"]
    assert set(irony["fewshot"]) >= {"k8", "k16", "k32", "k64"}
    assert {"torch", "ray", "transformers"} <= set(out["versions"])
    json.dumps(out)  # JSON-able


def test_cli_writes_json(tiny_roberta, tiny_tasks_dir, ray_local, tmp_path):
    target = tmp_path / "eval" / "out.json"
    args = ["--model", tiny_roberta, "--tasks", "emotion,sst2", "--protocols", "probe", "--limit", "30"]
    arrays = ["--draw-seed", "2", "--arrays", str(target.with_suffix(".npz"))]
    assert main([*args, *arrays, "--data-dir", str(tiny_tasks_dir), "--out", str(target)]) == 0
    saved = json.loads(target.read_text())
    assert saved["limit"] == 30 and saved["emotion"]["n"] == 30 and "probe" in saved["downstream"]["sst2"]
    assert saved["draw_seed"] == 2 and saved["seed"] == 0
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.json", "out.npz"]  # no temp files left
    with np.load(target.with_suffix(".npz"), allow_pickle=False) as npz:
        assert len(npz["emotion/labels"]) == 30 and len(npz["sst2/probe/pred"]) == len(npz["sst2/test_labels"])


SUBSAMPLED = {"tasks": ["emotion", "drift", "irony"], "protocols": "probe,fewshot", "limit": 15, "drift_n": 30}


def test_every_training_seed_and_model_sees_the_same_draws(tiny_roberta, tiny_bert, tiny_tasks_dir, ray_local):
    """The draws follow draw_seed (the study's seed) only: two training seeds of one model and another
    model (a study's PLM, which runs once) are scored on the same rows; another draw_seed draws others."""
    runs = [
        evaluate_model(tiny_roberta, data_dir=tiny_tasks_dir, draw_seed=5, seed=0, **SUBSAMPLED),
        evaluate_model(tiny_roberta, data_dir=tiny_tasks_dir, draw_seed=5, seed=1, **SUBSAMPLED),
        evaluate_model(tiny_bert, data_dir=tiny_tasks_dir, draw_seed=5, **SUBSAMPLED),
    ]
    keys = {"goemotions/test", "drift", "irony/train", "irony/test", "irony/fewshot"}
    assert set(runs[0]["draws"]) == keys and all(len(v) == 64 for v in runs[0]["draws"].values())
    assert runs[0]["draws"] == runs[1]["draws"] == runs[2]["draws"]
    assert [r["draw_seed"] for r in runs] == [5, 5, 5] and [r["seed"] for r in runs] == [0, 1, 0]
    other = evaluate_model(tiny_roberta, data_dir=tiny_tasks_dir, draw_seed=6, **SUBSAMPLED)
    assert all(other["draws"][k] != runs[0]["draws"][k] for k in keys)


def test_per_example_outputs_match_the_figures(tiny_roberta, tiny_tasks_dir, ray_local, tmp_path):
    from sklearn.metrics import adjusted_mutual_info_score

    arrays: dict[str, np.ndarray] = {}
    out = evaluate_model(
        tiny_roberta, ["emotion", "drift", "irony"], "probe,fewshot", data_dir=tiny_tasks_dir, per_example=arrays
    )
    shots = {f"irony/fewshot/k{k}/pred" for k in (8, 16, 32, 64)}
    emotion = {f"emotion/{k}" for k in ("labels", "clusters", "queries", "rr", "p_at_1", "ap_at_r")}
    assert set(arrays) == emotion | {"drift/distance", "drift/overlap", "irony/test_labels", "irony/probe/pred"} | shots
    saved = atomic.save_arrays(tmp_path / "evaluation.npz", arrays)
    with np.load(saved, allow_pickle=False) as npz:
        loaded = {k: npz[k] for k in npz.files}
    assert set(loaded) == set(arrays) and all(np.array_equal(loaded[k], arrays[k]) for k in arrays)

    n, n_test = out["emotion"]["n"], out["downstream"]["irony"]["n_test"]
    assert len(loaded["emotion/labels"]) == n == 72 and loaded["emotion/clusters"].shape == (5, n)
    assert all(len(loaded[f"emotion/{k}"]) == len(loaded["emotion/queries"]) for k in ("rr", "p_at_1", "ap_at_r"))
    assert len(loaded["drift/distance"]) == len(loaded["drift/overlap"]) == out["drift"]["n"]
    assert len(loaded["irony/test_labels"]) == len(loaded["irony/probe/pred"]) == n_test
    assert all(loaded[k].shape == (5, n_test) for k in shots)

    figures = out["emotion"]
    runs = [adjusted_mutual_info_score(loaded["emotion/labels"], run) for run in loaded["emotion/clusters"]]
    assert np.mean(runs) == pytest.approx(figures["ami"])
    assert loaded["emotion/rr"].mean() == pytest.approx(figures["mrr"])
    assert loaded["drift/distance"].mean() == pytest.approx(out["drift"]["delta_emb"], abs=1e-6)
    probe = classification_scores(loaded["irony/test_labels"], loaded["irony/probe/pred"], 2)
    assert probe["macro_f1"] == pytest.approx(out["downstream"]["irony"]["probe"]["macro_f1"])


def test_task_errors_come_before_any_model(tmp_path, tiny_tasks_dir, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\na,1\nb,1\nc,1\n")
    # "/no/such/model" would fail with a model error if any model were loaded before the task checks
    with pytest.raises(RaysweepError, match="one class only"):
        evaluate_model("/no/such/model", [f"csv:{bad}:text:label"], "probe", data_dir=tiny_tasks_dir)
    with pytest.raises(SystemExit) as exit_:
        main(["--model", "/no/such/model", "--tasks", f"csv:{bad}:text:missing", "--out", str(tmp_path / "o.json")])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "column 'missing' not found" in err and "\n" not in err
    with pytest.raises(RaysweepError, match="unknown protocol 'zeroshot'"):
        evaluate_model("/no/such/model", ["emotion"], "zeroshot", data_dir=tiny_tasks_dir)
    with pytest.raises(RaysweepError, match="fine-tuning task 'irony' is not among the downstream tasks"):
        evaluate_model("/no/such/model", ["sst2"], "finetune", data_dir=tiny_tasks_dir, finetune_tasks=["irony"])


def test_finetune_protocol_through_the_suite(tiny_roberta, tiny_tasks_dir, ray_local, tmp_path):
    options = {"max_steps": 2, "batch_size": 8, "head_lr": 1e-3}
    arrays: dict[str, np.ndarray] = {}
    out = evaluate_model(
        tiny_roberta,
        ["sst2", "irony"],
        ["finetune"],
        data_dir=tiny_tasks_dir,
        finetune_options=options,
        finetune_tasks=["sst2"],
        storage=tmp_path,
        per_example=arrays,
    )
    finetuned = out["downstream"]["sst2"]["finetune"]
    assert finetuned["steps"] == 2 and {"macro_f1", "pos_f1", "wall_s", "collapsed", "best_step"} <= set(finetuned)
    assert "finetune" not in out["downstream"]["irony"]  # not in finetune_tasks
    assert "probe" not in out["downstream"]["sst2"]
    assert {"sst2/finetune/train", "sst2/finetune/dev"} <= set(out["draws"]) and "texts" not in finetuned
    assert len(arrays["sst2/finetune/pred"]) == len(arrays["sst2/test_labels"]) == out["downstream"]["sst2"]["n_test"]
    flat = flatten_evaluation(out)
    assert flat["sst2_finetune_collapsed"] == float(finetuned["collapsed"]) and "irony_finetune_collapsed" not in flat


def test_cli_refuses_to_replace_a_file_it_did_not_write(tmp_path, capsys):
    notes = tmp_path / "notes.json"
    notes.write_text('{"my": "data"}')
    for target, message in ((notes, "raysweep did not write"), (tmp_path, "is a folder")):
        with pytest.raises(SystemExit) as exit_info:
            main(["--model", "/no/such/model", "--tasks", "emotion", "--out", str(target)])
        assert exit_info.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0]
    assert notes.read_text() == '{"my": "data"}'
