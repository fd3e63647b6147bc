"""GoEmotions (Demszky et al., 2020) in its official split, filtered to single-label rows.

Read from a local folder in the original layout (``goemotions/{train,dev,test}.tsv`` + ``labels.txt``:
text, comma-separated label ids, comment id; no header), named by ``--data-dir`` or
``$RAYSWEEP_DATA_DIR``; with neither, fall back to the hub dataset
``google-research-datasets/go_emotions`` (config ``simplified``, the same split).

Single-label rows: 36,308 / 4,548 / 4,590 (train / dev / test); without neutral 23,485 / 2,956 / 2,984.
"""

from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from raysweep.data.files import read_rows, read_text
from raysweep.errors import RaysweepError

SPLITS = ("train", "dev", "test")
HUB_DATASET = "google-research-datasets/go_emotions"
ENV_DATA_DIR = "RAYSWEEP_DATA_DIR"
NEUTRAL = "neutral"


@dataclass(frozen=True)
class LabeledTexts:
    """Texts with one integer label each, plus the names of the labels."""

    texts: list[str]
    labels: np.ndarray
    label_names: list[str]
    name: str = ""

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def num_classes(self) -> int:
        return len(self.label_names)

    def fingerprint(self) -> str:
        """A content hash: caches of derived arrays (tokens, frozen targets) are keyed by it."""
        digest = hashlib.sha256()
        for text in self.texts:
            digest.update(text.encode("utf-8"))
            digest.update(b"\0")
        digest.update(np.ascontiguousarray(self.labels, dtype=np.int64).tobytes())
        return digest.hexdigest()[:16]

    def subset(self, indices: np.ndarray, name: str | None = None) -> LabeledTexts:
        return LabeledTexts(
            texts=[self.texts[i] for i in indices],
            labels=self.labels[indices],
            label_names=self.label_names,
            name=self.name if name is None else name,
        )

    def sample(self, limit: int | None, seed: int = 0) -> LabeledTexts:
        """A seeded sample of ``limit`` rows that keeps the class proportions (all rows if None)."""
        if limit is None or limit >= len(self):
            return self
        from sklearn.model_selection import train_test_split

        indices = np.arange(len(self))
        try:
            keep, _ = train_test_split(indices, train_size=limit, stratify=self.labels, random_state=seed)
        except ValueError:  # a class too small to stratify: plain seeded sample
            keep = np.random.default_rng(seed).choice(indices, size=limit, replace=False)
        return self.subset(np.sort(keep))


@dataclass(frozen=True)
class GoEmotions:
    train: LabeledTexts
    dev: LabeledTexts
    test: LabeledTexts
    source: str

    @property
    def label_names(self) -> list[str]:
        return self.train.label_names

    def split(self, name: str) -> LabeledTexts:
        if name not in SPLITS:
            raise RaysweepError(f"unknown GoEmotions split {name!r}; use one of {', '.join(SPLITS)}")
        return getattr(self, name)


def resolve_data_dir(data_dir: str | os.PathLike[str] | None) -> Path | None:
    """The data folder the user named (argument, then ``$RAYSWEEP_DATA_DIR``), or None for the hub."""
    chosen = data_dir if data_dir not in (None, "") else os.environ.get(ENV_DATA_DIR) or None
    if chosen is None:
        return None
    path = Path(chosen).expanduser().resolve()
    if not path.is_dir():
        raise RaysweepError(
            f"data dir {path} does not exist; pass --data-dir (or set {ENV_DATA_DIR}) to the folder "
            "that holds goemotions/"
        )
    return path


def load_goemotions(data_dir: str | os.PathLike[str] | None = None, drop_neutral: bool = False) -> GoEmotions:
    """Single-label GoEmotions on the official split, from ``data_dir`` or the hub."""
    root = resolve_data_dir(data_dir)
    if root is None:
        splits, names, source = _from_hub()
    else:
        splits, names, source = _from_folder(root)
    if drop_neutral:
        neutral = names.index(NEUTRAL)
        splits = {k: _drop_label(v, neutral) for k, v in splits.items()}
        names = [n for n in names if n != NEUTRAL]
    parts = {
        k: LabeledTexts(texts=t, labels=np.asarray(y, dtype=np.int64), label_names=names, name=f"goemotions/{k}")
        for k, (t, y) in splits.items()
    }
    return GoEmotions(source=source, **parts)


def _drop_label(split: tuple[list[str], list[int]], label: int) -> tuple[list[str], list[int]]:
    texts, labels = split
    kept = [(t, y - (y > label)) for t, y in zip(texts, labels, strict=True) if y != label]
    return [t for t, _ in kept], [y for _, y in kept]


def _from_folder(root: Path) -> tuple[dict[str, tuple[list[str], list[int]]], list[str], str]:
    folder = root / "goemotions" if (root / "goemotions").is_dir() else root
    labels_file = folder / "labels.txt"
    if not labels_file.is_file():
        raise RaysweepError(
            f"{labels_file} is missing; --data-dir must hold goemotions/labels.txt and "
            "goemotions/{train,dev,test}.tsv"
        )
    names = [line.strip() for line in read_text(labels_file).splitlines() if line.strip()]
    splits = {}
    for split in SPLITS:
        path = folder / f"{split}.tsv"
        if not path.is_file():
            raise RaysweepError(
                f"{path} is missing; --data-dir must hold goemotions/{{train,dev,test}}.tsv (GoEmotions' "
                "original layout)"
            )
        splits[split] = _read_tsv(path, len(names))
    return splits, names, str(folder)


def _read_tsv(path: Path, num_labels: int) -> tuple[list[str], list[int]]:
    """Single-label rows of one split; any malformed row is an error naming the file and line."""
    texts: list[str] = []
    labels: list[int] = []
    for lineno, row in read_rows(path, "\t", csv.QUOTE_NONE):
        if len(row) != 3:
            raise RaysweepError(
                f"{path}:{lineno}: expected 3 tab-separated columns (text, label ids, id), got "
                f"{len(row)}; fix or remove the row"
            )
        text, ids, _ = row
        try:
            label_ids = [int(x) for x in ids.split(",")]
        except ValueError:
            raise RaysweepError(
                f"{path}:{lineno}: label ids {ids!r} are not comma-separated integers; fix the row"
            ) from None
        bad = [x for x in label_ids if not 0 <= x < num_labels]
        if bad:
            raise RaysweepError(
                f"{path}:{lineno}: label id {bad[0]} is outside labels.txt (0..{num_labels - 1}); "
                "fix the row or labels.txt"
            )
        if len(label_ids) != 1:
            continue
        if not text.strip():
            raise RaysweepError(f"{path}:{lineno}: empty text; remove the row")
        texts.append(text)
        labels.append(label_ids[0])
    return texts, labels


def _from_hub() -> tuple[dict[str, tuple[list[str], list[int]]], list[str], str]:
    try:
        from datasets import load_dataset

        hub = load_dataset(HUB_DATASET, "simplified")
    except Exception as err:  # offline, no such dataset, ...
        raise RaysweepError(
            f"no data dir given and the hub dataset {HUB_DATASET} could not be loaded ({type(err).__name__}); "
            f"pass --data-dir or set {ENV_DATA_DIR} to a local copy"
        ) from None
    names = list(hub["train"].features["labels"].feature.names)
    splits = {}
    for split, hub_split in zip(SPLITS, ("train", "validation", "test"), strict=True):
        rows = [(r["text"], r["labels"][0]) for r in hub[hub_split] if len(r["labels"]) == 1]
        splits[split] = ([t for t, _ in rows], [y for _, y in rows])
    return splits, names, f"hub:{HUB_DATASET}"
