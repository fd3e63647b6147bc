"""The committed reference study (results/reference/, the second edition: issue 17): documented columns,
every method with both PLM poolings, each task's MTL and every pick with its seeds, tested comparisons,
the goodput record, tables that rebuild from the committed records, the README's figures and tests
read from those tables, and small files without absolute paths only."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from raysweep.results.tables import comparison_markdown

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "results" / "reference"
METHODS = {"emo", "scl", "tlearn", "mtl:sst2", "mtl:isarcasm", "plm", "plm:cls"}
TASKS = ("sst2", "isarcasm", "irony")
SHOTS = (8, 16, 32, 64)
STEPS, BATCH = 500, 64  # issue 17: at least 500 steps of batch 64 for every Emo and SCL final model


def documented_columns() -> list[re.Pattern]:
    """The leaderboard column dictionary of results/README.md as patterns (TASK, K are placeholders)."""
    text = (ROOT / "results" / "README.md").read_text(encoding="utf-8")
    table = text.split("## Leaderboard columns", 1)[1]
    names = []
    for line in table.splitlines():
        if line.startswith("| `"):
            names += re.findall(r"`([^`]+)`", line.split("|")[1])
    patterns = []
    for name in names:
        regex = re.escape(name).replace("TASK", "[a-z0-9_]+").replace("K", r"\d+").replace(r"\*", ".+")
        patterns.append(re.compile(regex + "$"))
    return patterns


@pytest.fixture(scope="module")
def board() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "leaderboard.csv")


def test_every_column_is_documented(board: pd.DataFrame) -> None:
    patterns = documented_columns()
    undocumented = [
        c for c in board.columns if not any(p.match(re.sub(r"_(mean|std)$", "", c)) or p.match(c) for p in patterns)
    ]
    assert not undocumented


def test_comparison_follows_from_the_leaderboard(board: pd.DataFrame) -> None:
    study = json.loads((REFERENCE / "study.json").read_text())
    expected = comparison_markdown(board, f"raysweep study {study['study']}")
    assert (REFERENCE / "comparison.md").read_text(encoding="utf-8") == expected


def test_record_of_how_it_was_made() -> None:
    study = json.loads((REFERENCE / "study.json").read_text())
    assert {"prepare_s", "search_s", "finals_s"} <= set(study["timings"])
    assert (REFERENCE / "command.txt").read_text().startswith("python -m raysweep.run --space cpu")
    versions = json.loads((REFERENCE / "versions.json").read_text())
    assert {"torch", "ray", "transformers", "pytorch-metric-learning", "optuna"} <= set(versions)
    assert (REFERENCE / "space.yaml").is_file() and (REFERENCE / "trials.csv").is_file()


def test_small_files_only() -> None:
    # what git holds (the study's own models/ and optuna.db stay local, ignored)
    listed = subprocess.run(["git", "ls-files", "results/reference"], cwd=ROOT, capture_output=True, text=True)
    files = [ROOT / line for line in listed.stdout.splitlines()] if listed.returncode == 0 else []
    files = files or [p for p in REFERENCE.rglob("*") if p.is_file() and "models" not in p.parts]
    assert files and all(p.stat().st_size < 1_000_000 for p in files)
    assert not [p for p in files if p.suffix in (".safetensors", ".bin", ".pt", ".db")]


def committed_files(*folders: str) -> list[Path]:
    listed = subprocess.run(["git", "ls-files", *folders], cwd=ROOT, capture_output=True, text=True, check=True)
    return [ROOT / line for line in listed.stdout.splitlines()]


def test_no_committed_result_names_an_absolute_path() -> None:
    # a study run from the project folder writes its paths relative to it (raysweep.storage.portable)
    absolute = re.compile(r"(?<![\w.~/-])/(work|home|root|tmp|Users|mnt|data|scratch)/")
    files = [
        p for p in committed_files("results", "bench/results") if p.suffix in {".csv", ".md", ".json", ".yaml", ".txt"}
    ]
    assert files
    named = [str(p.relative_to(ROOT)) for p in files if absolute.search(p.read_text(encoding="utf-8"))]
    assert not named


def committed_studies() -> list[Path]:
    """Every committed study folder that holds its slim records export (``records/final.json``)."""
    return sorted({p.parents[1] for p in committed_files("results", "bench/results") if p.name == "final.json"})


def test_there_is_a_committed_study_with_its_records() -> None:
    assert committed_studies()


@pytest.mark.parametrize("study", committed_studies(), ids=lambda p: str(p.relative_to(ROOT)))
def test_committed_tables_rebuild_byte_for_byte_from_the_records(study: Path, tmp_path: Path) -> None:
    from raysweep.results.__main__ import main

    assert main(["--records", str(study / "records"), "--results-dir", str(tmp_path)]) == 0
    rebuilt = tmp_path / json.loads((study / "study.json").read_text())["study"]
    for table in ("leaderboard.csv", "trials.csv", "comparison.md", "comparisons.csv"):
        if (study / table).is_file():
            assert (rebuilt / table).read_bytes() == (study / table).read_bytes(), table
    assert (rebuilt / "leaderboard.csv").is_file() and (rebuilt / "comparisons.csv").is_file()


def group(board: pd.DataFrame, method: str) -> pd.DataFrame:
    return board[board["method"] == method]


def test_every_method_both_poolings_each_tasks_mtl_and_every_pick_with_its_seeds(board: pd.DataFrame) -> None:
    assert set(board["method"]) == METHODS
    emo = group(board, "emo")
    assert len(emo) >= 2 and (emo["n_seeds"] == 3).all(), emo[["config_id", "n_seeds"]]  # the knee and a matched pick
    study = json.loads((REFERENCE / "study.json").read_text())
    assert len(study["picked_trials"]) == len(emo)
    assert (group(board, "scl")["n_seeds"] == 3).all()
    for method in ("tlearn", "mtl:sst2", "mtl:isarcasm"):
        assert (group(board, method)["n_seeds"] >= 2).all(), method
    assert len(group(board, "plm")) == len(group(board, "plm:cls")) == 1
    assert (board.loc[board["method"].isin(["plm", "plm:cls"]), "n_seeds"] == 1).all()
    retrofitted = board[board["method"].isin(["emo", "scl"])]
    assert (retrofitted["train_samples_mean"] >= STEPS * BATCH).all()


def test_every_figure_the_issue_asks_for_is_there(board: pd.DataFrame) -> None:
    columns = ["ami", "p_at_1", "map_at_r", "delta_emb", "knn_overlap"]
    columns += [f"{task}_probe_f1" for task in TASKS]
    columns += [f"{task}_fewshot_k{k}_f1" for task in TASKS for k in SHOTS]
    for column in columns:
        assert board[f"{column}_mean"].notna().all(), column
    for task in ("sst2", "isarcasm"):  # fine-tuned on SST-2 and iSarcasmEval (seed 0 only: finetune_seeds 1)
        assert board[f"{task}_finetune_f1_mean"].notna().all(), task
    for name in ("plm", "plm:cls"):
        assert group(board, name)["delta_emb_mean"].iloc[0] == pytest.approx(0.0, abs=1e-6)


@pytest.fixture(scope="module")
def comparisons() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "comparisons.csv")


def test_each_emo_pick_is_tested_against_every_other_method(board: pd.DataFrame, comparisons: pd.DataFrame) -> None:
    emo = comparisons[comparisons["method"] == "emo"]
    for config in group(board, "emo")["config_id"]:
        versus = set(emo.loc[emo["config_id"] == config, "versus"])
        assert versus == METHODS - {"emo"}, config
    tested = emo[emo["metric"].isin(["ami", "p_at_1", "map_at_r", "delta_emb", "sst2_probe_f1"])]
    assert tested[["delta", "ci_low", "ci_high", "p", "p_holm"]].notna().all().all()
    assert ((tested["ci_low"] <= tested["delta"]) & (tested["delta"] <= tested["ci_high"])).all()
    assert (tested["p_holm"] >= tested["p"] - 1e-12).all()  # Holm only ever raises a p-value


def test_the_test_markers_are_in_the_comparison_table() -> None:
    text = (REFERENCE / "comparison.md").read_text(encoding="utf-8")
    assert "Holm" in text and "paired bootstrap" in text
    deltas = [line for line in text.splitlines() if line.startswith("| Δ vs PLM")]
    assert deltas and all("*" in line for line in deltas[:-1])  # each retrofitted row has tested deltas


def test_the_study_records_its_goodput_and_wall_time() -> None:
    study = json.loads((REFERENCE / "study.json").read_text())
    timings = study["timings"]
    assert timings["invocations"] >= 2  # the study ran in parts (--resume)
    assert timings["total_s"] == pytest.approx(timings["prepare_s"] + timings["search_s"] + timings["finals_s"])
    goodput = study["goodput"]
    assert goodput["walls_complete"]
    assert {"search", "finals"} <= set(goodput["run_vs_plain"])
    for phase in ("prepare", "search", "finals", "all"):  # the core-seconds' parts add up to the whole
        record = goodput[phase]
        whole = record["wall_s"] * goodput["cores"]
        assert sum(record["core_seconds"].values()) == pytest.approx(whole, rel=1e-3), phase
        # above 1 where two one-thread runs side by side train more than one two-thread plain loop
        assert 0.0 <= record["goodput"] <= 2.0, phase


LABELS = {  # the README's row labels -> (method, config_id) of the leaderboard
    "Emo (knee)": ("emo", "c0"), "Emo (matched)": ("emo", "c1"), "SCL (λ=0)": ("scl", "l0"),
    "TLearn": ("tlearn", "base"), "MTL (SST-2)": ("mtl:sst2", "base"), "MTL (iSarcasm)": ("mtl:isarcasm", "base"),
    "PLM (mean)": ("plm", "base"), "PLM ([CLS])": ("plm:cls", "base"),
}  # fmt: skip
COLUMNS = {
    "AMI": "ami", "P@1": "p_at_1", "MAP@R": "map_at_r", "Δemb ↓": "delta_emb", "kNN overlap": "knn_overlap",
    "SST-2 probe": "sst2_probe_f1", "SST-2 8-shot": "sst2_fewshot_k8_f1", "SST-2 64-shot": "sst2_fewshot_k64_f1",
    "SST-2 fine-tune": "sst2_finetune_f1", "iSarcasm probe": "isarcasm_probe_f1",
    "iSarcasm 8-shot": "isarcasm_fewshot_k8_f1", "iSarcasm 64-shot": "isarcasm_fewshot_k64_f1",
    "iSarcasm fine-tune": "isarcasm_finetune_f1", "irony probe": "irony_probe_f1",
    "irony 8-shot": "irony_fewshot_k8_f1", "irony 64-shot": "irony_fewshot_k64_f1",
}  # fmt: skip


def readme_tables() -> list[list[list[str]]]:
    """The tables of the README's "What the reference study shows", each as rows of cells (header first)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8").split("## What the reference study shows", 1)[1]
    tables, rows = [], []
    for line in text.split("\n## ", 1)[0].splitlines() + [""]:
        if line.startswith("|"):
            if not line.startswith("|---"):
                rows.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif rows:
            tables, rows = [*tables, rows], []
    return tables


def test_readme_figures_are_the_leaderboards(board: pd.DataFrame) -> None:
    """Every cell of the README's figure tables is the committed leaderboard's figure (3 decimals)."""
    figure_tables = [t for t in readme_tables() if t[0][0] == "method"]
    assert figure_tables
    checked = 0
    for table in figure_tables:
        header = table[0]
        for cells in table[1:]:
            method, config = LABELS[cells[0]]
            row = board[(board["method"] == method) & (board["config_id"] == config)].iloc[0]
            for name, cell in zip(header[1:], cells[1:], strict=True):
                if name == "seeds":
                    assert int(cell) == row["n_seeds"], cells[0]
                    continue
                mean, _, std = cell.partition(" ± ")
                assert float(mean) == pytest.approx(row[f"{COLUMNS[name]}_mean"], abs=6e-4), (cells[0], name)
                if std:
                    assert float(std) == pytest.approx(row[f"{COLUMNS[name]}_std"], abs=6e-4), (cells[0], name)
                checked += 1
    assert checked >= len(LABELS) * 8


def test_readme_tests_are_the_comparisons(comparisons: pd.DataFrame) -> None:
    """Every row of the README's comparison table (A vs B, metric, Δ, 95 % interval, Holm p) is comparisons.csv's."""
    tables = [t for t in readme_tables() if t[0][0] == "comparison"]
    assert len(tables) == 1
    rows = tables[0][1:]
    for cells in rows:
        left, _, right = cells[0].partition(" vs ")
        (method, config), (versus, versus_config) = LABELS[left], LABELS[right]
        test = comparisons[
            (comparisons["method"] == method) & (comparisons["config_id"] == config)
            & (comparisons["versus"] == versus) & (comparisons["versus_config_id"] == versus_config)
            & (comparisons["metric"] == COLUMNS[cells[1]])
        ]  # fmt: skip
        assert len(test) == 1, cells[:2]
        test = test.iloc[0]
        assert float(cells[2]) == pytest.approx(test["delta"], abs=6e-4), cells[:2]
        low, high = (float(x) for x in cells[3].strip("[]").split(", "))
        assert (low, high) == (pytest.approx(test["ci_low"], abs=6e-4), pytest.approx(test["ci_high"], abs=6e-4))
        p = cells[4]
        if p.startswith("<"):
            assert test["p_holm"] < float(p[1:]), cells[:2]
        else:
            assert float(p) == pytest.approx(test["p_holm"], rel=0.05, abs=6e-4), cells[:2]
    assert len(rows) >= 12
