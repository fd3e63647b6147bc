"""Reading the user's data files, so that every problem in one is a single line naming the file and
the line: bytes that are not UTF-8, a byte-order mark, a field past the csv module's size limit (an
unclosed quote, usually), a permission or a folder where a file should be, and duplicated or missing
header columns. Everything that reads a data file goes through here."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from raysweep.errors import RaysweepError


def read_text(path: Path) -> str:
    """The file decoded as UTF-8 (a leading byte-order mark dropped)."""
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        raise RaysweepError(f"{path} is a folder, not a file; give the data file itself") from None
    except OSError as err:
        raise RaysweepError(
            f"{path}: cannot be read ({err.strerror or type(err).__name__}); fix its permissions or give another file"
        ) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise RaysweepError(
            f"{path}:{line}: byte 0x{raw[err.start]:02x} is not UTF-8; save the file as UTF-8 (or fix the line)"
        ) from None


def read_rows(path: Path, delimiter: str, quoting: int = csv.QUOTE_MINIMAL) -> list[tuple[int, list[str]]]:
    """Every row of a delimited file as ``(line number, cells)``; the line is where the row starts."""
    reader = csv.reader(io.StringIO(read_text(path), newline=""), delimiter=delimiter, quoting=quoting)
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for row in reader:
            rows.append((start, row))
            start = reader.line_num + 1
    except csv.Error as err:
        raise RaysweepError(f"{path}:{start}: {err} (an unclosed quote?); fix the row or remove it") from None
    return rows


def read_table(path: Path, columns: list[str], delimiter: str) -> list[tuple[int, list[str]]]:
    """The named columns of every row of a delimited file whose first row is a header.

    A header that names a column twice, or lacks one of ``columns``, is refused with the header's
    columns in the message; short rows give empty cells for the missing columns.
    """
    rows = read_rows(path, delimiter)
    if not rows:
        raise RaysweepError(f"{path} is empty; give a header row and labelled rows")
    header = [h.strip() for h in rows[0][1]]
    twice = sorted({h for h in header if header.count(h) > 1 and h})
    if twice:
        raise RaysweepError(f"{path}:1: the header names column {twice[0]!r} twice; give every column its own name")
    missing = [c for c in columns if c not in header]
    if missing:
        found = ", ".join(repr(h) for h in header) or "none"
        raise RaysweepError(
            f"{path}: column {missing[0]!r} not found (columns: {found}); name one of these in the task spec"
        )
    where = [header.index(c) for c in columns]
    return [(line, [cells[i] if i < len(cells) else "" for i in where]) for line, cells in rows[1:] if cells]
