"""``--tracking``: the option -> Tune callback registry, refused at parse time with one ``error:``
line, and MLflow through Ray Tune's own ``MLflowLoggerCallback`` to the study folder's store, read
back with MLflow's client (offline: a local sqlite store)."""

from __future__ import annotations

from pathlib import Path

import pytest

from raysweep.errors import RaysweepError
from raysweep.run import main as run_main
from raysweep.tune.tracking import TRACKERS, Tracking, default_mlflow_uri, parse_tracking


def test_parse_tracking_kinds_and_uris() -> None:
    assert parse_tracking(None) is None
    assert set(TRACKERS) == {"mlflow"}
    pytest.importorskip("mlflow")
    assert parse_tracking("mlflow") == Tracking("mlflow", None)
    assert parse_tracking("mlflow:http://10.0.0.1:5000") == Tracking("mlflow", "http://10.0.0.1:5000")
    assert parse_tracking("mlflow:sqlite:////tmp/x.db") == Tracking("mlflow", "sqlite:////tmp/x.db")


@pytest.mark.parametrize(
    ("value", "fragment"),
    [("wandb", "unknown tracker 'wandb'; choose from mlflow"), ("mlflow:", "empty URI"), ("", "unknown tracker ''")],
)
def test_bad_tracking_is_refused(value: str, fragment: str) -> None:
    with pytest.raises(RaysweepError, match=fragment):
        parse_tracking(value)


def test_bad_tracking_on_the_command_line_is_one_error_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stop:
        run_main(["--space", "smoke", "--tracking", "tensorboardz", "--storage", str(tmp_path), "--dry-run"])
    err = capsys.readouterr().err
    assert stop.value.code == 2
    assert err.splitlines() == ["error: --tracking 'tensorboardz': unknown tracker 'tensorboardz'; choose from mlflow"]


def test_a_missing_tracker_package_names_its_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(RaysweepError, match=r"pip install 'raysweep\[mlflow\]'"):
        parse_tracking("mlflow")


class FakeTrial:
    """What MLflowLoggerCallback reads of a trial: its name (str), config; hashable like Tune's."""

    def __init__(self, name: str, config: dict) -> None:
        self.name, self.config, self.local_path = name, config, None

    def __str__(self) -> str:
        return self.name


def test_mlflow_runs_logged_through_tunes_callback_read_back(tmp_path: Path) -> None:
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient
    from ray.air.integrations.mlflow import MLflowLoggerCallback

    (callback,) = parse_tracking("mlflow").callbacks(tmp_path, "tiny-study", "search")
    assert isinstance(callback, MLflowLoggerCallback)
    callback.setup()
    trial = FakeTrial("search_trial_abc", {"loss.lam": 2.5, "model.head": "mlp"})
    callback.log_trial_start(trial)
    for iteration, (p1, drift) in enumerate([(0.25, 0.01), (0.5, 0.02)], start=1):
        result = {"training_iteration": iteration, "dev_p_at_1": p1, "dev_delta_emb": drift}
        callback.log_trial_result(iteration, trial, result)
    callback.log_trial_end(trial)

    assert (tmp_path / "mlflow.db").is_file()  # the study folder's own store
    client = MlflowClient(tracking_uri=default_mlflow_uri(tmp_path))
    experiment = client.get_experiment_by_name("tiny-study")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED" and run.info.run_name == "search_trial_abc"
    assert run.data.tags["raysweep.phase"] == "search" and run.data.tags["raysweep.study"] == "tiny-study"
    assert run.data.params == {"loss.lam": "2.5", "model.head": "mlp"}
    assert run.data.metrics["dev_p_at_1"] == 0.5 and run.data.metrics["dev_delta_emb"] == 0.02
    history = client.get_metric_history(run.info.run_id, "dev_p_at_1")
    assert [(m.step, m.value) for m in history] == [(1, 0.25), (2, 0.5)]
