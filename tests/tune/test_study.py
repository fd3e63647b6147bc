"""End to end: a real 3-trial study (Ray Tune + Optuna NSGA-II + ASHA, 2 Train workers per trial) on
tiny local models, then seed re-runs, every baseline, evaluation and the results files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import task_fixtures
from tiny_study import tiny_space

from raysweep.run import main as run_main

tiny_tasks_dir = pytest.fixture(scope="session")(task_fixtures.tiny_tasks_dir)


@pytest.mark.slow
@pytest.mark.timeout(1800)  # 12 runs with evaluation, then a rebuild: about 14 minutes on 2 cores
def test_study_end_to_end(ray_local, tiny_bert: str, tiny_tasks_dir: Path, tmp_path: Path) -> None:
    results = tmp_path / "results"
    args = [
        "--space",
        str(tiny_space(tmp_path, tiny_bert)),
        "--name",
        "tiny-e2e",
        "--storage",
        str(tmp_path / "st"),
        "--results-dir",
        str(results),
        "--data-dir",
        str(tiny_tasks_dir),
    ]
    assert run_main(args) == 0

    board = pd.read_csv(results / "leaderboard.csv")
    assert sorted(board["method"]) == ["emo", "mtl:irony", "plm", "scl", "tlearn"]
    shown = [c for c in board.columns if not c.endswith(("_p", "_collapsed")) and not c.startswith("train_samples")]
    figures = board[shown]  # every test figure (PLM trains nothing: no train_samples)
    assert not figures.isna().any().any(), figures.columns[figures.isna().any()].tolist()  # every figure filled
    for col in (
        "ami_mean",
        "ari_mean",
        "fms_mean",
        "mrr_mean",
        "p_at_1_mean",
        "map_at_r_mean",
        "delta_emb_mean",
        "sst2_probe_f1_mean",
        "irony_fewshot_k8_f1_mean",
        "isarcasm_probe_f1_std",
        "trial_ids",
    ):
        assert col in board.columns
    emo = board[board["method"] == "emo"].iloc[0]
    assert emo["n_seeds"] == 2 and emo["seeds"] == "0;1"
    assert board.loc[board["method"] == "plm", "delta_emb_mean"].iloc[0] == pytest.approx(0.0, abs=1e-6)
    assert board.loc[board["method"] == "scl", "lam"].iloc[0] == "0.0"
    # paired evaluation: every method and training seed (PLM included) scored on the study's draws
    models = sorted((results / "tiny-e2e" / "models").iterdir())
    evaluations = [json.loads((m / "evaluation.json").read_text()) for m in models]
    assert len(evaluations) == 9 and all((m / "evaluation.npz").is_file() for m in models)
    assert {e["draw_seed"] for e in evaluations} == {0} and {e["seed"] for e in evaluations} == {0, 1}
    assert (
        all(e["draws"] == evaluations[0]["draws"] for e in evaluations) and "irony/fewshot" in evaluations[0]["draws"]
    )

    trials = pd.read_csv(results / "trials.csv")
    assert len(trials) == 3 and trials["pareto"].any()
    comparison = (results / "comparison.md").read_text()
    assert "Δ vs PLM" in comparison and "TLearn" in comparison and "MTL" in comparison
    for png in ("pareto.png", "lambda_tau.png"):
        assert (results / png).stat().st_size > 1000
    assert (results / "tiny-e2e" / "optuna.db").is_file()
    assert (results / "best_model" / "config.json").is_file()
    study = json.loads((results / "tiny-e2e" / "study.json").read_text())
    assert study["search_trials"] == 3 and study["final_runs"] == 2 * 4 + 1
    # Emo's seed-0 run is its pick's search trial when that trial ran to its end (same config and seed):
    # exported, not trained again, with the trial's own dev figures
    from raysweep.results.records import load_trials
    from raysweep.train.finished_run import ran_to_end

    search = {t["trial_id"]: t for t in load_trials(str(tmp_path / "st" / "tiny-e2e" / "search"))}
    (picked,) = study["picked_trials"]
    finals = load_trials(str(tmp_path / "st" / "tiny-e2e" / "final"))
    # final trials reuse their process (Tune's reuse_actors): at most one per concurrent slot, 2 CPUs
    processes = {t["result"]["pid"] for t in finals}
    assert len(finals) == 9 and 1 <= len(processes) <= 2, processes
    emo0 = next(t for t in finals if t["config"]["spec"]["method"] == "emo" and t["config"]["spec"]["seed"] == 0)
    if ran_to_end(search[picked]["result"]):
        assert emo0["result"]["reused_run"] == f"search-{picked}"
        assert emo0["result"]["dev_p_at_1"] == pytest.approx(search[picked]["result"]["dev_p_at_1"], abs=1e-9)
        assert not any(
            p.name.startswith("final-") and p.name.endswith(emo0["trial_id"])
            for p in (tmp_path / "st" / "tiny-e2e").iterdir()
        )
    else:
        assert "reused_run" not in emo0["result"]
    before = (results / "leaderboard.csv").read_bytes()

    # the results module rebuilds the same tables from the storage alone
    from raysweep.results.__main__ import main as results_main

    rebuilt = tmp_path / "rebuilt"
    assert results_main(["--storage", str(tmp_path / "st"), "--name", "tiny-e2e", "--results-dir", str(rebuilt)]) == 0
    assert (rebuilt / "leaderboard.csv").read_bytes() == before
