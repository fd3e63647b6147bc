"""The committed reference study (results/reference/): documented columns, every method, tables that
follow from the leaderboard, and small files only."""

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
METHODS = ["emo", "mtl", "plm", "scl", "tlearn"]


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


def test_every_method_with_its_seeds(board: pd.DataFrame) -> None:
    assert sorted(board["method"]) == METHODS
    trained = board[board["method"] != "plm"]
    assert (trained["n_seeds"] >= 3).all(), trained[["method", "n_seeds"]]
    for column in ("ami_mean", "p_at_1_mean", "map_at_r_mean", "delta_emb_mean", "sst2_probe_f1_mean"):
        assert board[column].notna().all(), column
    assert any(c.endswith("_finetune_f1_mean") for c in board.columns)
    assert any("_fewshot_k" in c for c in board.columns)
    assert board.loc[board["method"] == "plm", "delta_emb_mean"].iloc[0] == pytest.approx(0.0, abs=1e-6)


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


def test_readme_table_is_the_leaderboard(board: pd.DataFrame) -> None:
    """Every cell of the README's reference table is the committed leaderboard's figure (3 decimals)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8").split("## What the reference study shows", 1)[1]
    rows = [line for line in text.split("\n## ", 1)[0].splitlines() if line.startswith("| ")]
    header = [c.strip() for c in rows[0].strip("|").split("|")]
    columns = {
        "AMI": "ami", "P@1": "p_at_1", "MAP@R": "map_at_r", "Δemb ↓": "delta_emb", "kNN overlap": "knn_overlap",
        "SST-2 probe": "sst2_probe_f1", "SST-2 8-shot": "sst2_fewshot_k8_f1", "SST-2 64-shot": "sst2_fewshot_k64_f1",
        "SST-2 fine-tune": "sst2_finetune_f1", "iSarcasm probe": "isarcasm_probe_f1", "irony probe": "irony_probe_f1",
    }  # fmt: skip
    methods = {"Emo": "emo", "SCL (λ=0)": "scl", "TLearn": "tlearn", "MTL (irony)": "mtl", "PLM ([CLS])": "plm"}
    checked = 0
    for line in rows[1:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        row = board[board["method"] == methods[cells[0]]].iloc[0]
        for name, cell in zip(header[1:], cells[1:], strict=True):
            mean, _, std = cell.partition(" ± ")
            assert float(mean) == pytest.approx(row[f"{columns[name]}_mean"], abs=6e-4), (cells[0], name)
            if std:
                assert float(std) == pytest.approx(row[f"{columns[name]}_std"], abs=6e-4), (cells[0], name)
            checked += 1
    assert checked == 5 * len(columns)


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
