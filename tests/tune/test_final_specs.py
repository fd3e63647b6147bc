"""The plan of final runs: picks per searched model, every baseline per model with its pick's training
settings (equal budgets), SCL for every pick, MTL per task, PLM once; and choices on dev only."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from raysweep.results.pareto import pick_per_model
from raysweep.results.writer import export_best
from raysweep.tune.space import load_space
from raysweep.tune.study import final_specs

BERT, ROBERTA = "bert-base-uncased", "roberta-base"


def test_two_searched_models_each_get_their_own_baselines() -> None:
    space = load_space("full")
    picks = [
        {"model.name": BERT, "train.lr": 3e-5, "loss.lam": 1.0, "sampler.batch_size": 64},
        {"model.name": ROBERTA, "train.lr": 2e-5, "loss.lam": 2.0, "sampler.batch_size": 64},
    ]
    specs = final_specs(space, picks)
    runs = {(s["method"], s["config_id"], s["params"].get("model.name")) for s in specs}
    for method in ("tlearn", "plm", *(f"mtl:{t}" for t in space.evaluation.downstream)):
        assert (method, "base0", BERT) in runs and (method, "base1", ROBERTA) in runs, method
    assert ("scl", "c0", BERT) in runs and ("scl", "c1", ROBERTA) in runs  # SCL for every pick
    tlearn = next(s for s in specs if s["method"] == "tlearn" and s["config_id"] == "base1")
    assert tlearn["params"] == {"model.name": ROBERTA, "train.lr": 2e-5, "sampler.batch_size": 64}
    plm = [s for s in specs if s["method"] == "plm"]
    assert len(plm) == 2 and all(s["params"].keys() == {"model.name"} and s["seed"] == 0 for s in plm)
    assert len({(s["method"], s["config_id"], s["seed"]) for s in specs}) == len(specs)  # unique model folders


def test_a_finished_pick_trial_travels_with_its_picks_runs_only() -> None:
    space = load_space("smoke")
    picks = [{"loss.lam": 1.0, "train.max_steps": 40}, {"loss.lam": 2.0, "train.max_steps": 40}]
    specs = final_specs(space, picks, ["t0", None])  # pick 1's trial was stopped by ASHA
    reuse = {(s["method"], s["config_id"], s["seed"]): s["reuse"] for s in specs}
    assert {k: v for k, v in reuse.items() if v is not None} == {
        ("emo", "c0", s): "t0" for s in range(space.study.seeds)
    }
    assert all(v is None for (m, _, _), v in reuse.items() if m != "emo")  # baselines train their own runs
    assert final_specs(space, picks) == final_specs(space, picks, [None, None])


def test_baseline_seeds_applies_to_the_baselines_that_do_not_re_run_a_pick() -> None:
    space = load_space("smoke")
    study = dataclasses.replace(space.study, seeds=3, baseline_seeds=2, baselines=["plm", "scl", "tlearn", "mtl"])
    space = dataclasses.replace(space, study=study)
    specs = final_specs(space, [{"loss.lam": 1.0}, {"loss.lam": 2.0}])
    seeds: dict[tuple[str, str], set[int]] = {}
    for s in specs:
        seeds.setdefault((s["method"].split(":")[0], s["config_id"]), set()).add(s["seed"])
    for method in ("emo", "scl"):  # the method and its ablation: every seed, for every pick
        assert seeds[(method, "c0")] == seeds[(method, "c1")] == {0, 1, 2}
    assert seeds[("tlearn", "base")] == seeds[("mtl", "base")] == {0, 1}
    assert seeds[("plm", "base")] == {0}  # untrained: scored once
    assert "tlearn, mtl x 2 seeds" in space.describe() and "scl x 3 seeds" in space.describe()


def trial(tid: str, model: str, ami: float, drift: float) -> dict:
    result = {"dev_ami": ami, "dev_delta_emb": drift, "training_iteration": 3}
    return {"trial_id": tid, "status": "TERMINATED", "config": {"model.name": model}, "result": result, "error": None}


def test_picks_are_made_per_model() -> None:
    search = [trial("a", BERT, 0.3, 0.1), trial("b", BERT, 0.2, 0.3), trial("c", ROBERTA, 0.1, 0.2)]
    picked = pick_per_model(search, "dev_ami", 1, multi_objective=False)
    assert [t["trial_id"] for t in picked] == ["a", "c"]


def final(config_id: str, seed: int, dev: float, test: float, folder: Path) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "raysweep.json").write_text("{}")
    (folder / "which").write_text(folder.name)
    result = {"method": "emo", "config_id": config_id, "seed": seed, "model_dir": str(folder)}
    result.update({"dev_ami": dev, "ami": test})
    spec = {"method": "emo", "config_id": config_id, "params": {}, "seed": seed}
    return {"trial_id": f"{config_id}{seed}", "status": "TERMINATED", "config": {"spec": spec}, "result": result}


def test_the_best_model_is_chosen_on_dev_and_poisoned_test_figures_change_nothing(tmp_path: Path) -> None:
    finals = [
        final("c0", 0, 0.30, 0.20, tmp_path / "m" / "c0-0"),
        final("c0", 1, 0.32, 0.21, tmp_path / "m" / "c0-1"),
        final("c1", 0, 0.20, 0.40, tmp_path / "m" / "c1-0"),
    ]
    best = export_best(finals, tmp_path / "results", "dev_ami")
    assert best is not None and (best / "raysweep.json").is_file()
    chosen = {p.name for p in (tmp_path / "results").iterdir()}
    for t in finals:  # extreme test figures everywhere
        t["result"]["ami"] = 1e9 if t["result"]["config_id"] == "c1" else -1e9
    export_best(finals, tmp_path / "again", "dev_ami")
    assert {p.name for p in (tmp_path / "again").iterdir()} == chosen
    # the exported model is c0's lowest seed (best mean dev AMI), whatever the test split says
    assert (tmp_path / "again" / "best_model" / "which").read_text() == "c0-0"
    assert (tmp_path / "results" / "best_model" / "which").read_text() == "c0-0"
    search = [trial("x", BERT, 0.3, 0.1), trial("y", BERT, 0.25, 0.05)]
    before = [t["trial_id"] for t in pick_per_model(search, "dev_ami", 2, True)]
    for t in search:
        t["result"]["ami"] = 1e9
    assert [t["trial_id"] for t in pick_per_model(search, "dev_ami", 2, True)] == before


def test_plm_is_also_read_out_in_the_pooling_its_model_declares() -> None:
    space = load_space("smoke", {"base": {"model": {"name": "minilm", "pooling": "cls"}}})
    methods = [s["method"] for s in final_specs(space, [{"loss.lam": 1.0}])]
    assert "plm" in methods and "plm:mean" in methods  # the method's pooling and MiniLM's own
    native = load_space("smoke")  # already mean: one PLM row
    assert [s["method"] for s in final_specs(native, [{"loss.lam": 1.0}])].count("plm:mean") == 0


def test_scl_from_lambda_zero_runs_scl_once_on_the_searchs_own_lambda_zero_point() -> None:
    space = load_space("cpu")
    assert space.study.scl_from == "lambda_zero"
    picks = [{"loss.lam": 0.4, "loss.tau": 0.2}, {"loss.lam": 0.02, "loss.tau": 0.04}]
    specs = final_specs(space, picks, ["t3", "t5"], "t0")
    scl = [s for s in specs if s["method"] == "scl"]
    assert {s["config_id"] for s in scl} == {"l0"} and sorted(s["seed"] for s in scl) == [0, 1, 2]
    assert all(s["params"] == space.lambda_zero_point() and s["reuse"] == "t0" for s in scl)
    assert space.lambda_zero_point()["loss.lam"] == 0.0
    emo = [s for s in specs if s["method"] == "emo"]
    assert {(s["config_id"], s["reuse"]) for s in emo} == {("c0", "t3"), ("c1", "t5")} and len(emo) == 6
    assert all(s["reuse"] is None for s in final_specs(space, picks) if s["method"] == "scl")  # λ = 0 was stopped
    per_pick = dataclasses.replace(space, study=dataclasses.replace(space.study, scl_from="picks"))
    assert {s["config_id"] for s in final_specs(per_pick, picks) if s["method"] == "scl"} == {"c0", "c1"}
