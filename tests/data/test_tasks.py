"""Downstream tasks: the built-in loaders, the CSV/TSV task, the Δemb text sample, and one-line errors."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import task_fixtures

from raysweep.data.tasks import CsvTaskSpec, drift_texts, load_task, load_tasks, texts_fingerprint
from raysweep.errors import RaysweepError

tiny_tasks_dir = pytest.fixture(scope="session")(task_fixtures.tiny_tasks_dir)


def test_builtin_tasks_from_folder(tiny_tasks_dir):
    tasks = load_tasks(["sst2", "isarcasm", "irony"], tiny_tasks_dir)
    assert set(tasks) == {"sst2", "isarcasm", "irony"}
    sst2, sarcasm, irony = tasks["sst2"], tasks["isarcasm"], tasks["irony"]
    assert (len(sst2.train), len(sst2.test), sst2.dev) == (40, 20, None)  # dev is the test split
    assert sst2.label_names == ["negative", "positive"] and sst2.positive_label == 1
    assert sarcasm.dropped == 1 and len(sarcasm.train) == 40  # the empty tweet is dropped, counted
    assert any("\n" in t for t in sarcasm.train.texts)  # a quoted multi-line field stays one row
    assert irony.label_names == ["non_irony", "irony"] and len(irony.dev) == 20
    for task in tasks.values():
        assert np.bincount(task.train.labels).tolist() == [20, 20]


def test_real_task_counts(shared_data_dir):
    sst2, sarcasm, irony = (load_task(n, shared_data_dir) for n in ("sst2", "isarcasm", "irony"))
    assert (len(sst2.train), len(sst2.test)) == (67349, 872)
    assert np.bincount(sst2.test.labels).tolist() == [428, 444]
    assert (len(sarcasm.train), sarcasm.dropped, len(sarcasm.test)) == (3467, 1, 1400)
    assert np.bincount(sarcasm.train.labels).tolist() == [2600, 867]
    assert np.bincount(sarcasm.test.labels).tolist() == [1200, 200]
    assert (len(irony.train), len(irony.dev), len(irony.test)) == (2862, 955, 784)


def write_csv(path, rows, delimiter=","):
    with path.open("w", newline="") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)
    return path


def test_csv_task_with_split_column(tmp_path):
    rows = [["body", "stars", "part"]]
    rows += [[f"text {i}", ["bad", "good", "ok"][i % 3], ["train", "val", "test"][i % 5 % 3]] for i in range(60)]
    path = write_csv(tmp_path / "reviews.tsv", rows, "\t")
    task = load_task(f"csv:{path}:body:stars:part")
    assert task.name == "reviews" and task.label_names == ["bad", "good", "ok"]
    assert len(task.train) + len(task.dev) + len(task.test) == 60
    assert task.positive_label is None


def test_csv_task_without_split_holds_out_a_stratified_test(tmp_path):
    rows = [["text", "label"]] + [[f"t{i}", i % 2] for i in range(100)]
    task = load_task(f"csv:{write_csv(tmp_path / 'x.csv', rows)}:text:label")
    assert (len(task.train), len(task.test)) == (80, 20)
    assert np.bincount(task.test.labels).tolist() == [10, 10]
    assert task.label_names == ["0", "1"]


@pytest.mark.parametrize(
    ("rows", "spec_tail", "message"),
    [
        ([["text", "label"], ["a", "0"], ["b", "1"]], "text:stars", "column 'stars' not found"),
        ([["text", "label"]] + [[f"t{i}", "1"] for i in range(10)], "text:label", "one class only"),
        ([["t", "y", "s"]] + [[f"t{i}", i % 2, "train"] for i in range(10)], "t:y:s", "test split is empty"),
        ([["t", "y", "s"], ["a", "0", "train"], ["b", "1", "holdout"]], "t:y:s", "split value 'holdout'"),
        ([["text", "label"], ["", "0"], [" ", "1"]], "text:label", "no rows with text"),
    ],
)
def test_task_file_errors_are_one_line(tmp_path, rows, spec_tail, message):
    path = write_csv(tmp_path / "bad.csv", rows)
    with pytest.raises(RaysweepError, match=message) as err:
        load_task(f"csv:{path}:{spec_tail}")
    assert "\n" not in str(err.value)


def test_unreadable_and_malformed_specs(tmp_path):
    binary = tmp_path / "blob.csv"
    binary.write_bytes(b"text,label\n\xff\xfe\x00bad,1\n")
    with pytest.raises(RaysweepError, match="unreadable"):
        load_task(f"csv:{binary}:text:label")
    with pytest.raises(RaysweepError, match="does not exist"):
        load_task(f"csv:{tmp_path / 'nope.csv'}:text:label")
    with pytest.raises(RaysweepError, match="csv:PATH:TEXT_COL:LABEL_COL"):
        CsvTaskSpec.parse("csv:only_a_path.csv")
    with pytest.raises(RaysweepError, match="unknown task 'imdb'"):
        load_task("imdb")


def test_builtin_task_errors(tiny_tasks_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("RAYSWEEP_DATA_DIR", raising=False)
    with pytest.raises(RaysweepError, match="no hub copy"):
        load_task("isarcasm", None)
    with pytest.raises(RaysweepError, match="must hold sst2/"):
        load_task("sst2", tmp_path)
    irony = tmp_path / "tweeteval_irony"
    irony.mkdir()
    for split in ("train", "val", "test"):
        (irony / f"{split}_text.txt").write_text("a\nb\n")
        (irony / f"{split}_labels.txt").write_text("0\n")
    with pytest.raises(RaysweepError, match="line for line"):
        load_task("irony", tmp_path)


def test_drift_texts_fixed_seeded_and_not_goemotions(tiny_tasks_dir):
    a, b = drift_texts(tiny_tasks_dir, n=30, seed=0), drift_texts(tiny_tasks_dir, n=30, seed=0)
    assert a == b and len(a) == 30 and len(set(a)) == 30
    assert drift_texts(tiny_tasks_dir, n=30, seed=1) != a
    goemotions = (tiny_tasks_dir / "goemotions" / "test.tsv").read_text()
    assert not any(t in goemotions.split("\t") for t in a)
    tests = {t for n in ("sst2", "isarcasm", "irony") for t in load_task(n, tiny_tasks_dir).test.texts}
    assert set(a) <= tests


def _test_texts(data_dir) -> set[str]:
    return {t for n in ("sst2", "isarcasm", "irony") for t in load_task(n, data_dir).test.texts}


def test_search_drift_texts_come_from_training_rows_only(tiny_tasks_dir):
    search = drift_texts(tiny_tasks_dir, n=30, seed=1, split="train")
    assert search == drift_texts(tiny_tasks_dir, n=30, seed=1, split="train") and len(set(search)) == 30
    trains = {t for n in ("sst2", "isarcasm", "irony") for t in load_task(n, tiny_tasks_dir).train.texts}
    assert set(search) <= trains and not set(search) & _test_texts(tiny_tasks_dir)
    for seed in (0, 1, 2):  # disjoint from the final Δemb texts whatever the study's seed
        assert not set(search) & set(drift_texts(tiny_tasks_dir, n=30, seed=seed))
    with pytest.raises(RaysweepError, match="unknown split 'dev'"):
        drift_texts(tiny_tasks_dir, n=30, split="dev")


def test_search_drift_texts_leave_out_a_training_text_that_is_also_a_test_text(tmp_path):
    shared = "angry hate w1 w2"
    rows = [("great wonderful w3", "pos", "train"), ("angry rage w4", "neg", "train"), (shared, "neg", "train")]
    rows += [(shared, "neg", "test"), ("great amazing w5", "pos", "test")]
    path = tmp_path / "mine.csv"
    path.write_text("text,label,split\n" + "".join(f"{t},{y},{s}\n" for t, y, s in rows))
    search = drift_texts(None, n=10, seed=0, tasks=(f"csv:{path}:text:label:split",), split="train")
    assert sorted(search) == ["angry rage w4", "great wonderful w3"]


def test_real_search_drift_texts_are_disjoint_from_every_test_split(shared_data_dir):
    """The study's search sample (500 texts, seed 1) against the final Δemb texts of studies seeded
    0..2 (1,000 each) and every test text of the built-in tasks."""
    search = set(drift_texts(shared_data_dir, n=500, seed=1, split="train"))
    assert len(search) == 500
    assert not search & _test_texts(shared_data_dir)
    for seed in (0, 1, 2):
        assert not search & set(drift_texts(shared_data_dir, n=1000, seed=seed))


def test_texts_fingerprint_is_the_texts_in_order():
    assert texts_fingerprint(["a", "b"]) == texts_fingerprint(["a", "b"])
    assert texts_fingerprint(["a", "b"]) != texts_fingerprint(["b", "a"])
    assert texts_fingerprint(["ab"]) != texts_fingerprint(["a", "b"])  # texts are delimited
