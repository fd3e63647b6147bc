"""A tiny real study run as a user runs it (``python -m raysweep.run`` in its own process, so its own
local Ray cluster and the default console), then read back from its own files: the console is a few
lines per trial with no transformers load report, no Ray trial table and no line twice; the closing
summary's figures are the leaderboard's; every trial's TensorBoard event file is in the study's
storage; ``optuna.db`` holds the search's trials with both objectives and their reported values;
and ``--tracking mlflow`` logged every trial to ``results/NAME/mlflow.db``."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import task_fixtures
from tiny_study import final_results, tiny_space

tiny_tasks_dir = pytest.fixture(scope="session")(task_fixtures.tiny_tasks_dir)

NAME = "tiny-console"
SEARCH_TRIALS = 3
PER_TRIAL = 6
"""Console lines a trial may take: started, a line per report (2 here), its end, the study line."""
FIXED = 50
"""Lines of the study itself: the space and resource plan, data preparation, the plain loop's rate,
picks, summary, goodput, paths."""
FIGURE = re.compile(r"(\w+) (-?[\d.]+(?:e[-+]?\d+)?)")


@dataclass
class Study:
    stdout: str
    stderr: str
    storage: Path
    results: Path

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()


@pytest.fixture(scope="module")
def study(tiny_bert: str, tiny_tasks_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Study:
    tmp = tmp_path_factory.mktemp("console")
    space = tiny_space(
        tmp,
        tiny_bert,
        num_samples=SEARCH_TRIALS,
        seeds=1,
        baselines=("plm",),
        tasks=("emotion", "drift", "sst2"),
        cpu_workers="merge",  # as a user's study on one CPU machine: one worker of 2 CPUs per run
    )
    storage, results = tmp / "st", tmp / "res"
    argv = ["--space", str(space), "--name", NAME, "--storage", str(storage), "--results-dir", str(results)]
    argv += ["--data-dir", str(tiny_tasks_dir), "--tracking", "mlflow"]
    for _ in range(3):  # Ray gives a local node 30 s to start: a loaded machine can miss that
        done = subprocess.run(
            [sys.executable, "-m", "raysweep.run", *argv], capture_output=True, text=True, timeout=1500, check=False
        )
        if "timed out during startup" not in done.stderr:
            break
    print(done.stdout)  # the whole console, for the record (pytest -s shows it)
    print(done.stderr, file=sys.stderr)
    assert done.returncode == 0, done.stderr[-4000:]
    return Study(done.stdout, done.stderr, storage / NAME, results)


def test_verbose_is_off_by_default_and_counts() -> None:
    from raysweep.run import parse_args

    assert parse_args([]).verbose == 0 and parse_args(["--verbose"]).verbose == 1 and parse_args(["-vv"]).verbose == 2
    assert parse_args([]).tracking is None and parse_args(["--tracking", "mlflow"]).tracking == "mlflow"


def finals(study: Study) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((study.results / NAME / "models").glob("*/evaluation.json"))]


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_the_console_is_a_few_lines_per_trial(study: Study) -> None:
    trials = SEARCH_TRIALS + len(finals(study))
    assert len(study.lines) <= FIXED + PER_TRIAL * trials, study.stdout
    everything = study.stdout + study.stderr
    assert "LOAD REPORT" not in everything  # transformers' per-process report
    for table in ("Trial status", "Trial name", "Configuration for experiment", "View detailed results"):
        assert table not in everything  # Ray Tune's tables and headers (--verbose)
    ours = [line for line in study.lines if line.startswith("[raysweep]")]
    assert len(ours) == len(set(ours)), ours  # no line twice
    events = [line for line in study.lines if re.match(r"\[(search|final) \d+/\d+\] ", line)]
    assert sum(" started" in line for line in events) == trials
    assert sum(line.startswith("[search") and " started" in line for line in events) == SEARCH_TRIALS
    assert f"[search] {SEARCH_TRIALS} of {SEARCH_TRIALS} trials done" in study.stdout
    assert (study.results / NAME / "ray-logs").is_dir()  # the full Ray logs stay with the study
    assert any((study.results / NAME / "ray-logs").glob("session_*/worker-*.out"))


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_every_summary_figure_is_the_leaderboards(study: Study) -> None:
    board = pd.read_csv(study.results / "leaderboard.csv")
    summary = [line for line in study.lines if line.startswith("[summary] ")]
    assert len(summary) == len(board)
    checked = 0
    for line, (_, row) in zip(summary, board.iterrows(), strict=True):
        assert line.startswith(f"[summary] {row['method']} {row['config_id']} ")
        for key, mean, std in re.findall(r"(\w+) (-?[\d.e+-]+) ± (-?[\d.e+-]+)", line.split(": ", 1)[1]):
            assert float(mean) == float(f"{row[f'{key}_mean']:.3g}"), (line, key)
            assert float(std) == float(f"{row[f'{key}_std']:.2g}"), (line, key)
            checked += 1
    assert checked == 4 * len(board)
    # a final run of one seed: its console line's test figures are the leaderboard's too
    plm = board[board["method"] == "plm"].iloc[0]
    (line,) = [x for x in study.lines if x.startswith("[final ") and " plm " in x and " finished: " in x]
    figures = dict(FIGURE.findall(line.split(" finished: ", 1)[1]))
    assert {"ami", "p_at_1", "delta_emb"} <= set(figures)
    for key, value in figures.items():
        assert float(value) == float(f"{plm[f'{key}_mean']:.3g}"), (line, key)


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_the_study_records_and_prints_its_goodput(study: Study) -> None:
    record = json.loads((study.results / NAME / "study.json").read_text())
    goodput, timings = record["goodput"], record["timings"]
    assert goodput["plain_loop"]["samples_per_s"] == goodput["plain_samples_per_s"] > 0
    for phase, wall in (("prepare", "prepare_s"), ("search", "search_s"), ("finals", "finals_s")):
        entry = goodput[phase]
        assert entry["wall_s"] == pytest.approx(timings[wall], abs=1e-3)
        parts = entry["core_seconds"]  # parts that add up to the cluster's core-seconds of the phase
        assert sum(parts.values()) == pytest.approx(entry["wall_s"] * goodput["cores"], rel=1e-3)
        expected = entry["samples"] / (goodput["plain_samples_per_s"] * entry["wall_s"])
        assert entry["goodput"] == pytest.approx(expected, rel=1e-3)
    trials = pd.read_csv(study.results / "trials.csv")
    assert goodput["search"]["samples"] == (trials["step"] * 24).sum()  # every search step's global batch
    # the finals' samples are those of the final runs that trained; a pick's search trial that ran to its
    # end is its seed-0 final (reused_run), its samples counted once, in the search
    runs = list(final_results(study.storage).values())
    trained = sum(r.get("train_samples", 0.0) for r in runs if not r.get("reused_run"))
    reused = sum(r["train_samples"] for r in runs if r.get("reused_run"))
    assert goodput["finals"]["samples"] == pytest.approx(trained)
    board = pd.read_csv(study.results / "leaderboard.csv")
    models = board[board["method"] != "plm"]
    assert (models["train_samples_mean"] * models["n_seeds"]).sum() == pytest.approx(trained + reused)
    assert goodput["prepare"]["samples"] == 0 and goodput["search"]["core_seconds"]["steps"] > 0
    assert goodput["finals"]["core_seconds"]["embedding"] > 0 and goodput["finals"]["core_seconds"]["metrics"] > 0
    assert goodput["search"]["core_seconds"]["startup"] > 0
    (plan,) = [x for x in study.lines if x.startswith("cluster: ")]
    assert "x 1 worker(s) x (1.99 CPU) (2 CPU workers merged into one" in plan, plan
    assert goodput["cores"] == 2 and sum(goodput["search"]["core_seconds"].values()) > 0
    speed = goodput["run_vs_plain"]["search"]
    assert speed["runs"] == SEARCH_TRIALS and 0 < speed["min"] <= speed["median"] <= speed["max"]
    (line,) = [x for x in study.lines if x.startswith("[raysweep]   search: ")]
    assert line.startswith(f"[raysweep]   search: {goodput['search']['goodput']:.1%} ")


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_every_trial_has_tensorboard_events_in_the_study_storage(study: Study) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    for phase, count in (("search", SEARCH_TRIALS), ("final", len(finals(study)))):
        folders = sorted(p.parent for p in (study.storage / phase).glob("*/params.json"))
        assert len(folders) == count, folders
        for folder in folders:
            progress = pd.read_csv(folder / "progress.csv")
            (events,) = folder.glob("events.out.tfevents.*")
            scalars = EventAccumulator(str(events)).Reload()
            tag = "ray/tune/dev_p_at_1" if phase == "search" else "ray/tune/p_at_1"
            column = tag.rsplit("/", 1)[1]
            logged = [e.value for e in scalars.Scalars(tag)]
            assert logged == pytest.approx(progress[column].tolist(), rel=1e-6), folder


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_optuna_db_holds_the_search_with_both_objectives(study: Study) -> None:
    import optuna

    loaded = optuna.load_study(study_name=NAME, storage=f"sqlite:///{study.results / NAME / 'optuna.db'}")
    assert loaded.directions == [optuna.study.StudyDirection.MAXIMIZE, optuna.study.StudyDirection.MINIMIZE]
    trials = pd.read_csv(study.results / "trials.csv")  # figures as reported, to 6 significant digits
    inside = trials[trials["param:loss.lam"] >= 0.1]  # the λ = 0 anchor runs outside Optuna's space
    assert len(loaded.trials) == len(inside) == SEARCH_TRIALS - 1
    for trial in loaded.trials:  # each trial's two values are its search trial's reported figures
        (row,) = [
            r for _, r in inside.iterrows() if r["param:loss.lam"] == pytest.approx(trial.params["loss.lam"], rel=1e-5)
        ]
        assert row["param:loss.tau"] == pytest.approx(trial.params["loss.tau"], rel=1e-5)
        if trial.state == optuna.trial.TrialState.COMPLETE:
            assert trial.values == pytest.approx([row["dev_p_at_1"], row["dev_delta_emb"]], rel=1e-5)
        else:  # stopped early (PRUNED): the values it had reached
            partial = trial.user_attrs["partial_values"]
            assert [partial["dev_p_at_1"], partial["dev_delta_emb"]] == pytest.approx(
                [row["dev_p_at_1"], row["dev_delta_emb"]], rel=1e-5
            )


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_mlflow_tracking_logged_every_trial(study: Study) -> None:
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{study.results / NAME / 'mlflow.db'}")
    experiment = client.get_experiment_by_name(NAME)
    runs = client.search_runs([experiment.experiment_id])
    phases = sorted(run.data.tags["raysweep.phase"] for run in runs)
    assert phases == ["final"] * len(finals(study)) + ["search"] * SEARCH_TRIALS
    assert all(run.info.status == "FINISHED" for run in runs)
    trials = pd.read_csv(study.results / "trials.csv")
    searched = sorted(run.data.metrics["dev_p_at_1"] for run in runs if run.data.tags["raysweep.phase"] == "search")
    assert searched == pytest.approx(sorted(trials["dev_p_at_1"]), rel=1e-5)  # trials.csv: 6 digits
