"""Study goodput: a small real study, run as a user runs it, and what its machine time went into (its
own script, not a section of ``python -m bench``, which stays under 10 minutes).

It runs ``python -m raysweep.run --space SPACE`` (default ``smoke``: packaged MiniLM on the local data)
in a process of its own, with its own local Ray cluster and a temporary storage, then prints from the
study's ``study.json``, all measured in that one run:

* per phase (prepare, search, finals, all): wall time, samples trained, goodput (samples ÷ (the plain
  loop's samples/s × wall)) and the cluster's core-seconds by part (steps, dev evaluation, Train
  start-up and teardown, embedding, metrics, idle: they add up to wall × cores);
* each phase's Train runs' samples/s inside their steps after their first 2 (the plain loop's untimed
  warm-up) as a ratio to the plain loop's, measured at the
  study's start on this machine with the study's model and batch (``raysweep.train.plain_loop``);
* the median start to first step of a Train run, split into Ray Train's part, the training code's
  imports in the loop (raysweep's training modules, PML, scikit-learn, the model's transformers code)
  and the rest of raysweep's loop;
* evaluation seconds per final model, by method.

The table goes to ``bench/results/study_goodput.json`` (atomically), with the machine::

    RAYSWEEP_DATA_DIR=../shared/data python bench/study_goodput.py            # the smoke study
    python bench/study_goodput.py --space cpu --out /tmp/cpu_goodput.json     # the cpu one (hours)
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import data_dir, machine  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "study_goodput.json"
PARTS = ("steps", "dev_eval", "startup", "teardown", "embedding", "metrics", "idle")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--space", default="smoke", help="the study's search space (default smoke)")
    p.add_argument("--data-dir", default=None, help="local data folder (default $RAYSWEEP_DATA_DIR or ../shared/data)")
    p.add_argument("--out", default=str(RESULTS), help=f"where the table goes (default {RESULTS.relative_to(ROOT)})")
    p.add_argument("--timeout", type=float, default=3 * 3600, help="seconds the study may take")
    p.add_argument("--console", default=None, help="also save the study's whole console output to this file")
    p.add_argument("--keep", default=None, help="keep the study's results folder (tables, study.json) here")
    return p.parse_args(argv)


def run_study(space: str, data: str, folder: Path, timeout: float) -> tuple[dict[str, Any], float, str]:
    """Run the study in its own process; its ``study.json``, its wall seconds and its console."""
    name = f"goodput-{time.strftime('%Y%m%d-%H%M%S')}"
    argv = [sys.executable, "-m", "raysweep.run", "--space", space, "--name", name, "--data-dir", data]
    argv += ["--storage", str(folder / "storage"), "--results-dir", str(folder / "results")]
    t0 = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"error: the study failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads((folder / "results" / name / "study.json").read_text()), wall, done.stdout


def table(study: dict[str, Any]) -> str:
    """The goodput table, the runs' speed against the plain loop, start-up and evaluation per model."""
    goodput = study["goodput"]
    head = f"{'phase':<8} {'wall s':>7} {'samples':>8} {'goodput':>8}  " + " ".join(f"{p:>9}" for p in PARTS)
    lines = [f"plain loop: {goodput['plain_samples_per_s']:.1f} samples/s ({goodput['cores']:g} cores)", head]
    for phase in ("prepare", "search", "finals", "all"):
        entry = goodput[phase]
        parts = entry["core_seconds"]
        total = sum(parts.values()) or 1.0
        shares = " ".join(f"{parts.get(p, 0.0) / total:>9.1%}" for p in PARTS)
        lines.append(f"{phase:<8} {entry['wall_s']:>7.0f} {entry['samples']:>8.0f} {entry['goodput']:>8.1%}  {shares}")
    per_run = goodput.get("plain_loop", {}).get("per_run")
    if per_run:
        lines.append(
            f"plain loop on a run's {per_run['threads']} thread(s), {per_run.get('side_by_side', 1)} side by side: "
            f"{per_run['samples_per_s']:.1f} samples/s each"
        )
    node = goodput.get("run_vs_node_plain") or {}
    for phase, ratio in goodput.get("run_vs_plain", {}).items():
        if ratio:
            on = f" on {per_run['threads']} thread(s)" if per_run else ""
            lines.append(
                f"{phase} runs vs the plain loop{on}: median {ratio['median']:.3f}x "
                f"(min {ratio['min']:.3f}, max {ratio['max']:.3f}; {ratio['runs']} runs)"
                + (f"; vs the whole node's loop {node[phase]['median']:.3f}x" if node.get(phase) else "")
            )
            if "per_core" in ratio:
                lines.append(
                    f"  = steps on a CPU {ratio['held']:.3f} of the time (the loop {ratio['loop_held']:.3f}) "
                    f"x {ratio['per_core']:.3f} the loop's speed per core-second held"
                )
    for phase, split in goodput.get("startup", {}).items():
        if split:
            lines.append(
                f"{phase} start to first step: median {split['total']:.2f} s = Ray Train {split['ray']:.2f} s "
                + (f"+ imports {split['model_imports']:.2f} s " if "model_imports" in split else "")
                + f"+ raysweep's loop {split['raysweep']:.2f} s"
            )
    for method, row in (study.get("final_phases") or {}).items():
        runs = max(row["runs"], 1)
        lines.append(
            f"final {method}: evaluation {row['evaluation_s'] / runs:.1f} s per model "
            f"(fine-tuning {row['finetune_s'] / runs:.1f} s), training {row['train_s'] / runs:.1f} s "
            f"({row['runs']} runs)"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    from raysweep import atomic

    with tempfile.TemporaryDirectory(prefix="raysweep-goodput-") as tmp:
        study, wall, console = run_study(args.space, data_dir(args.data_dir), Path(tmp), args.timeout)
        if args.keep:
            shutil.copytree(Path(tmp) / "results", args.keep, dirs_exist_ok=True)
    if args.console:
        atomic.write_text(args.console, console)
    print(table(study))
    out = {
        "space": args.space,
        "wall_s": round(wall, 1),
        "timings": study.get("timings"),
        "goodput": study["goodput"],
        "final_phases": study.get("final_phases"),
        "console_lines": len(console.splitlines()),
        "machine": machine(),
        "measured": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    atomic.write_text(args.out, json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"written: {args.out}")
    return out


if __name__ == "__main__":
    main()
