"""Every row of the README's "Bad input" table, through ``python -m raysweep.run``: exit code 2, one
``error:`` line naming the problem, and nothing written (no results folder, no study in the storage)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import task_fixtures
import yaml
from tiny_study import tiny_space

from raysweep.run import main as run_main

ROOT = Path(__file__).resolve().parents[1]
tiny_tasks_dir = pytest.fixture(scope="session")(task_fixtures.tiny_tasks_dir)


def readme_rows() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("## Bad input", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1].strip() for line in table.splitlines() if line.startswith("| ")]
    return [r for r in rows if r != "input"]


@dataclass
class Setup:
    tmp: Path
    model: str
    data: Path

    def space(self, edit: Callable[[dict], None] | None = None, **kwargs) -> Path:
        path = tiny_space(self.tmp, self.model, tasks=("emotion", "drift", "sst2"), **kwargs)
        raw = yaml.safe_load(path.read_text())
        if edit:
            edit(raw)
        path.write_text(yaml.safe_dump(raw))
        return path

    def data_copy(self) -> Path:
        copy = self.tmp / "data"
        shutil.copytree(self.data, copy)
        return copy

    def argv(self, space: Path | None = None, data: Path | None = None, *extra: str) -> list[str]:
        return [
            "--space", str(space or self.space()),
            "--name", "bad",
            "--storage", str(self.tmp / "st"),
            "--results-dir", str(self.tmp / "results"),
            "--data-dir", str(data or self.data),
            *extra,
        ]  # fmt: skip


def with_goemotions(s: Setup, split: str, line: str) -> list[str]:
    data = s.data_copy()
    with (data / "goemotions" / f"{split}.tsv").open("a") as handle:
        handle.write(line)
    return s.argv(data=data)


def one_example_of_class_3(s: Setup) -> list[str]:
    data = s.data_copy()
    train = data / "goemotions" / "train.tsv"
    lines = train.read_text().splitlines()
    threes = [i for i, line in enumerate(lines) if line.split("\t")[1] == "3"]
    train.write_text("\n".join(line for i, line in enumerate(lines) if i not in threes[1:]) + "\n")
    return s.argv(data=data)


def setting(section: str, key: str, value) -> Callable[[Setup], list[str]]:
    def build(s: Setup) -> list[str]:
        def edit(raw: dict) -> None:
            *path, last = [section, *key.split(".")]
            node = raw
            for part in path:
                node = node.setdefault(part, {})
            node[last] = value

        return s.argv(s.space(edit))

    return build


def inverted_tau(raw: dict) -> None:
    raw["search"]["loss.tau"] = {"type": "uniform", "low": 0.5, "high": 0.1}


def raw_yaml(text: str) -> Callable[[Setup], list[str]]:
    def build(s: Setup) -> list[str]:
        path = s.tmp / "raw.yaml"
        path.write_text(text)
        return s.argv(path)

    return build


def csv_task(rows: list[str], columns: str = "text:label", header: str = "text,label") -> Callable[[Setup], list[str]]:
    def build(s: Setup) -> list[str]:
        path = s.tmp / "mine.csv"
        path.write_text("\n".join([header, *rows]) + "\n")
        spec = f"csv:{path}:{columns}"
        return s.argv(s.space(lambda raw: raw["evaluation"]["tasks"].append(spec)))

    return build


def with_goemotions_bytes(s: Setup, split: str, line: bytes) -> list[str]:
    data = s.data_copy()
    with (data / "goemotions" / f"{split}.tsv").open("ab") as handle:
        handle.write(line)
    return s.argv(data=data)


def search(key: str, spec: dict) -> Callable[[Setup], list[str]]:
    def build(s: Setup) -> list[str]:
        return s.argv(s.space(lambda raw: raw["search"].__setitem__(key, spec)))

    return build


def same_stem_tasks(s: Setup) -> list[str]:
    specs = []
    for sub in ("a", "b"):
        (s.tmp / sub).mkdir()
        (s.tmp / sub / "mine.csv").write_text("text,label\n" + "\n".join(TWO_CLASSES) + "\n")
        specs.append(f"csv:{s.tmp / sub / 'mine.csv'}:text:label")
    return s.argv(s.space(lambda raw: raw["evaluation"]["tasks"].extend(specs)))


TWO_CLASSES = [f"text number {i},{'pos' if i % 2 else 'neg'}" for i in range(20)]

# README row -> cases (argv builder, fragment of the message)
CASES: dict[str, list[tuple[Callable[[Setup], list[str]], str]]] = {
    "missing data dir": [(lambda s: s.argv(data=s.tmp / "nope"), "does not exist; pass --data-dir")],
    "data dir without a split": [
        (
            lambda s: s.argv(data=(lambda d: ((d / "goemotions" / "test.tsv").unlink(), d)[1])(s.data_copy())),
            "test.tsv is missing",
        )
    ],  # fmt: skip
    "malformed TSV row": [(lambda s: with_goemotions(s, "train", "just a text\n"), "expected 3 tab-separated columns")],
    "bad label id": [(lambda s: with_goemotions(s, "dev", "some text\t99\tx1\n"), "label id 99 is outside labels.txt")],
    "empty text": [(lambda s: with_goemotions(s, "dev", " \t3\tx2\n"), "empty text")],
    "unknown model": [(setting("base", "model.name", "no-such/model"), "was not found locally or on the hub")],
    "λ < 0, τ <= 0": [
        (setting("base", "loss.lam", -1.0), "is negative"),
        (setting("base", "loss.tau", 0.0), "is not positive"),
    ],
    "unknown head / sampler": [
        (setting("base", "model.head", "x"), "unknown head 'x'"),
        (setting("base", "sampler.kind", "x"), "unknown sampler 'x'"),
    ],
    "m x classes cannot fill a batch": [(setting("base", "sampler.batch_size", 64), "cannot fill a batch of 64")],
    "a class with one example": [(one_example_of_class_3, "has 1 training example")],
    "malformed space YAML": [(raw_yaml("name: [unclosed\nbase: {\n"), "is not valid YAML")],
    "unknown key / wrong type / bad range": [
        (setting("study", "metrik", "dev_ami"), "study.metrik: unknown key"),
        (setting("base", "train.lr", "fast"), "expected float"),
        (lambda s: s.argv(s.space(inverted_tau)), "empty or inverted range"),
    ],
    "downstream task file: missing column, one class, empty split": [
        (csv_task(TWO_CLASSES, columns="text:nolabel"), "column 'nolabel' not found"),
        (csv_task([f"text number {i},pos" for i in range(20)]), "one class only"),
        (csv_task([r + ",train" for r in TWO_CLASSES], "text:label:split", "text,label,split"), "split is empty"),
    ],
    "value outside its range": [
        (setting("base", "train.grad_clip", -1.0), "train.grad_clip: -1.0 is not positive"),
        (setting("base", "sampler.m", 1), "m=1 leaves every anchor without a positive"),
        (setting("base", "train.weight_decay", float("nan")), "nan is not a finite number"),
        (setting("base", "train.max_failures", -1), "Ray reads a negative count as unlimited"),
        (setting("study", "trial_max_failures", -1), "study.trial_max_failures"),
        (setting("evaluation", "limit", -5), "evaluation.limit"),
    ],
    "search range with an invalid value inside": [
        (search("loss.tau", {"type": "choice", "values": [0.1, -1.0]}), "loss.tau (τ): -1.0 is not positive"),
        (search("sampler.m", {"type": "int", "low": 2, "high": 6}), "sampler.m"),
        (search("train.warmup_ratio", {"type": "uniform", "low": 0.5, "high": 1.5}), "train.warmup_ratio"),
    ],
    "data file not UTF-8, empty label, duplicate header, two tasks with one name": [
        (lambda s: with_goemotions_bytes(s, "train", b"caf\xe9\t3\tx9\n"), "is not UTF-8"),
        (csv_task([*TWO_CLASSES, "no label here,"]), "empty label in column 'label'"),
        (csv_task([r + ",x" for r in TWO_CLASSES], header="text,label,label"), "names column 'label' twice"),
        (same_stem_tasks, "are both named 'mine'"),
    ],
    "unsafe study name, empty path": [
        (lambda s: s.argv(None, None, "--name", "../escaped"), "is not a plain name"),
        (lambda s: s.argv(None, None, "--name", "a/b"), "is not a plain name"),
        (lambda s: s.argv(None, None, "--storage", ""), "--storage (or $RAYSWEEP_STORAGE) is empty"),
        (lambda s: s.argv(None, None, "--results-dir", " "), "--results-dir is empty"),
    ],
    "storage not writable": [
        (lambda s: s.argv(s.space(), None, "--storage", str(s.blocker / "runs")), "is not writable"),
    ],
}
# rows whose case needs a process of its own or a study on disk: tested where that exists
ELSEWHERE = {
    "`--address` with no cluster": "test_address_with_no_cluster_behind_it",
    "existing study without `--resume`": "tests/tune/test_resume.py",
    "output folder raysweep did not make": "tests/train/test_cli.py",
}


def test_every_readme_row_has_a_case() -> None:
    assert sorted(readme_rows()) == sorted([*CASES, *ELSEWHERE])
    assert "already exists" in (ROOT / ELSEWHERE["existing study without `--resume`"]).read_text()
    assert "raysweep did not make" in (ROOT / ELSEWHERE["output folder raysweep did not make"]).read_text()


def check_refused(out: str, err: str, code: int, fragment: str, tmp: Path) -> None:
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 2 and len(errors) == 1, (code, err[-2000:])
    assert fragment in errors[0] and "Traceback" not in err, errors[0]
    assert not (tmp / "results").exists() and not (tmp / "st" / "bad").exists()
    assert not (tmp / "escaped").exists() and not (tmp / "st" / "a").exists()


@pytest.mark.parametrize(
    ("row", "index"), [(row, i) for row, cases in CASES.items() for i in range(len(cases))], ids=lambda v: str(v)
)
def test_bad_input_row(row: str, index: int, request, tiny_bert: str, tiny_tasks_dir: Path, tmp_path: Path, capsys):
    build, fragment = CASES[row][index]
    setup = Setup(tmp_path, tiny_bert, tiny_tasks_dir)
    if row == "storage not writable":
        request.getfixturevalue("ray_local")  # the storage is probed on the cluster the study would use
        setup.blocker = tmp_path / "a-file"  # type: ignore[attr-defined]
        setup.blocker.write_text("a file, not a folder")
    argv = build(setup)
    capsys.readouterr()
    try:
        code = run_main(argv)
    except SystemExit as stop:  # what the CLI does on a user error
        code = stop.code
    captured = capsys.readouterr()
    check_refused(captured.out, captured.err, code, fragment, tmp_path)


def test_address_with_no_cluster_behind_it(tiny_bert: str, tiny_tasks_dir: Path, tmp_path: Path) -> None:
    setup = Setup(tmp_path, tiny_bert, tiny_tasks_dir)
    # port 1 on this machine: nothing listens, the connection is refused at once
    argv = [sys.executable, "-m", "raysweep.run", *setup.argv(), "--address", "127.0.0.1:1"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    check_refused(done.stdout, done.stderr, done.returncode, "--address 127.0.0.1:1: no Ray cluster answered", tmp_path)
    assert re.search(r"ray start --head", done.stderr)


def test_address_whose_host_does_not_resolve(tiny_bert: str, tiny_tasks_dir: Path, tmp_path: Path, capsys) -> None:
    setup = Setup(tmp_path, tiny_bert, tiny_tasks_dir)
    with pytest.raises(SystemExit) as stop:
        run_main([*setup.argv(), "--address", "no-such-host.invalid:6379"])
    captured = capsys.readouterr()
    check_refused(
        captured.out, captured.err, stop.value.code, "the host 'no-such-host.invalid' does not resolve", tmp_path
    )
