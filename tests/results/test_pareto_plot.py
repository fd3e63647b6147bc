"""pareto.png carries the full-fidelity front's hypervolume and its reference point, the numbers
``study.json`` records (``front``); the importance plot says what it rests on (complete trials)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import optuna
import pytest

from raysweep.results.plots import importance_figure, importance_plot, pareto_figure, pareto_plot
from raysweep.results.writer import front_quality


def trial(tid: str, ami: float, drift: float, step: int = 120, lam: float = 1.0) -> dict:
    return {
        "trial_id": tid,
        "status": "TERMINATED",
        "config": {"loss.lam": lam, "train.max_steps": 120},
        "result": {"dev_ami": ami, "dev_delta_emb": drift, "step": step},
        "error": None,
    }


def test_the_plot_carries_the_hypervolume_of_study_json(tmp_path: Path) -> None:
    trials = [trial("z", 0.31, 0.12, lam=0.0), trial("a", 0.3, 0.1), trial("b", 0.2, 0.05), trial("c", 0.35, 0.3, 80)]
    (tmp_path / "plm_dev.json").write_text(json.dumps({"dev_ami": 0.1}))
    quality = front_quality(trials, "dev_ami", tmp_path / "plm_dev.json")
    recorded = json.loads(json.dumps({"front": quality}))["front"]  # as study.json holds it
    assert recorded["hypervolume"] == pytest.approx(0.05 * 0.1 + 0.02 * 0.2 + 0.0)  # b, a, z's box is empty

    fig = pareto_figure(trials, "dev_ami", recorded)
    title = fig.axes[0].get_title()
    shown = float(re.search(r"hypervolume (\S+) over 3 full-fidelity trials", title).group(1))
    assert shown == recorded["hypervolume"]  # the same number, not a rounding of it
    assert "reference (dev_ami 0.1, Δemb 0.12)" in title
    (marker,) = [line for line in fig.axes[0].lines if line.get_label() == "hypervolume reference"]
    assert (list(marker.get_xdata()), list(marker.get_ydata())) == ([0.12], [0.1])

    assert "hypervolume" not in pareto_figure(trials, "dev_ami").axes[0].get_title()  # no front recorded
    path = pareto_plot(trials, "dev_ami", tmp_path / "pareto.png", recorded)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_importance_rests_on_complete_trials_and_says_so(tmp_path: Path) -> None:
    db = tmp_path / "optuna.db"
    study = optuna.create_study(
        study_name="s", storage=f"sqlite:///{db}", directions=["maximize", "minimize"],
        sampler=optuna.samplers.RandomSampler(seed=0),
    )  # fmt: skip
    for i in range(24):
        t = study.ask()
        lam, tau = t.suggest_float("loss.lam", 0.1, 20, log=True), t.suggest_float("loss.tau", 0.03, 0.5, log=True)
        if i % 4 == 3:
            study.tell(t, None, state=optuna.trial.TrialState.PRUNED)
        else:
            study.tell(t, [0.3 - 0.01 * lam + 0.001 * tau, 0.1 / (1 + lam)])
    fig = importance_figure(db, "s")
    assert fig._suptitle.get_text() == "Parameter importance over 18 complete trials (6 pruned left out)"
    assert [ax.get_xlabel() for ax in fig.axes] == [
        "importance (fANOVA) for the emotion metric",
        "importance (fANOVA) for the Δemb",
    ]
    lam_bar = {
        label.get_text(): bar.get_width()
        for label, bar in zip(fig.axes[1].get_yticklabels(), fig.axes[1].patches, strict=True)
    }
    assert lam_bar["loss.lam"] > lam_bar["loss.tau"]  # Δemb depends on λ alone
    assert importance_plot(db, "s", tmp_path / "importance.png").is_file()
    assert importance_figure(tmp_path / "none.db", "s") is None
