"""``python -m raysweep.evaluate`` (or ``python -m raysweep.evaluation``): score one encoder.

    python -m raysweep.evaluate --model PATH_OR_NAME --tasks emotion,drift,sst2,isarcasm,irony \\
        --protocols probe,fewshot[,finetune] --data-dir ../shared/data --out results/eval.json

``--draw-seed`` fixes the rows scored (subsamples, Δemb texts, few-shot draws, fine-tuning split): give
a study's seed to score a model on the same rows as that study's models. ``--seed`` is the
fine-tuning's training seed only. ``--arrays FILE.npz`` also writes the per-example outputs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from raysweep import atomic
from raysweep.errors import RaysweepError, cli_errors
from raysweep.evaluation.settings import EvaluationSettings
from raysweep.evaluation.suite import (
    DEFAULT_PROTOCOLS,
    DEFAULT_TASKS,
    check_results_file,
    evaluate_with,
    parse_list,
    write_results,
)
from raysweep.train.preflight import check_writable_parent


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m raysweep.evaluate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--model", required=True, help="exported model folder, HF name, or alias (minilm)")
    p.add_argument(
        "--tasks",
        default=",".join(DEFAULT_TASKS),
        help="comma-separated: emotion, drift, sst2, isarcasm, irony, csv:PATH:TEXT_COL:LABEL_COL[:SPLIT_COL]",
    )
    p.add_argument("--protocols", default=",".join(DEFAULT_PROTOCOLS), help="comma-separated: probe, fewshot, finetune")
    p.add_argument("--out", required=True, help="JSON file for all figures (written atomically)")
    p.add_argument("--overwrite", action="store_true", help="replace --out even if it is a file raysweep did not write")
    p.add_argument("--data-dir", default=None, help="folder with goemotions/, sst2/, ... (or $RAYSWEEP_DATA_DIR)")
    p.add_argument(
        "--reference-model",
        default=None,
        help="original model for Δemb (default: the base recorded in raysweep.json, else the model)",
    )
    p.add_argument("--pooling", default=None, help="cls | mean (default: the recorded pooling, else cls)")
    p.add_argument("--draw-seed", type=int, default=0, help="seed of every evaluation draw (a study's: its seed)")
    p.add_argument("--seed", type=int, default=0, help="training seed of the fine-tuning")
    p.add_argument("--arrays", default=None, help="also write the per-example outputs to this .npz file")
    p.add_argument("--limit", type=int, default=None, help="cap every split at N rows (quick runs)")
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--drift-n", type=int, default=1000, help="size of the Δemb text sample")
    p.add_argument(
        "--precision",
        default="auto",
        help="embedding precision: auto (bf16 on a CUDA GPU that has it and on a CPU where it is measured "
        "faster, else fp32), fp32 or bf16",
    )
    p.add_argument("--finetune-epochs", type=int, default=3)
    p.add_argument("--finetune-max-steps", type=int, default=None)
    p.add_argument("--finetune-workers", type=int, default=1)
    p.add_argument(
        "--finetune-patience",
        type=int,
        default=2,
        help="stop fine-tuning after N dev evaluations without a better dev macro-F1 (0: never stop early)",
    )
    p.add_argument("--finetune-lr", type=float, default=2e-5)
    p.add_argument("--finetune-head-lr", type=float, default=None, help="classifier learning rate (default: lr)")
    p.add_argument(
        "--finetune-eval-every", type=int, default=None, help="dev evaluation every N steps (default: each epoch)"
    )
    p.add_argument(
        "--no-finetune-class-weights",
        action="store_true",
        help="plain cross-entropy in fine-tuning (default: weighted by inverse class frequency)",
    )
    p.add_argument("--storage", default=None, help="Ray Train storage for fine-tuning runs")
    p.add_argument("--address", default=None, help="'auto' to join a running Ray cluster")
    return p.parse_args(argv)


@cli_errors
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = Path(args.out).expanduser().resolve()
    check_results_file(out, args.overwrite)
    check_writable_parent(out.parent, "--out")
    settings = EvaluationSettings(
        tasks=parse_list(args.tasks),
        protocols=parse_list(args.protocols),
        limit=args.limit,
        drift_n=args.drift_n,
        max_length=args.max_length,
        precision=args.precision,
        finetune_epochs=args.finetune_epochs,
        finetune_max_steps=args.finetune_max_steps,
        finetune_lr=args.finetune_lr,
        finetune_head_lr=args.finetune_head_lr,
        finetune_eval_every=args.finetune_eval_every,
        finetune_class_weights=not args.no_finetune_class_weights,
        finetune_patience=args.finetune_patience or None,
    ).validate()
    if args.finetune_workers < 1:
        raise RaysweepError(f"--finetune-workers: {args.finetune_workers} is below 1; use >= 1")
    for flag, value in (("--draw-seed", args.draw_seed), ("--seed", args.seed)):
        if not 0 <= value < 2**32:
            raise RaysweepError(f"{flag}: {value} is out of range; use a seed in 0 .. 2**32 - 1")
    arrays_path = None if args.arrays is None else Path(args.arrays).expanduser().resolve()
    if arrays_path is not None:
        if arrays_path.suffix != ".npz" or arrays_path.is_dir():
            raise RaysweepError(f"--arrays {arrays_path}: give a .npz file name, e.g. {out.with_suffix('.npz')}")
        check_writable_parent(arrays_path.parent, "--arrays")
    arrays: dict[str, np.ndarray] = {}
    results = evaluate_with(
        args.model,
        settings,
        data_dir=args.data_dir,
        reference_model=args.reference_model,
        draw_seed=args.draw_seed,
        seed=args.seed,
        pooling=args.pooling,
        storage=args.storage,
        address=args.address,
        finetune_workers=args.finetune_workers,
        per_example=arrays,
    )
    write_results(out, results)
    if arrays_path is not None:
        atomic.save_arrays(arrays_path, arrays)
    print(f"[raysweep] wrote {out} in {results['wall_s']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
