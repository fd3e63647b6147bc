"""``python -m raysweep.train``: bad input is one clear line, exit code 2, and nothing written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from raysweep.train.__main__ import main


def run_cli(capsys: pytest.CaptureFixture[str], args: list[str]) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")
    return err[0]


@pytest.fixture
def bad_tsv_dir(tiny_data_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "bad" / "goemotions"
    target.mkdir(parents=True)
    for f in (tiny_data_dir / "goemotions").iterdir():
        (target / f.name).write_text(f.read_text())
    with (target / "train.tsv").open("a") as handle:
        handle.write("a row without columns\n")
    return tmp_path / "bad"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--lam", "-1"], "λ"),
        (["--tau", "0"], "τ"),
        (["--head", "transformer"], "unknown head"),
        (["--sampler", "random"], "unknown sampler"),
        (["--m", "2", "--batch-size", "64"], "cannot fill a batch"),
        (["--model", "no-such-org/no-such-model"], "not found"),
    ],
)
def test_bad_arguments(capsys, tiny_bert: str, tiny_data_dir: Path, tmp_path: Path, extra, message) -> None:
    out = tmp_path / "out"
    args = ["--model", tiny_bert, "--data-dir", str(tiny_data_dir), "--out", str(out), *extra]
    assert message in run_cli(capsys, args)
    assert not out.exists()


def test_bad_data(capsys, tiny_bert: str, bad_tsv_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    line = run_cli(capsys, ["--model", tiny_bert, "--data-dir", str(bad_tsv_dir), "--out", str(out)])
    assert "train.tsv:" in line and "expected 3 tab-separated columns" in line
    line = run_cli(capsys, ["--model", tiny_bert, "--data-dir", str(tmp_path / "missing"), "--out", str(out)])
    assert "does not exist" in line and "--data-dir" in line
    assert not out.exists()


def test_exit_code_from_a_real_process(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "raysweep.train", "--tau", "-1", "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and proc.stderr.strip().startswith("error: loss.tau")
    assert len(proc.stderr.strip().splitlines()) == 1


def test_out_on_a_user_folder_is_refused_before_any_work(capsys, tiny_bert: str, tiny_data_dir: Path, tmp_path: Path):
    """The data-loss regression: ``--out`` on a folder holding someone's code used to be replaced whole."""
    work = tmp_path / "project"
    (work / "src").mkdir(parents=True)
    (work / "src" / "main.py").write_text("print('hello')\n")
    args = ["--model", tiny_bert, "--data-dir", str(tiny_data_dir), "--max-steps", "2", "--out", str(work)]
    line = run_cli(capsys, args)
    assert "raysweep did not make" in line and "--overwrite" in line and str(work) in line
    assert (work / "src" / "main.py").read_text() == "print('hello')\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project"]
