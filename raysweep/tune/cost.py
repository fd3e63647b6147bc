"""What a study will cost before it runs: the work of its plan in training FLOPs (search trials, every
final run, evaluation and fine-tuning) and, at a stated GPU throughput, its GPU-hours and wall time on
1, 8 and 32 GPUs. ``python -m raysweep.run --space full --dry-run`` prints it.

Neither Ray Tune nor Optuna prices a plan (they schedule trials as they come), so this is raysweep's
own arithmetic, kept to what the plan fixes and with every assumption named in the printout:

- FLOPs per trained token ``6 N + 12 L H S`` (``N`` the encoder's non-embedding parameters, ``L`` layers,
  ``H`` width, ``S`` tokens per text), per embedded token a third of that; the same count
  ``bench/gpu_step.py`` reports its MFU with. Emo's dropout-free VSP pass doubles its step
  (``loss.vsp_dropout: pass``); MTL trains an emotion and a task batch per step.
- ``S`` is half of ``max_length`` (batches are padded to their longest text; GoEmotions comments are
  short), the encoder's shape from :data:`MODEL_SHAPES` or its local config.
- The search under (Pareto-)ASHA: every trial trains to the first rung, ``1 / reduction_factor`` of
  them on to each next rung, up to full fidelity; wall time is the larger of the work spread over the
  GPUs and one full-length trial. The final runs (training and evaluation) are packed longest first
  onto the GPUs, one run per GPU.
- Each run also pays :data:`STARTUP_S` to start; dev evaluations (dev rows and drift texts, every
  ``eval_every`` steps) are counted with the training.
- Throughput: the bf16 TFLOP/s that ``bench/gpu_step.py`` measured (``bench/results/gpu_step.json``)
  when that file is there, else :data:`ASSUMED_MFU` of an H100/H200's dense bf16 peak.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

MODEL_SHAPES: dict[str, tuple[int, int, int]] = {
    "bert-base-uncased": (12, 768, 3072),
    "bert-base-cased": (12, 768, 3072),
    "roberta-base": (12, 768, 3072),
    "bert-large-uncased": (24, 1024, 4096),
    "roberta-large": (24, 1024, 4096),
    "minilm": (6, 384, 1536),
    "sentence-transformers/all-MiniLM-L6-v2": (6, 384, 1536),
}
"""(layers, hidden size, intermediate size) of the models a space names most often, so a dry run needs
no hub access for them."""
PEAK_BF16_TFLOPS = 989.0
"""Dense bf16 peak of an H100 SXM / H200 (the card the estimate assumes without a measurement)."""
ASSUMED_MFU = 0.15
"""Model FLOP utilisation assumed without a measurement: a base-size encoder at batch 64-96 on short
texts keeps an H100 far from its peak (kernels too small to fill it), so half of the ~30 % that large
language-model training reaches."""
GOEMOTIONS_TRAIN = 36_308
"""Single-label GoEmotions training rows (``../shared/data/README.md``), when ``data.train_limit`` is unset."""
GOEMOTIONS_DEV = 4_548
STARTUP_S = 30.0
"""Assumed start to first step of a Train run on a GPU node (controller, worker group, model load)."""
EVAL_TEXTS = {"emotion": 4_590, "sst2": 67_349 + 872, "isarcasm": 3_467 + 1_400, "irony": 2_862 + 955 + 784}
"""Texts each evaluation task embeds (GoEmotions' single-label test; a task's train and test rows)."""
FINETUNE_ROWS = {"sst2": 67_349, "isarcasm": 3_467, "irony": 2_862}
GPU_COUNTS = (1, 8, 32)
MEASURED = Path(__file__).resolve().parents[2] / "bench" / "results" / "gpu_step.json"


def model_shape(name: str) -> tuple[int, int, int] | None:
    """(layers, hidden, intermediate) of model ``name``: :data:`MODEL_SHAPES`, else its config if it
    is on this machine (a folder or the hub cache); None when neither knows it."""
    if name in MODEL_SHAPES:
        return MODEL_SHAPES[name]
    try:
        from transformers import AutoConfig

        cfg = AutoConfig.from_pretrained(name, local_files_only=True)
        return int(cfg.num_hidden_layers), int(cfg.hidden_size), int(cfg.intermediate_size)
    except Exception:  # not local: the estimate says so
        return None


def flops_per_token(shape: tuple[int, int, int], seq: int) -> float:
    """Training FLOPs per token (forward + backward): ``6 N + 12 L H S``, ``N = L (4 H^2 + 2 H I)``."""
    layers, hidden, inter = shape
    params = layers * (4 * hidden * hidden + 2 * hidden * inter)
    return 6.0 * params + 12.0 * layers * hidden * seq


def search_steps(trials: int, grace: int, full: int, factor: float) -> int:
    """Steps the whole search trains: all ``trials`` to the first rung (``grace`` steps), ``1 / factor``
    of them on to each next rung, full fidelity ``full`` steps."""
    total, reached, alive, rung = 0, 0, float(trials), grace
    while True:
        stop = min(rung, full)
        total += math.ceil(alive) * (stop - reached)
        if stop >= full:
            return total
        reached, alive, rung = stop, max(alive / factor, 1.0), rung * factor


def throughput_tflops(measured: Path = MEASURED) -> tuple[float, str]:
    """Achieved bf16 TFLOP/s per GPU and where the figure comes from."""
    try:
        found = json.loads(measured.read_text())
        return float(found["bf16"]["achieved_tflops"]), f"measured by bench/gpu_step.py on {found['device']}"
    except (OSError, ValueError, KeyError, TypeError):
        tflops = ASSUMED_MFU * PEAK_BF16_TFLOPS
        return tflops, f"assumed: {ASSUMED_MFU:.0%} MFU of {PEAK_BF16_TFLOPS:.0f} TFLOP/s (H100/H200 bf16)"


def makespan(durations: list[float], gpus: int) -> float:
    """Wall time of independent runs packed longest first onto ``gpus`` (one run per GPU at a time)."""
    loads = [0.0] * max(gpus, 1)
    for d in sorted(durations, reverse=True):
        loads[loads.index(min(loads))] += d
    return max(loads, default=0.0)


def _flops(value: float) -> str:
    for unit, scale in (("EFLOP", 1e18), ("PFLOP", 1e15), ("TFLOP", 1e12)):
        if value >= scale:
            return f"{value / scale:,.1f} {unit}"
    return f"{value / 1e9:,.1f} GFLOP"


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:,.1f} h" if seconds >= 3600 else f"{seconds / 60:,.0f} min"


def describe_runs(
    search_flops: float, trials: int, full_trial_flops: float, finals: list[float], tflops: float, source: str
) -> str:
    """The printed estimate of a search of ``trials`` trials and the final runs' FLOPs ``finals``: work,
    GPU-hours and wall time for each of :data:`GPU_COUNTS`; every run also pays :data:`STARTUP_S`."""
    rate = tflops * 1e12
    search_s = search_flops / rate + trials * STARTUP_S
    final_s = [flops / rate + STARTUP_S for flops in finals]
    lines = [
        f"cost    search {_flops(search_flops)} in {trials} trials, finals {_flops(sum(finals))} in {len(finals)} "
        f"runs: {(search_s + sum(final_s)) / 3600:,.2f} GPU-hours "
        f"at {tflops:,.0f} TFLOP/s per GPU ({source}; {STARTUP_S:.0f} s start-up per run)"
    ]
    for gpus in GPU_COUNTS:
        wall = max(search_s / gpus, full_trial_flops / rate + STARTUP_S) + makespan(final_s, gpus)
        lines.append(f"        on {gpus:>2} GPU(s): about {_hours(wall)} of wall time")
    return "\n".join(lines)


def searched_models(space: Any) -> list[str]:
    """The model names a space's search samples (``model.name``'s values), else its base model."""
    names = space.search.get("model.name")
    return sorted({str(v) for v in names.points()}) if names is not None else [space.base.model.name]


def estimate(space: Any, specs: list[dict[str, Any]], search_steps_total: int, full_steps: int) -> str:
    """The cost lines of ``space`` (a ``SearchSpace``) whose final runs are ``specs``
    (``tune.study.final_specs``); the search trains ``search_steps_total`` steps in all, ``full_steps``
    in a trial that runs to full fidelity."""
    from raysweep.methods.registry import PROPOSED, parse_method
    from raysweep.methods.run_spec import RunSpec

    base, s, ev = space.base, space.study, space.evaluation
    seq = max(base.data.max_length // 2, 8)
    batch = base.sampler.batch_size
    unknown: set[str] = set()

    def per_token(name: str) -> float:
        shape = model_shape(name)
        if shape is None:
            unknown.add(name)
            shape = MODEL_SHAPES["bert-base-uncased"]
        return flops_per_token(shape, seq)

    searched = searched_models(space)
    mean_token = sum(per_token(m) for m in searched) / len(searched)
    vsp_pass = 2.0 if base.loss.vsp_dropout == "pass" else 1.0
    eval_every = base.train.eval_every or full_steps
    # a dev evaluation embeds the dev rows and the search's drift texts (forward only: a third)
    dev_texts = min(base.data.dev_limit or GOEMOTIONS_DEV, GOEMOTIONS_DEV) + s.drift_texts

    def trained(steps: int, token: float, passes: float) -> float:
        return steps * batch * seq * token * passes + (steps // eval_every) * dev_texts * seq * token / 3

    cap = ev.limit or 10**9
    eval_texts = sum(min(EVAL_TEXTS.get(t, 0), cap) for t in ev.tasks) + ev.drift_n
    tuned = (ev.finetune_tasks or ev.downstream) if "finetune" in ev.protocols else []
    finetune_rows = sum(min(FINETUNE_ROWS.get(t, 0), ev.finetune_train_limit or cap) for t in tuned)
    finals: list[float] = []
    for raw in specs:
        spec = RunSpec.from_dict(raw)
        token = per_token(str(spec.params.get("model.name", base.model.name)))
        chosen = parse_method(spec.method)
        passes = 0.0
        if chosen.method.objective is not None:
            # Emo: its VSP pass; a method trained jointly with a task (MTL): a task batch too
            passes = vsp_pass if chosen.method.name == PROPOSED else 2.0 if chosen.method.arg == "task" else 1.0
        train = trained(full_steps, token, passes) if passes else 0.0
        evaluation = eval_texts * seq * token / 3 + finetune_rows * ev.finetune_epochs * seq * token
        finals.append(train + evaluation)
    tflops, source = throughput_tflops()
    search = trained(search_steps_total, mean_token, vsp_pass)
    text = describe_runs(search, s.num_samples, trained(full_steps, mean_token, vsp_pass), finals, tflops, source)
    if unknown:
        text += f"\n        (shape of {', '.join(sorted(unknown))} unknown here: priced as bert-base)"
    return text


def plan_cost(space: Any) -> str:
    """:func:`estimate` for ``space`` before it runs: the picks it will make (``pareto_picks`` plus each
    matched rule, per searched model name) stand in for the search's, each trial trains the space's
    full fidelity (``train.max_steps``, else its epochs over ``data.train_limit`` or all single-label
    GoEmotions rows)."""
    from raysweep.tune.schedulers.fidelity import SearchFidelity, training_length
    from raysweep.tune.study import final_specs

    s, base = space.study, space.base
    rows = base.data.train_limit or GOEMOTIONS_TRAIN
    full, eval_every = training_length(base, rows)
    models = searched_models(space)
    per_model = (s.pareto_picks if s.multi_objective else 1) + len(s.matched_picks or [])
    picks = [{"model.name": m} for m in models for _ in range(per_model)]
    specs = final_specs(space, picks)
    trials = s.num_samples  # the λ = 0 point is one of them
    if space.scheduler_kind() == "fifo":
        steps = trials * full
    else:
        grace = SearchFidelity(steps=full, eval_every=eval_every).grace_period(s.asha_grace_period)
        steps = search_steps(trials, grace, full, s.asha_reduction_factor)
    return estimate(space, specs, steps, full)
