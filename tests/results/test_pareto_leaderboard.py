from __future__ import annotations

import pandas as pd

from raysweep.config import RetrofitConfig
from raysweep.results.leaderboard import build_leaderboard
from raysweep.results.pareto import pareto_front, pick
from raysweep.results.tables import comparison_markdown


def trial(tid: str, p1: float, drift: float, iters: int = 3, diverged: bool = False) -> dict:
    return {
        "trial_id": tid,
        "status": "TERMINATED",
        "config": {"loss.lam": 1.0},
        "result": {
            "dev_p_at_1": p1,
            "dev_delta_emb": drift,
            "training_iteration": iters,
            "diverged": 1.0 if diverged else 0.0,
        },
    }


def test_pareto_front_and_spread_picks() -> None:
    trials = [
        trial("a", 0.30, 0.10),
        trial("b", 0.35, 0.20),
        trial("c", 0.25, 0.05),
        trial("d", 0.28, 0.15),
        trial("e", 0.40, 0.50),
        trial("x", 0.99, 0.01, diverged=True),
        trial("s", 0.50, 0.01, iters=1),
    ]
    front = pareto_front([t for t in trials if t["trial_id"] != "s"], "dev_p_at_1")
    assert [t["trial_id"] for t in front] == ["c", "a", "b", "e"]  # d is dominated by a; x diverged
    assert [t["trial_id"] for t in pick(trials, "dev_p_at_1", 2, True)] == ["c", "e"]  # ends of the front
    # one pick: the knee, nearest (best P@1, least drift) once both are scaled to [0, 1] over the front:
    # c (0, 0) -> 1, a (1/3, 1/9) -> 0.457, b (2/3, 1/3) -> 0.222, e (1, 1) -> 1
    assert [t["trial_id"] for t in pick(trials, "dev_p_at_1", 1, True)] == ["b"]
    assert [t["trial_id"] for t in pick(trials, "dev_p_at_1", 1, False)] == ["e"]  # s stopped early by ASHA


def final(tid: str, method: str, seed: int, ami: float, config_id: str = "c0") -> dict:
    params = {"loss.lam": 2.0} if method in ("emo", "scl") else {}
    return {
        "trial_id": tid,
        "status": "TERMINATED",
        "error": None,
        "config": {"spec": {"method": method, "config_id": config_id, "params": params, "seed": seed}},
        "result": {"method": method, "ami": ami, "delta_emb": 0.1, "sst2_probe_f1": 0.8},
    }


def test_leaderboard_aggregates_seeds_and_marks_deltas() -> None:
    finals = [
        final("1", "emo", 0, 0.30),
        final("2", "emo", 1, 0.34),
        final("3", "plm", 0, 0.10, "base"),
        final("4", "tlearn", 0, 0.20, "base"),
        final("5", "tlearn", 1, 0.22, "base"),
    ]
    board = build_leaderboard(finals, RetrofitConfig())
    assert list(board["method"]) == ["emo", "tlearn", "plm"]
    emo = board.iloc[0]
    assert emo["ami_mean"] == 0.32 and round(emo["ami_std"], 6) == round(pd.Series([0.30, 0.34]).std(), 6)
    assert emo["lam"] == 2.0 and emo["seeds"] == "0;1" and emo["trial_ids"] == "1;2"
    assert board.iloc[2]["lam"] == "-" and board.iloc[2]["ami_std"] == 0.0
    md = comparison_markdown(board, "t")
    assert "| Δ vs PLM |" in md and "+0.220 |" in md and "no delta is tested" in md  # no p-values: no marker
    tested = build_leaderboard(finals, RetrofitConfig(), {("emo", "c0", "ami"): 0.001, ("tlearn", "base", "ami"): 0.2})
    assert tested.iloc[0]["ami_p"] == 0.001 and pd.isna(tested.iloc[2]["ami_p"])
    md = comparison_markdown(tested, "t")
    assert "+0.220*" in md and "+0.110 |" in md and "Holm" in md and "paired bootstrap" in md


def test_a_figure_only_one_seed_has_is_its_mean_without_a_spread() -> None:
    finals = [final(str(s), "emo", s, 0.30 + s / 100) for s in range(3)]
    finals[0]["result"]["sst2_finetune_f1"] = 0.81  # evaluation.finetune_seeds: 1
    board = build_leaderboard(finals + [final("p", "plm", 0, 0.1, "base")], RetrofitConfig())
    emo, plm = board.iloc[0], board.iloc[1]
    assert emo["sst2_finetune_f1_mean"] == 0.81 and pd.isna(emo["sst2_finetune_f1_std"])  # not a spread of 0
    assert emo["ami_std"] > 0 and plm["ami_std"] == 0.0  # every seed: its spread; one run: 0
    assert "0.810 |" in comparison_markdown(board, "t") and "0.810 ±" not in comparison_markdown(board, "t")
