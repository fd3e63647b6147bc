"""Downstream tasks behind one interface: a name, labelled train / (dev) / test splits, label names.

Built-in tasks, read from the data folder the user names (``--data-dir`` or ``$RAYSWEEP_DATA_DIR``)
or, without one, from the hub:

* ``sst2``: SST-2 (GLUE), binary sentiment, dev used as test; ``sst2/{train,dev}.tsv``;
  hub ``stanfordnlp/sst2``.
* ``isarcasm``: iSarcasmEval (SemEval-2022 Task 6) sub-task A; ``isarcasmeval/train.En.csv`` and
  ``isarcasmeval/task_A_En_test.csv``; no hub copy.
* ``irony``: TweetEval irony (SemEval-2018 Task 3A) with its validation split;
  ``tweeteval_irony/{train,val,test}_{text,labels}.txt``; hub ``cardiffnlp/tweet_eval`` (irony).

A user's own task needs no code: ``csv:PATH:TEXT_COL:LABEL_COL[:SPLIT_COL]`` (``.tsv`` files are
tab-separated, anything else comma-separated; a header row names the columns). The split column's
values are ``train``, ``dev``/``val``/``validation`` and ``test``; without one, a seeded stratified
20 % of the rows is held out as the test split. Labels may be any strings (sorted; integers sort
numerically). Rows with an empty text are dropped and counted (``Task.dropped``). Every problem a
user can cause (unreadable file, missing column, one class only, an empty split) is a one-line
:class:`RaysweepError`, raised while loading, i.e. before any model is touched.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from raysweep.data.files import read_table, read_text
from raysweep.data.goemotions import ENV_DATA_DIR, LabeledTexts, resolve_data_dir
from raysweep.errors import RaysweepError

log = logging.getLogger(__name__)

BUILTIN_TASKS = ("sst2", "isarcasm", "irony")
CSV_PREFIX = "csv:"
SPLIT_ALIASES = {"train": "train", "dev": "dev", "val": "dev", "validation": "dev", "test": "test"}
HELD_OUT = 0.2
Row = tuple[str, str]


@dataclass(frozen=True)
class Task:
    """A labelled text-classification task with a test split (and maybe a dev split)."""

    name: str
    train: LabeledTexts
    test: LabeledTexts
    dev: LabeledTexts | None = None
    source: str = ""
    dropped: int = 0
    """Rows dropped while loading because their text was empty."""

    @property
    def label_names(self) -> list[str]:
        return self.train.label_names

    @property
    def num_classes(self) -> int:
        return len(self.label_names)

    @property
    def positive_label(self) -> int | None:
        """For binary tasks, the class whose F1 is reported as positive-class F1 (label 1)."""
        return 1 if self.num_classes == 2 else None


@dataclass(frozen=True)
class CsvTaskSpec:
    """A user's CSV/TSV task: file, text column, label column and an optional split column."""

    path: Path
    text_col: str
    label_col: str
    split_col: str | None = None

    @classmethod
    def parse(cls, spec: str) -> CsvTaskSpec:
        """``csv:PATH:TEXT_COL:LABEL_COL[:SPLIT_COL]``."""
        parts = spec[len(CSV_PREFIX) :].split(":") if spec.startswith(CSV_PREFIX) else []
        if len(parts) not in (3, 4) or not all(parts):
            raise RaysweepError(
                f"task {spec!r}: a file task is written csv:PATH:TEXT_COL:LABEL_COL[:SPLIT_COL], e.g. "
                "csv:reviews.tsv:text:label:split"
            )
        return cls(Path(parts[0]).expanduser(), parts[1], parts[2], parts[3] if len(parts) == 4 else None)

    @property
    def name(self) -> str:
        return self.path.stem


def load_task(name: str, data_dir: str | os.PathLike[str] | None = None, seed: int = 0) -> Task:
    """A built-in task by name or a ``csv:...`` spec, fully validated."""
    if name.startswith(CSV_PREFIX):
        return load_csv_task(CsvTaskSpec.parse(name), seed)
    if name not in BUILTIN_TASKS:
        raise RaysweepError(
            f"unknown task {name!r}; use one of {', '.join(BUILTIN_TASKS)} or csv:PATH:TEXT_COL:LABEL_COL[:SPLIT_COL]"
        )
    root = resolve_data_dir(data_dir)
    loader = {"sst2": _sst2, "isarcasm": _isarcasm, "irony": _irony}[name]
    return loader(root)


def task_name(spec: str) -> str:
    """The name a task spec's figures are reported under: a built-in's name, a file task's stem."""
    return CsvTaskSpec.parse(spec).name if spec.startswith(CSV_PREFIX) else spec


def check_task_names(specs: list[str]) -> None:
    """Refuse two specs that would be reported under one name (``csv:a/x.csv`` and ``csv:b/x.tsv``,
    or a file task named like a built-in one): one would silently replace the other's figures."""
    seen: dict[str, str] = {}
    for spec in specs:
        name = task_name(spec)
        if name in seen and seen[name] != spec:
            raise RaysweepError(
                f"tasks {seen[name]!r} and {spec!r} are both named {name!r}; rename one of the files so every "
                "task has its own name"
            )
        seen[name] = spec


def load_tasks(names: list[str], data_dir: str | os.PathLike[str] | None = None, seed: int = 0) -> dict[str, Task]:
    check_task_names(names)
    tasks = [load_task(n, data_dir, seed) for n in names]
    return {t.name: t for t in tasks}


DRIFT_SPLITS = ("test", "train")


def texts_fingerprint(texts: list[str]) -> str:
    """The SHA-256 of ``texts`` in order (each followed by a NUL byte): equal fingerprints mean the
    same texts in the same order, which is how an evaluation records which rows it drew."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def drift_texts(
    data_dir: str | os.PathLike[str] | None,
    n: int = 1000,
    seed: int = 0,
    tasks: tuple[str, ...] | None = None,
    split: str = "test",
) -> list[str]:
    """A seeded sample of ``n`` downstream (non-GoEmotions) texts, in a stable order.

    Drawn evenly from the ``split`` of ``tasks`` (default: all built-in tasks with a local data folder;
    ``sst2`` and ``irony`` from the hub without one). ``split="test"`` is the final Δemb text set;
    ``split="train"`` the search-time one, drawn from training rows that are in no task's test split
    (a text that also occurs in a test split is left out), so the search never looks at a text the
    final figures are computed on.
    """
    if split not in DRIFT_SPLITS:
        raise RaysweepError(f"drift texts: unknown split {split!r}; use one of {', '.join(DRIFT_SPLITS)}")
    root = resolve_data_dir(data_dir)
    chosen = tasks or (BUILTIN_TASKS if root is not None else ("sst2", "irony"))
    loaded = [load_task(t, root, seed) for t in chosen]
    tested = {text for task in loaded for text in task.test.texts}
    pools = [sorted(set(task.test.texts) if split == "test" else set(task.train.texts) - tested) for task in loaded]
    rng = np.random.default_rng(seed)
    out: list[str] = []
    for i, pool in enumerate(pools):
        share = n // len(pools) + (1 if i < n % len(pools) else 0)
        picks = rng.choice(len(pool), size=min(share, len(pool)), replace=False)
        out += [pool[j] for j in sorted(picks)]
    return out


# ---------------------------------------------------------------- generic reading and validation


def _read_rows(path: Path, columns: list[str], delimiter: str) -> list[list[str]]:
    """The named columns of every row of a delimited file with a header; the label column (the
    second) must be filled in every row that has a text (an empty label is an error, not a class)."""
    rows = read_table(path, columns, delimiter)
    for line, cells in rows:
        if cells[0].strip() and not cells[1].strip():
            raise RaysweepError(f"{path}:{line}: empty label in column {columns[1]!r}; fill it in or remove the row")
    return [cells for _, cells in rows]


def _drop_empty(rows: list[list[str]], where: str) -> tuple[list[list[str]], int]:
    kept = [r for r in rows if r[0].strip()]
    dropped = len(rows) - len(kept)
    if dropped:
        log.warning("%s: dropped %d row(s) with an empty text", where, dropped)
    return kept, dropped


def _label_names(values: set[str]) -> list[str]:
    try:
        return [str(v) for v in sorted(int(v) for v in values)]
    except ValueError:
        return sorted(values)


def _build(
    name: str,
    splits: dict[str, list[Row]],
    source: str,
    label_names: list[str] | None = None,
    dropped: int = 0,
) -> Task:
    """Validated ``Task`` from (text, raw label) rows per split; raw labels index ``label_names``."""
    for split in ("train", "test"):
        if not splits.get(split):
            raise RaysweepError(f"task {name}: the {split} split is empty ({source}); give it labelled rows")
    if "dev" in splits and not splits["dev"]:
        raise RaysweepError(f"task {name}: the dev split is empty ({source}); give it rows or drop the split")
    raw = {label for rows in splits.values() for _, label in rows}
    names = label_names or _label_names({r.strip() for r in raw})
    index = {n: i for i, n in enumerate(names)} if label_names is None else {str(i): i for i in range(len(names))}
    parts: dict[str, LabeledTexts] = {}
    for split, rows in splits.items():
        unknown = sorted({label.strip() for _, label in rows} - set(index))
        if unknown:
            raise RaysweepError(
                f"task {name}: label {unknown[0]!r} in the {split} split is not one of {', '.join(index)} ({source})"
            )
        labels = np.asarray([index[label.strip()] for _, label in rows], dtype=np.int64)
        parts[split] = LabeledTexts([t for t, _ in rows], labels, names, name=f"{name}/{split}")
    if len(np.unique(parts["train"].labels)) < 2:
        raise RaysweepError(
            f"task {name}: the train split has one class only ({names[int(parts['train'].labels[0])]!r}; {source}); "
            "a classifier needs at least two"
        )
    return Task(name, parts["train"], parts["test"], parts.get("dev"), source, dropped)


def load_csv_task(spec: CsvTaskSpec, seed: int = 0) -> Task:
    """A user's task from a CSV/TSV file (see the module docstring for the layout)."""
    if not spec.path.is_file():
        raise RaysweepError(f"task file {spec.path} does not exist; give the path of a CSV/TSV file")
    delimiter = "\t" if spec.path.suffix.lower() == ".tsv" else ","
    columns = [spec.text_col, spec.label_col] + ([spec.split_col] if spec.split_col else [])
    rows, dropped = _drop_empty(_read_rows(spec.path, columns, delimiter), str(spec.path))
    if not rows:
        raise RaysweepError(f"task file {spec.path} has no rows with text; give it labelled rows")
    if spec.split_col is None:
        splits = _hold_out([(r[0], r[1]) for r in rows], seed)
    else:
        splits = {}
        for text, label, split in rows:
            key = SPLIT_ALIASES.get(split.strip().lower())
            if key is None:
                raise RaysweepError(
                    f"{spec.path}: split value {split!r} in column {spec.split_col!r} is not one of "
                    f"{', '.join(SPLIT_ALIASES)}"
                )
            splits.setdefault(key, []).append((text, label))
    return _build(spec.name, splits, str(spec.path), dropped=dropped)


def _hold_out(rows: list[Row], seed: int) -> dict[str, list[Row]]:
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(rows))
    labels = [r[1].strip() for r in rows]
    try:
        train, test = train_test_split(idx, test_size=HELD_OUT, stratify=labels, random_state=seed)
    except ValueError:  # a class too small to stratify, or too few rows
        train, test = train_test_split(idx, test_size=HELD_OUT, random_state=seed) if len(idx) > 1 else (idx, idx[:0])
    return {"train": [rows[i] for i in sorted(train)], "test": [rows[i] for i in sorted(test)]}


# ---------------------------------------------------------------- built-in tasks


def _folder(root: Path, sub: str, task: str) -> Path:
    folder = root / sub
    if not folder.is_dir():
        raise RaysweepError(f"task {task}: {folder} is missing; --data-dir (or ${ENV_DATA_DIR}) must hold {sub}/")
    return folder


def _sst2(root: Path | None) -> Task:
    names = ["negative", "positive"]
    if root is None:
        hub = _hub("stanfordnlp/sst2", None, "sst2")
        splits = {"train": _hub_rows(hub["train"], "sentence"), "test": _hub_rows(hub["validation"], "sentence")}
        return _build("sst2", splits, "hub:stanfordnlp/sst2", names)
    folder = _folder(root, "sst2", "sst2")
    splits, dropped = {}, 0
    for split, file in (("train", "train.tsv"), ("test", "dev.tsv")):
        rows, d = _drop_empty(_read_rows(folder / file, ["sentence", "label"], "\t"), str(folder / file))
        splits[split], dropped = [(t, y) for t, y in rows], dropped + d
    return _build("sst2", splits, str(folder), names, dropped)


def _isarcasm(root: Path | None) -> Task:
    if root is None:
        raise RaysweepError(
            f"task isarcasm has no hub copy; pass --data-dir (or set {ENV_DATA_DIR}) to a folder holding "
            "isarcasmeval/train.En.csv and isarcasmeval/task_A_En_test.csv"
        )
    folder = _folder(root, "isarcasmeval", "isarcasm")
    splits, dropped = {}, 0
    for split, file, col in (("train", "train.En.csv", "tweet"), ("test", "task_A_En_test.csv", "text")):
        rows, d = _drop_empty(_read_rows(folder / file, [col, "sarcastic"], ","), str(folder / file))
        splits[split], dropped = [(t, y) for t, y in rows], dropped + d
    return _build("isarcasm", splits, str(folder), ["not_sarcastic", "sarcastic"], dropped)


def _irony(root: Path | None) -> Task:
    if root is None:
        hub = _hub("cardiffnlp/tweet_eval", "irony", "irony")
        splits = {
            s: _hub_rows(hub[h], "text") for s, h in (("train", "train"), ("dev", "validation"), ("test", "test"))
        }
        return _build("irony", splits, "hub:cardiffnlp/tweet_eval/irony", ["non_irony", "irony"])
    folder = _folder(root, "tweeteval_irony", "irony")
    mapping = folder / "mapping.txt"
    names = ["non_irony", "irony"]
    if mapping.is_file():
        names = [line.split("\t")[-1].strip() for line in read_text(mapping).splitlines() if line]
    splits, dropped = {}, 0
    for split, stem in (("train", "train"), ("dev", "val"), ("test", "test")):
        texts, labels = (_lines(folder / f"{stem}_{kind}.txt") for kind in ("text", "labels"))
        if len(texts) != len(labels):
            raise RaysweepError(
                f"{folder}/{stem}_text.txt has {len(texts)} lines but {stem}_labels.txt has {len(labels)}; "
                "they must match line for line"
            )
        rows, d = _drop_empty([[t, y] for t, y in zip(texts, labels, strict=True)], f"{folder}/{stem}_text.txt")
        splits[split], dropped = [(t, y) for t, y in rows], dropped + d
    return _build("irony", splits, str(folder), names, dropped)


def _lines(path: Path) -> list[str]:
    return read_text(path).splitlines()


def _hub(dataset: str, config: str | None, task: str):
    try:
        from datasets import load_dataset

        return load_dataset(dataset, config) if config else load_dataset(dataset)
    except Exception as err:  # offline, no such dataset, ...
        raise RaysweepError(
            f"task {task}: no data dir given and the hub dataset {dataset} could not be loaded "
            f"({type(err).__name__}); pass --data-dir or set {ENV_DATA_DIR} to a local copy"
        ) from None


def _hub_rows(split, text_col: str) -> list[Row]:
    return [(r[text_col], str(r["label"])) for r in split if str(r[text_col]).strip()]
