"""The suite: every figure for a tiny model as Ray tasks, the CLI's JSON, and errors before any model."""

from __future__ import annotations

import json

import pytest
import task_fixtures

from raysweep.errors import RaysweepError
from raysweep.evaluation.__main__ import main
from raysweep.evaluation.suite import evaluate_model

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
    assert main([*args, "--data-dir", str(tiny_tasks_dir), "--out", str(target)]) == 0
    saved = json.loads(target.read_text())
    assert saved["limit"] == 30 and saved["emotion"]["n"] == 30 and "probe" in saved["downstream"]["sst2"]
    assert [p.name for p in target.parent.iterdir()] == ["out.json"]  # no temp files left


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
    out = evaluate_model(
        tiny_roberta,
        ["sst2", "irony"],
        ["finetune"],
        data_dir=tiny_tasks_dir,
        finetune_options=options,
        finetune_tasks=["sst2"],
        storage=tmp_path,
    )
    finetuned = out["downstream"]["sst2"]["finetune"]
    assert finetuned["steps"] == 2 and {"macro_f1", "pos_f1", "wall_s"} <= set(finetuned)
    assert "finetune" not in out["downstream"]["irony"]  # not in finetune_tasks
    assert "probe" not in out["downstream"]["sst2"]


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
