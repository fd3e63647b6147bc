from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from raysweep.data.goemotions import load_goemotions, resolve_data_dir
from raysweep.errors import RaysweepError


def test_official_single_label_counts(shared_data_dir: Path) -> None:
    data = load_goemotions(shared_data_dir)
    assert [len(data.train), len(data.dev), len(data.test)] == [36308, 4548, 4590]
    assert data.label_names[0] == "admiration" and data.label_names[-1] == "neutral"
    assert data.train.num_classes == 28
    assert set(np.unique(data.train.labels)) == set(range(28))


def test_drop_neutral_counts(shared_data_dir: Path) -> None:
    data = load_goemotions(shared_data_dir, drop_neutral=True)
    assert [len(data.train), len(data.dev), len(data.test)] == [23485, 2956, 2984]
    assert "neutral" not in data.label_names and data.train.num_classes == 27
    assert data.train.labels.max() == 26


def test_env_var_names_the_folder(shared_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAYSWEEP_DATA_DIR", str(shared_data_dir))
    assert resolve_data_dir(None) == shared_data_dir.resolve()


def test_multi_label_rows_are_dropped(tiny_data_dir: Path) -> None:
    data = load_goemotions(tiny_data_dir)
    assert len(data.train) == 6 * 40 and len(data.dev) == 6 * 12


def test_stratified_sample_keeps_proportions(shared_data_dir: Path) -> None:
    train = load_goemotions(shared_data_dir).train
    sample = train.sample(3000, seed=1)
    assert len(sample) == 3000
    assert sample.fingerprint() == train.sample(3000, seed=1).fingerprint()
    full = np.bincount(train.labels) / len(train)
    part = np.bincount(sample.labels, minlength=28) / len(sample)
    assert np.abs(full - part).max() < 0.005


def _copy_tiny(tiny_data_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "goemotions"
    target.mkdir()
    for f in (tiny_data_dir / "goemotions").iterdir():
        (target / f.name).write_text(f.read_text())
    return tmp_path


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("only text and no label", "expected 3 tab-separated columns"),
        ("text\tx,1\tid", "not comma-separated integers"),
        ("text\t99\tid", "label id 99 is outside labels.txt"),
        (" \t2\tid", "empty text"),
    ],
)
def test_malformed_rows_name_file_and_line(tiny_data_dir: Path, tmp_path: Path, row: str, message: str) -> None:
    root = _copy_tiny(tiny_data_dir, tmp_path)
    path = root / "goemotions" / "dev.tsv"
    lines = path.read_text().splitlines()
    lines.insert(4, row)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(RaysweepError, match=message) as err:
        load_goemotions(root)
    assert "dev.tsv:5" in str(err.value)


def test_missing_dir_and_missing_split(tiny_data_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(RaysweepError, match="does not exist"):
        load_goemotions(tmp_path / "nowhere")
    root = _copy_tiny(tiny_data_dir, tmp_path)
    (root / "goemotions" / "test.tsv").unlink()
    with pytest.raises(RaysweepError, match="test.tsv is missing"):
        load_goemotions(root)
