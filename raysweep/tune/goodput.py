"""Goodput: how much of a study's machine time went into training, at what speed.

    goodput = samples trained / (plain-loop samples/s x wall seconds x nodes)

where "samples trained" counts every optimizer step's global batch (retrofitting and fine-tuning
alike), the plain loop is ``raysweep.train.plain_loop`` on this hardware with the study's model and
batch (one node's cores; ``nodes`` is how many such nodes the cluster has), and wall seconds are the
phase's. A study that did nothing but run the plain loop on every node would score 1.

The cluster's core-seconds of a phase (wall x cores) are split into parts that add up to the whole:

* ``steps``: inside optimizer steps (forward, backward, optimizer) of every Train run, x its cores;
* ``dev_eval``: the runs' dev evaluations inside training, x their cores;
* ``startup``: from a trial's start to its first step (Ray's controller and worker group, imports, the
  model load), x the run's cores; ``teardown``: from the last step to the trial's end;
* ``embedding`` and ``metrics``: the evaluation suite's embedding and metric jobs (1 core each);
* ``idle``: the remainder (the driver, scheduling gaps, cores no trial asked for).

Each part is what the runs report about themselves (``TrainTiming``, from the reports of
``train.worker``); nothing here is sampled from outside. Written by hand: neither Ray nor Optuna
accounts a study's time by what it was spent on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from statistics import median
from typing import Any

PARTS = ("steps", "dev_eval", "startup", "teardown", "embedding", "metrics")


@dataclass(frozen=True)
class TrainTiming:
    """What one Train run (or a final run with its evaluation) spent its time on, in seconds."""

    samples: float
    """Training samples of its optimizer steps (steps x global batch), fine-tuning included."""
    cores: float
    """CPU cores the run's workers held (workers x cpus_per_worker)."""
    steps: float = 0.0
    dev_eval: float = 0.0
    startup: float = 0.0
    teardown: float = 0.0
    embedding: float = 0.0
    metrics: float = 0.0

    @classmethod
    def from_result(cls, result: dict[str, Any], cores: float) -> TrainTiming:
        """From a trial's last reported result: the Train run's cumulative counters (``train_samples``,
        ``time_steps_s``, ``time_dev_eval_s``, ``time_startup_s``: ``train.run_clock``; a final run's
        ``time_teardown_s``; none but the export for a final run that reused a search trial's model)
        and a final run's evaluation (``eval_*``: ``evaluation.suite.timing_of``),
        whose fine-tuning runs count as training."""

        def get(key: str) -> float:
            value = result.get(key)
            return float(value) if isinstance(value, (int, float)) and value == value else 0.0

        finetune_parts = get("eval_finetune_time_steps_s") + get("eval_finetune_time_dev_eval_s")
        finetune_rest = get("eval_finetune_wall_s") - finetune_parts - get("eval_finetune_time_startup_s")
        # a final run exported from a search trial (``reused_run``) trained nothing: the search counted it
        retrofit = 0.0 if result.get("reused_run") else get("train_samples")
        return cls(
            samples=retrofit + get("eval_finetune_train_samples"),
            cores=cores,
            steps=get("time_steps_s") + get("eval_finetune_time_steps_s"),
            dev_eval=get("time_dev_eval_s") + get("eval_finetune_time_dev_eval_s"),
            startup=get("time_startup_s") + get("eval_finetune_time_startup_s"),
            # after the last step: the export, and a fine-tuned classifier's test predictions
            teardown=get("time_teardown_s") + max(finetune_rest, 0.0),
            embedding=get("eval_embedding_s"),
            metrics=get("eval_metrics_s"),
        )


@dataclass(frozen=True)
class PhaseGoodput:
    """One phase's (or the whole study's) goodput and its core-seconds by part."""

    wall_s: float
    samples: float
    goodput: float
    core_seconds: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        def rounded(value: Any) -> Any:  # 6 significant digits, as the results tables
            if isinstance(value, float):
                return float(f"{value:.6g}")
            return {k: rounded(v) for k, v in value.items()} if isinstance(value, dict) else value

        return {k: rounded(v) for k, v in asdict(self).items()}


def phase_goodput(
    runs: Iterable[TrainTiming], wall_s: float, plain_rate: float, cores: float, nodes: int = 1
) -> PhaseGoodput:
    """Goodput of a phase that took ``wall_s`` on a cluster of ``nodes`` nodes with ``cores`` CPU cores
    in all, whose plain loop trains ``plain_rate`` samples/s on one node."""
    runs = list(runs)
    samples = sum(r.samples for r in runs)
    used = {
        "steps": sum(r.steps * r.cores for r in runs),
        "dev_eval": sum(r.dev_eval * r.cores for r in runs),
        "startup": sum(r.startup * r.cores for r in runs),
        "teardown": sum(r.teardown * r.cores for r in runs),
        "embedding": sum(r.embedding for r in runs),
        "metrics": sum(r.metrics for r in runs),
    }
    total = wall_s * cores
    # the parts are measured, the whole is wall x cores: a part can only overshoot it by measurement noise
    scale = min(1.0, total / sum(used.values())) if sum(used.values()) > 0 else 1.0
    parts = {k: v * scale for k, v in used.items()}
    parts["idle"] = max(total - sum(parts.values()), 0.0)
    denominator = plain_rate * wall_s * max(nodes, 1)
    return PhaseGoodput(
        wall_s=wall_s,
        samples=samples,
        goodput=samples / denominator if denominator > 0 else 0.0,
        core_seconds=parts,
    )


def study_goodput(
    phases: dict[str, tuple[list[TrainTiming], float]], plain_rate: float, cores: float, nodes: int = 1
) -> dict[str, Any]:
    """Every phase's goodput (``phases``: name -> (its runs, its wall seconds)) and the study's in all."""
    out: dict[str, Any] = {
        name: phase_goodput(runs, wall, plain_rate, cores, nodes).to_dict() for name, (runs, wall) in phases.items()
    }
    every = [r for runs, _ in phases.values() for r in runs]
    out["all"] = phase_goodput(every, sum(w for _, w in phases.values()), plain_rate, cores, nodes).to_dict()
    out["plain_samples_per_s"] = plain_rate
    out["cores"], out["nodes"] = cores, nodes
    return out


def describe(goodput: dict[str, Any]) -> str:
    """One line per phase: goodput and the share of core-seconds of each part."""
    runs = goodput.get("invocations", 1)
    over = f", walls over {runs} invocations (--resume)" if runs > 1 else ""
    if not goodput.get("walls_complete", True):
        over = ", walls of this invocation only (the earlier ones left no phases.json entry): an upper bound"
    lines = [f"goodput (plain loop {goodput['plain_samples_per_s']:.1f} samples/s per node{over}):"]
    for name, phase in goodput.items():
        if not isinstance(phase, dict) or "core_seconds" not in phase:
            continue
        parts = phase["core_seconds"]
        total = sum(parts.values()) or 1.0
        shares = ", ".join(f"{k} {v / total:.0%}" for k, v in parts.items())
        lines.append(
            f"  {name}: {phase['goodput']:.1%} ({phase['samples']:.0f} samples in {phase['wall_s']:.0f} s); {shares}"
        )
    threads = goodput.get("run_vs_plain_threads")
    node = goodput.get("run_vs_node_plain") or {}
    for name, ratio in (goodput.get("run_vs_plain") or {}).items():
        if ratio:
            on = f" on {threads} thread(s), as each run" if node and threads else ""
            line = (
                f"  {name} runs vs the plain loop{on}: median {ratio['median']:.2f}x "
                f"({ratio['min']:.2f}-{ratio['max']:.2f}, {ratio['runs']} runs)"
            )
            if node.get(name):
                line += f"; vs the whole node's loop {node[name]['median']:.2f}x"
            lines.append(line)
            if "per_core" in ratio:
                lines.append(
                    f"    their steps held their cores {ratio['held']:.0%} of the time (the loop's "
                    f"{ratio['loop_held']:.0%}; other processes took the rest): {ratio['per_core']:.2f}x the loop "
                    "per core-second held"
                )
    for name, split in (goodput.get("startup") or {}).items():
        if split:
            lines.append(
                f"  {name} runs' start to first step: median {split['total']:.1f} s "
                f"(Ray Train {split['ray']:.1f} s, the training code's imports "
                f"{split.get('model_imports', 0.0):.1f} s, raysweep's own {split['raysweep']:.1f} s)"
            )
    return "\n".join(lines)


def _steady(result: dict[str, Any]) -> tuple[float, float, bool]:
    """A run's samples and seconds inside its steps, after its warm-up steps where it reported them
    (``train.run_clock``: ``warmup_samples`` in ``time_warmup_s``), and whether the warm-up was taken off."""
    samples, seconds = float(result["train_samples"]), float(result["time_steps_s"])
    warm_s, warm_n = float(result.get("time_warmup_s") or 0.0), float(result.get("warmup_samples") or 0.0)
    if warm_n > 0 and samples > warm_n and seconds > warm_s > 0:
        return samples - warm_n, seconds - warm_s, True
    return samples, seconds, False


def steady_rate(result: dict[str, Any]) -> float:
    """A run's samples/s inside its steps after its warm-up steps (``train.run_clock``: ``warmup_samples``
    in ``time_warmup_s``), as the plain loop is timed after its own; over all its steps where the run
    reported no warm-up (an evaluation among its first steps, or a record from before the counter)."""
    samples, seconds, _ = _steady(result)
    return samples / seconds


def steps_held(result: dict[str, Any]) -> float | None:
    """The share of a run's steps its rank-0 process was on a CPU, over its threads: the process's CPU
    seconds inside its steps after its warm-up over those steps' wall seconds x ``cpu_threads``
    (``train.run_clock``), the same steps :func:`steady_rate` reads; None where the run reported no CPU."""
    cpu, threads = result.get("cpu_steps_s"), result.get("cpu_threads")
    if not isinstance(cpu, (int, float)) or not isinstance(threads, (int, float)) or cpu <= 0 or threads <= 0:
        return None
    _, seconds, warmed = _steady(result)
    if warmed:
        cpu -= float(result.get("cpu_warmup_s") or 0.0)
    return cpu / (seconds * threads) if seconds > 0 else None


def loop_held(plain: dict[str, Any]) -> float | None:
    """The share of its timed steps the plain loop's process was on a CPU over its threads (``cores`` /
    ``threads``: ``train.plain_loop.plain_loop_rate``); None on a GPU or for a reading without it."""
    cores, threads = plain.get("cores"), plain.get("threads")
    if plain.get("device", "cpu") != "cpu" or not isinstance(cores, (int, float)) or not threads:
        return None
    return min(float(cores) / float(threads), 1.0)


def run_rates(trials: Iterable[dict[str, Any]], plain_rate: float, plain_held: float | None = None) -> dict[str, Any]:
    """The training speed of a phase's Train runs against the plain loop: each run's samples over its
    seconds inside steps after its warm-up (:func:`steady_rate`, its retrofitting run only), as the median,
    lowest and highest ratio to ``plain_rate``; {} where no run reported its counters.

    With ``plain_held`` (:func:`loop_held`, on CPU), the ratio is split in two, where the runs reported
    their steps' CPU: ``held``, the median share of their steps' wall x threads their process was on a CPU
    (:func:`steps_held`; the rest, other processes on the same cores took), and ``per_core``, the median
    of each run's ratio x ``plain_held`` / its ``held``: its speed per core-second it got, against the
    loop's. A run whose step is as fast as the loop's but that shares its cores reads ``per_core`` ~1 and
    ``held`` below 1; a slower step reads ``per_core`` below 1."""
    if plain_rate <= 0:
        return {}
    rows = [
        (steady_rate(r) / plain_rate, steps_held(r))
        for r in (t.get("result") or {} for t in trials)
        if isinstance(r.get("time_steps_s"), (int, float)) and r["time_steps_s"] > 0 and r.get("train_samples")
    ]
    if not rows:
        return {}
    ratios = sorted(ratio for ratio, _ in rows)
    out: dict[str, Any] = {
        "runs": len(ratios),
        "median": round(median(ratios), 4),
        "min": round(ratios[0], 4),
        "max": round(ratios[-1], 4),
    }
    held = [(ratio, h) for ratio, h in rows if h]
    if plain_held and held:
        out["held"] = round(median(h for _, h in held), 4)
        out["loop_held"] = round(plain_held, 4)
        out["per_core"] = round(median(ratio * plain_held / h for ratio, h in held), 4)
    return out


def startup_split(trials: Iterable[dict[str, Any]]) -> dict[str, float]:
    """Where a phase's Train runs' start to first step went (their medians, seconds): ``total``, of
    which ``ray`` (Ray Train's controller, worker group and process group), ``model_imports`` (inside the
    loop, which each fresh worker process pays: raysweep's training modules with PML and scikit-learn,
    ``train.entry``, and the model's transformers code) and ``raysweep`` (the rest of the loop's start:
    data fetch, model load, DDP wrapper, sampler, optimiser); {} where no run reported it."""
    rows = [
        (
            float(r["time_startup_s"]),
            float(r.get("time_startup_loop_s") or 0.0),
            float(r.get("time_startup_imports_s") or 0.0),
        )
        for r in (t.get("result") or {} for t in trials)
        if isinstance(r.get("time_startup_s"), (int, float)) and r["time_startup_s"] > 0
    ]
    if not rows:
        return {}
    return {
        "runs": len(rows),
        "total": round(median([a for a, _, _ in rows]), 3),
        "raysweep": round(median([b - c for _, b, c in rows]), 3),
        "model_imports": round(median([c for _, _, c in rows]), 3),
        "ray": round(median([a - b for a, b, _ in rows]), 3),
    }


def goodput_of_trials(
    phases: dict[str, tuple[list[dict[str, Any]], float]],
    plain: dict[str, Any],
    run_cores: float,
    cores: float,
    nodes: int = 1,
) -> dict[str, Any]:
    """A study's goodput from its trial records (``phases``: name -> (the phase's Tune trial records, its
    wall seconds)); ``plain`` is ``train.plain_loop.plain_loop_rate``'s measurement, ``run_cores`` the
    cores one Train run holds, ``cores`` and ``nodes`` the cluster's. Adds, per phase, the Train runs'
    speed against the plain loop (:func:`run_rates`): against the loop with a run's own threads where
    ``plain`` has that measurement (``per_run``; then ``run_vs_node_plain`` holds the ratios to the whole
    node's loop too), else against the node's loop; ``run_vs_plain_threads`` is that loop's threads. On CPU,
    ``run_vs_plain`` splits each phase's ratio into the share of their steps the runs held their cores and
    their speed per core-second held (:func:`run_rates`)."""
    rate = float(plain["samples_per_s"])
    per_run = plain.get("per_run") or {}
    run_rate = float(per_run.get("samples_per_s") or rate)
    timings = {
        name: ([TrainTiming.from_result(t.get("result") or {}, run_cores) for t in trials], wall)
        for name, (trials, wall) in phases.items()
    }
    out = study_goodput(timings, rate, cores, nodes)
    out["plain_loop"] = plain
    held = loop_held(per_run or plain)
    out["run_vs_plain"] = {name: run_rates(trials, run_rate, held) for name, (trials, _) in phases.items() if trials}
    out["run_vs_plain_threads"] = int(per_run.get("threads") or plain.get("threads") or 0)
    if per_run:  # the same runs against the whole node's loop, which the goodput is measured against
        out["run_vs_node_plain"] = {name: run_rates(trials, rate) for name, (trials, _) in phases.items() if trials}
    out["startup"] = {name: startup_split(trials) for name, (trials, _) in phases.items() if trials}
    return out
