"""Reading data files: encoding, byte-order marks, over-long fields, permissions, headers (one line each)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import task_fixtures

from raysweep.data.files import read_rows, read_table, read_text
from raysweep.data.goemotions import load_goemotions
from raysweep.data.tasks import CsvTaskSpec, load_csv_task, load_tasks
from raysweep.errors import RaysweepError

tiny_tasks_dir = pytest.fixture(scope="session")(task_fixtures.tiny_tasks_dir)
ROWS = [f"text number {i},{'pos' if i % 2 else 'neg'}" for i in range(20)]


def test_a_byte_that_is_not_utf8_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b"text,label\nfine,pos\ncaf\xe9,neg\n")
    with pytest.raises(RaysweepError, match=r"t\.csv:3: byte 0xe9 is not UTF-8; save the file as UTF-8"):
        read_text(path)


def test_a_byte_order_mark_is_not_part_of_the_first_column(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes("\ufefftext,label\n".encode() + "\n".join(ROWS).encode() + b"\n")
    task = load_csv_task(CsvTaskSpec.parse(f"csv:{path}:text:label"))
    assert len(task.train) + len(task.test) == 20


def test_an_over_long_field_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text('text,label\nok,pos\n"never closed,neg\n' + "x" * 200_000 + "\n")
    with pytest.raises(RaysweepError, match=r"t\.csv:3: field larger than field limit .*unclosed quote"):
        read_rows(path, ",")


def test_an_unreadable_split_is_one_line(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "t.csv"
    path.write_text("text,label\n")
    if os.geteuid() == 0:  # root reads any file: make the read fail as it does for a user without the right

        def denied(self: Path) -> bytes:
            raise PermissionError(13, "Permission denied", str(self))

        monkeypatch.setattr(Path, "read_bytes", denied)
    else:
        path.chmod(0)
    with pytest.raises(RaysweepError, match=r"t\.csv: cannot be read \(Permission denied\); fix its permissions"):
        read_text(path)


def test_a_folder_where_a_split_should_be(tiny_tasks_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(tiny_tasks_dir, data)
    (data / "goemotions" / "dev.tsv").unlink()
    (data / "goemotions" / "dev.tsv").mkdir()
    with pytest.raises(RaysweepError, match="dev.tsv"):
        load_goemotions(data)


def test_a_non_utf8_goemotions_row(tiny_tasks_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(tiny_tasks_dir, data)
    train = data / "goemotions" / "train.tsv"
    lines = train.read_bytes().splitlines(keepends=True)
    train.write_bytes(b"".join(lines[:4]) + b"bad \xff byte\t3\tx9\n" + b"".join(lines[4:]))
    with pytest.raises(RaysweepError, match=r"train\.tsv:5: byte 0xff is not UTF-8"):
        load_goemotions(data)


def test_a_duplicated_header_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("text,label,label\n" + "\n".join(r + ",x" for r in ROWS) + "\n")
    with pytest.raises(RaysweepError, match="names column 'label' twice"):
        read_table(path, ["text", "label"], ",")


def test_an_empty_label_cell_is_refused_not_a_class(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("text,label\n" + "\n".join(ROWS) + "\nno label here,\n")
    with pytest.raises(RaysweepError, match=r"t\.csv:22: empty label in column 'label'"):
        load_csv_task(CsvTaskSpec.parse(f"csv:{path}:text:label"))


def test_two_tasks_with_one_name_are_refused(tmp_path: Path, tiny_tasks_dir: Path) -> None:
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "mine.csv").write_text("text,label\n" + "\n".join(ROWS) + "\n")
    (tmp_path / "sst2.csv").write_text("text,label\n" + "\n".join(ROWS) + "\n")
    with pytest.raises(RaysweepError, match="are both named 'mine'"):
        load_tasks([f"csv:{tmp_path}/a/mine.csv:text:label", f"csv:{tmp_path}/b/mine.csv:text:label"])
    with pytest.raises(RaysweepError, match="are both named 'sst2'"):
        load_tasks(["sst2", f"csv:{tmp_path}/sst2.csv:text:label"], tiny_tasks_dir)
