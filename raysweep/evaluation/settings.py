"""What every model of a study is scored on: one typed record, read from a space's ``evaluation``
section (or built from ``python -m raysweep.evaluate``'s flags) and passed whole into the suite.

Which rows are scored (the GoEmotions test subsample, the Δemb texts, each task's training subsample,
the few-shot draws and the fine-tuning's train/dev split) is not a setting: the suite draws them with
its ``draw_seed``, which a study sets to its own seed for every method and training seed alike."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from raysweep.config import PRECISIONS
from raysweep.errors import RaysweepError
from raysweep.rules import check_fields, one_of, ranged

PROTOCOLS = ("probe", "fewshot", "finetune")
NON_DOWNSTREAM = ("emotion", "drift")


@dataclass
class EvaluationSettings:
    """Tasks, protocols and their sizes. Every field's range is stated here and checked by ``validate``."""

    tasks: list[str] = field(default_factory=lambda: ["emotion", "drift", "sst2", "isarcasm", "irony"])
    protocols: list[str] = field(default_factory=lambda: ["probe", "fewshot"])
    limit: int | None = ranged(None, gt=0, fix="use a positive row cap or leave it out")
    """Cap every split at this many rows (quick studies); None: full splits."""
    drift_n: int = ranged(1000, ge=2, fix="use at least 2 texts, e.g. 1000")
    max_length: int = ranged(128, ge=8, fix="use >= 8 tokens")
    precision: str = one_of("auto", PRECISIONS, "precision", fix="use auto, fp32 or bf16")
    """Precision of every embedding the suite computes (``models.embed.embedding_precision``): ``auto`` is
    bf16 on a CUDA device that supports it and on a CPU where a measured matmul runs at least 1.2x faster
    in bf16 (training's choice there; bf16 autocast ran at 0.14x fp32 on a CPU without bf16 matrix units,
    1.67x on an AMD EPYC with them), else fp32; the figures record the one used."""
    finetune_epochs: int = ranged(3, ge=1, fix="use >= 1 epoch")
    finetune_max_steps: int | None = ranged(None, gt=0, fix="use a positive step count or leave it out")
    finetune_lr: float = ranged(2e-5, gt=0, fix="use a learning rate such as 2e-5")
    finetune_head_lr: float | None = ranged(1e-3, gt=0, fix="use a positive learning rate (or null: the same as lr)")
    finetune_tasks: list[str] | None = None
    """Downstream tasks the ``finetune`` protocol runs on; None: all of them."""
    finetune_train_limit: int | None = ranged(None, gt=0, fix="use a positive row cap or leave it out")
    """Cap each task's fine-tuning train split at this many rows (stratified); None: ``limit``."""
    finetune_eval_every: int | None = ranged(None, gt=0, fix="use a positive step count or leave it out")
    """Score the fine-tuned classifier on dev every this many steps (and at the end); None: after every
    epoch. The test figures come from the evaluation with the best dev macro-F1."""
    finetune_patience: int | None = ranged(2, ge=1, fix="use a positive number of dev evaluations or null")
    """Stop fine-tuning once this many dev evaluations in a row have not beaten the best dev macro-F1
    (the test figures still come from the best one); None: run every epoch (or ``finetune_max_steps``)."""
    finetune_seeds: int | None = ranged(None, ge=1, fix="use a positive seed count or leave it out")
    """Fine-tune only the final runs of seeds 0..N-1 of each method (the other seeds are scored by every
    other protocol); None: every seed. Fine-tuning is most of a model's evaluation time, and its paired
    tests then run over the seeds that have it (the tables say how many: ``n_seeds`` per column)."""
    finetune_class_weights: bool = True
    """Weight the fine-tuning cross-entropy by inverse class frequency (balanced), so an imbalanced task
    (iSarcasmEval: about 1 sarcastic tweet in 4) does not train a majority-class predictor."""

    def validate(self, where: str = "") -> EvaluationSettings:
        prefix = f"{where}: " if where else ""
        try:
            check_fields(self, "evaluation")
        except RaysweepError as err:
            raise RaysweepError(f"{prefix}{err}") from None

        def require(ok: bool, key: str, problem: str, fix: str) -> None:
            if not ok:
                raise RaysweepError(f"{prefix}{key}: {problem}; {fix}")

        bad = [p for p in self.protocols if p not in PROTOCOLS]
        require(not bad, "evaluation.protocols", f"unknown protocol {bad[:1]}", "use probe, fewshot, finetune")
        require(bool(self.tasks), "evaluation.tasks", "is empty", "name at least one task, e.g. emotion")
        stray = [t for t in self.finetune_tasks or [] if t not in self.tasks or t in NON_DOWNSTREAM]
        require(
            not stray,
            "evaluation.finetune_tasks",
            f"{stray[:1]} is not one of the downstream tasks",
            "list only tasks named in evaluation.tasks (not emotion or drift)",
        )
        return self

    @property
    def downstream(self) -> list[str]:
        return [t for t in self.tasks if t not in NON_DOWNSTREAM]

    def for_seed(self, seed: int) -> EvaluationSettings:
        """The settings a final run of ``seed`` is scored with: these, less the ``finetune`` protocol when
        ``finetune_seeds`` leaves that seed out."""
        if self.finetune_seeds is None or seed < self.finetune_seeds or "finetune" not in self.protocols:
            return self
        return replace(self, protocols=[p for p in self.protocols if p != "finetune"])
