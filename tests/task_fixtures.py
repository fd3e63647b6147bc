"""A tiny data folder with GoEmotions and the three downstream tasks in their original layouts, with
learnable binary classes made of the tiny models' vocabulary (positive: CUES[0] words, negative:
CUES[1]). iSarcasmEval carries a quoted multi-line tweet and one empty tweet, like the real file."""

from __future__ import annotations

import csv
import random
from pathlib import Path

from conftest import CUES, FILLER, write_goemotions


def binary_text(rng: random.Random, label: int) -> str:
    words = rng.sample(FILLER, 4) + rng.sample(CUES[label], 2)
    rng.shuffle(words)
    return " ".join(words)


def binary_rows(rng: random.Random, per_class: int) -> list[tuple[str, int]]:
    rows = [(binary_text(rng, y), y) for y in (0, 1) for _ in range(per_class)]
    rng.shuffle(rows)
    return rows


def write_tasks(folder: Path, per_class: int = 20, seed: int = 0) -> Path:
    rng = random.Random(seed)
    sst2 = folder / "sst2"
    sst2.mkdir(parents=True, exist_ok=True)
    for file, n in (("train.tsv", per_class), ("dev.tsv", per_class // 2)):
        lines = ["sentence\tlabel"] + [f"{t} \t{y}" for t, y in binary_rows(rng, n)]
        (sst2 / file).write_text("\n".join(lines) + "\n")

    sarcasm = folder / "isarcasmeval"
    sarcasm.mkdir(parents=True, exist_ok=True)
    with (sarcasm / "train.En.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["", "tweet", "sarcastic", "rephrase"])
        rows = binary_rows(rng, per_class)
        rows[0] = (rows[0][0].replace(" ", "\n", 1), rows[0][1])  # a quoted multi-line field
        for i, (text, y) in enumerate(rows):
            writer.writerow([i, text, y, ""])
        writer.writerow([len(rows), "", 0, ""])  # the empty tweet
    with (sarcasm / "task_A_En_test.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "sarcastic"])
        writer.writerows(binary_rows(rng, per_class // 2))

    irony = folder / "tweeteval_irony"
    irony.mkdir(parents=True, exist_ok=True)
    (irony / "mapping.txt").write_text("0\tnon_irony\n1\tirony")
    for split, n in (("train", per_class), ("val", per_class // 2), ("test", per_class // 2)):
        rows = binary_rows(rng, n)
        (irony / f"{split}_text.txt").write_text("\n".join(t for t, _ in rows) + "\n")
        (irony / f"{split}_labels.txt").write_text("\n".join(str(y) for _, y in rows) + "\n")
    return folder


def tiny_tasks_dir(tmp_path_factory) -> Path:
    """GoEmotions (learnable, 6 classes) + sst2 / isarcasmeval / tweeteval_irony (learnable, binary).

    A test module makes it a fixture:
    ``tiny_tasks_dir = pytest.fixture(scope="session")(task_fixtures.tiny_tasks_dir)``.
    """
    folder = write_goemotions(tmp_path_factory.mktemp("tasks"), {"train": 40, "dev": 12, "test": 12})
    return write_tasks(folder)
