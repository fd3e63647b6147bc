"""The model card (``README.md``) of an exported model, in the layout the Hugging Face hub reads.

The YAML front matter is written by ``huggingface_hub``'s own :class:`~huggingface_hub.ModelCardData`:
``library_name`` (sentence-transformers: the folder carries its files, see
:mod:`raysweep.models.sentence_format`), ``base_model`` (the hub id of the model that was retrofitted,
:func:`raysweep.models.encoder.hub_id`; left out for a local model without one), tags, the dataset,
``pipeline_tag: sentence-similarity`` and, once the study's test figures are known, a ``model-index``
with them. The body: the method, usage with ``sentence-transformers`` and with ``transformers`` (in
the model's pooling), the training settings, the data, the test figures of this model and of PLM
side by side with the study's markers, the dev figures, and the limitations.

The export writes the card with the dev figures only; :func:`rewrite_model_card` writes it again in
place when the study's figures are known, from a :class:`Comparison`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, TypedDict

from raysweep import __version__, atomic
from raysweep.config import RetrofitConfig
from raysweep.data.goemotions import HUB_DATASET
from raysweep.errors import RaysweepError
from raysweep.models.encoder import hub_id
from raysweep.train.objectives import OBJECTIVES

USAGE_PATH = "path/to/this/model"
"""What the usage snippets load when no hub id is given: the folder the card is in."""

TAGS = ["sentence-transformers", "feature-extraction", "sentence-similarity", "transformers", "emotion"]
TAGS += ["supervised-contrastive-learning", "retrofitting", "raysweep"]

LABELS = {
    "ami": "AMI (k-means clusters vs emotions)",
    "ari": "ARI (k-means clusters vs emotions)",
    "fms": "FMS (k-means clusters vs emotions)",
    "mrr": "MRR (same-emotion retrieval)",
    "p_at_1": "P@1 (same-emotion retrieval)",
    "map_at_r": "MAP@R (same-emotion retrieval)",
    "delta_emb": "Δemb (cosine drift from the PLM; lower is better)",
    "knn_overlap": "kNN overlap with the PLM",
    "accuracy": "accuracy",
    "macro_f1": "macro-F1",
}
"""Readable names of the figures raysweep reports (a downstream column ``TASK_..._f1`` keeps its own)."""
EMOTION_METRICS = {"ami", "ari", "fms", "mrr", "p_at_1", "map_at_r", "delta_emb", "knn_overlap"}
"""The figures measured on GoEmotions' test split; any other is a downstream task's, named by its prefix."""


class Comparison(TypedDict, total=False):
    """The study's test figures of one model beside PLM's: what :func:`model_card` shows and puts in
    ``model-index``. ``metrics`` and ``test`` are required, the rest optional.

    * ``metrics``: figure name (a leaderboard column: ``ami``, ``p_at_1``, ``delta_emb``,
      ``TASK_probe_f1``, ...) -> ``(this model's mean, PLM's mean, marker)``; the marker is the
      study's (``"*"`` for a tested difference, ``"†"``, or ``""``), a mean may be NaN (not measured);
    * ``test``: the statistical test behind the markers (e.g. ``results.comparisons.TEST_NAME``);
    * ``legend``: what each marker means (e.g. "`*`: p < 0.05, Holm-adjusted over the comparisons of that figure");
    * ``method``: the method's label in the study (e.g. ``Emo``);
    * ``seeds``: how many training seeds each mean is over;
    * ``split``: the split the figures are on (default ``test``).
    """

    metrics: dict[str, tuple[float, float, str]]
    test: str
    legend: str
    method: str
    seeds: int
    split: str


def method_name(objective: str) -> str:
    """What the model card says ``objective`` trained: the registered objective's ``card_name``."""
    cls = OBJECTIVES.get(objective)
    return cls.card_name if cls is not None else objective


def model_card(
    cfg: RetrofitConfig,
    metrics: dict[str, Any],
    comparison: Comparison | None = None,
    head_shapes: dict[str, tuple[int, ...]] | None = None,
    repo_id: str | None = None,
) -> str:
    """The card of a model trained with ``cfg``: ``metrics`` holds its dev figures (``dev_*``),
    ``comparison`` the study's test figures (none: the dev figures only), ``head_shapes`` the shapes in
    ``head.safetensors``, ``repo_id`` what the usage snippets load (default: :data:`USAGE_PATH`)."""
    if comparison is not None:
        _check_comparison(comparison)
    base = hub_id(cfg.model.name)
    where = repo_id or USAGE_PATH
    sections = [
        _intro(cfg, base, comparison),
        _usage(cfg, where),
        _training(cfg, head_shapes),
        _data(cfg),
        _test_figures(comparison) if comparison else "",
        _dev_figures(metrics),
        _limitations(cfg, comparison),
    ]
    body = "\n".join(s for s in sections if s)
    return f"---\n{_front_matter(cfg, base, comparison).to_yaml()}\n---\n\n{body}"


def rewrite_model_card(folder: str | Path, comparison: Comparison | None, repo_id: str | None = None) -> Path:
    """Write ``folder``'s ``README.md`` again (atomically) from its ``raysweep.json`` and ``comparison``:
    the study's results writer calls it for the best model once the test figures are known."""
    folder = Path(folder)
    try:
        record = json.loads((folder / atomic.MARKER).read_text())
        cfg = RetrofitConfig.from_dict(record["config"])
    except (OSError, ValueError, KeyError) as err:
        raise RaysweepError(f"{folder}: not a model exported by raysweep ({type(err).__name__}: {err})") from None
    card = model_card(cfg, record.get("metrics", {}), comparison, _head_shapes(folder), repo_id)
    path = folder / "README.md"
    atomic.write_text(path, card)
    return path


def _check_comparison(comparison: Comparison) -> None:
    figures = comparison.get("metrics")
    ok = isinstance(figures, dict) and figures and isinstance(comparison.get("test"), str)
    ok = ok and all(isinstance(v, (tuple, list)) and len(v) == 3 for v in figures.values())
    if not ok:
        raise RaysweepError(
            "model card comparison: give {'metrics': {name: (model_mean, plm_mean, marker)}, 'test': 'the test'}"
        )


def _front_matter(cfg: RetrofitConfig, base: str | None, comparison: Comparison | None):
    from huggingface_hub import EvalResult, ModelCardData

    name = f"{Path(base or cfg.model.name).name}-emotions-{cfg.loss.objective}"
    results = []
    for metric, (mean, _plm, _marker) in (comparison or {}).get("metrics", {}).items():
        if not _finite(mean):
            continue
        emotion = metric in EMOTION_METRICS
        task = metric.partition("_")[0]
        results.append(
            EvalResult(
                task_type="sentence-similarity" if emotion else "text-classification",
                task_name="emotion clustering and retrieval" if emotion else f"{task} downstream classification",
                dataset_type=HUB_DATASET if emotion else task,
                dataset_name="GoEmotions (single-label)" if emotion else task,
                dataset_config="simplified" if emotion else None,
                dataset_split=comparison.get("split", "test"),
                metric_type=metric,
                metric_name=LABELS.get(metric, metric),
                metric_value=round(float(mean), 6),
            )
        )
    return ModelCardData(
        language="en",
        library_name="sentence-transformers",
        base_model=base,
        tags=TAGS,
        datasets=[HUB_DATASET],
        pipeline_tag="sentence-similarity",
        model_name=name,
        eval_results=results or None,
    )


def _intro(cfg: RetrofitConfig, base: str | None, comparison: Comparison | None) -> str:
    local = f"`{Path(cfg.model.name).name}` (a local model without a hub id)"
    source = f"[{base}](https://huggingface.co/{base})" if base else local
    label = f" (`{comparison['method']}` in the study)" if comparison and comparison.get("method") else ""
    return f"""# {Path(base or cfg.model.name).name} retrofitted for emotions

{source} retrofitted with raysweep {__version__}: {method_name(cfg.loss.objective)}{label}.
The sentence embedding is the `{cfg.model.pooling}` pooling of the encoder's last hidden state
({_pooling_words(cfg.model.pooling)}), not normalised; compare embeddings by cosine similarity.
"""


def _pooling_words(pooling: str) -> str:
    return "the first token, `[CLS]`/`<s>`" if pooling == "cls" else "the mean over the real, unpadded tokens"


def _usage(cfg: RetrofitConfig, where: str) -> str:
    pooled = (
        "embeddings = hidden[:, 0]  # cls: the first token"
        if cfg.model.pooling == "cls"
        else 'mask = batch["attention_mask"].unsqueeze(-1).float()\n'
        "embeddings = (hidden * mask).sum(1) / mask.sum(1)  # mean over the real tokens"
    )
    return f"""## Usage

With sentence-transformers (the folder's `modules.json` and `1_Pooling/` select `{cfg.model.pooling}` pooling):

```python
from sentence_transformers import SentenceTransformer

model = SentenceTransformer("{where}")
embeddings = model.encode(["I can't believe you did that!", "Thank you so much, this made my day."])
```

With transformers:

```python
import torch
from transformers import AutoModel, AutoTokenizer

tokenizer = AutoTokenizer.from_pretrained("{where}")
model = AutoModel.from_pretrained("{where}").eval()
texts = ["I can't believe you did that!", "Thank you so much, this made my day."]
batch = tokenizer(texts, padding=True, truncation=True, max_length={cfg.data.max_length}, return_tensors="pt")
with torch.no_grad():
    hidden = model(**batch).last_hidden_state
{pooled}
```

The trained head on top of the embedding is kept in `head.safetensors`
(`safetensors.torch.load_file`); `raysweep.json` records the full training config and dev figures.
"""


def _training(cfg: RetrofitConfig, head_shapes: dict[str, tuple[int, ...]] | None) -> str:
    loss, s, t = cfg.loss, cfg.sampler, cfg.train
    head = ", ".join(f"{k} {'×'.join(map(str, v))}" for k, v in sorted((head_shapes or {}).items()))
    return f"""## Training

| setting | value |
|---|---|
| objective | {loss.objective}: {method_name(loss.objective)} |
| λ (VSP weight) | {loss.lam:g} |
| τ (temperature) | {loss.tau:g} |
| VSP targets / dropout / normalised | {loss.vsp_targets} / {loss.vsp_dropout} / {loss.vsp_normalize} |
| pooling | {cfg.model.pooling} |
| head | {head or f"{cfg.model.head} → {cfg.model.proj_dim}-d"} |
| sampler | {s.kind} (m={s.m}, global batch {s.batch_size}) |
| learning rate (encoder / head) | {t.lr:g} / {t.head_lr if t.head_lr is not None else t.lr:g} |
| weight decay / warm-up ratio / gradient clip | {t.weight_decay:g} / {t.warmup_ratio:g} / {t.grad_clip:g} |
| epochs / max steps | {t.epochs} / {t.max_steps} |
| precision | {t.precision} |
| workers | {t.num_workers} |
| seed | {t.seed} |
| max length (tokens) | {cfg.data.max_length} |
"""


def _data(cfg: RetrofitConfig) -> str:
    d = cfg.data
    cut = f", a stratified sample of {d.train_limit} training rows" if d.train_limit else ""
    return f"""## Data

[GoEmotions](https://huggingface.co/datasets/{HUB_DATASET}) (Demszky et al., 2020): English Reddit comments,
each labelled with some of 27 emotions or neutral; the official train / dev / test split, single-label rows
only{" without neutral" if d.drop_neutral else ""}{cut}. Training read the train split and model selection the
dev split; the test split is held out for the study's figures.
"""


def _test_figures(comparison: Comparison) -> str:
    split = comparison.get("split", "test")
    seeds = comparison.get("seeds")
    rows = []
    for metric, (mean, plm, marker) in comparison["metrics"].items():
        delta = f"{mean - plm:+.4f}".replace("-0.0000", "+0.0000") if _finite(mean) and _finite(plm) else "–"
        rows.append(f"| {LABELS.get(metric, metric)} | {_num(mean)} | {_num(plm)} | {delta} | {marker or ''} |")
    over = f", means over {seeds} training seed{'s' if seeds != 1 else ''}" if seeds else ""
    legend = f"\n{comparison['legend']}\n" if comparison.get("legend") else ""
    return f"""## Test figures ({split} split{over})

| metric | this model | PLM (the untouched base model) | Δ vs PLM | marker |
|---|---|---|---|---|
{chr(10).join(rows)}

Markers from the study's statistical test: {comparison["test"]}.
{legend}"""


def _dev_figures(metrics: dict[str, Any]) -> str:
    rows = [
        f"| {k.removeprefix('dev_')} | {v:.4f} |"
        for k, v in sorted(metrics.items())
        if k.startswith("dev_") and isinstance(v, (int, float)) and not isinstance(v, bool)
    ]
    if not rows:
        return ""
    return f"""## Dev figures (GoEmotions dev split, this checkpoint)

| metric | value |
|---|---|
{chr(10).join(rows)}
"""


def _limitations(cfg: RetrofitConfig, comparison: Comparison | None) -> str:
    protocol = (
        "The test figures come from the study's final runs of the configuration selected on dev (means over\n"
        "  their seeds, of which this model is one), scored on the held-out test split; the markers are the\n"
        "  study's tests against PLM, named above."
        if comparison
        else "No test figures yet: the dev figures come from the split the configuration was selected on,\n"
        "  so they are optimistic; the study's test figures replace them once known."
    )
    return f"""## Limitations

* Trained and evaluated on English Reddit comments only (GoEmotions); other languages, domains and
  registers (formal text, other platforms, long documents) are untested, and Reddit's user base and
  GoEmotions' rater agreement shape what counts as each emotion.
* Single-label rows only: texts annotated with several emotions were left out, so mixed emotions are
  not represented.
* {protocol}
* Texts are cut to {cfg.data.max_length} tokens; the embedding is not normalised.
"""


def _head_shapes(folder: Path) -> dict[str, tuple[int, ...]] | None:
    path = folder / "head.safetensors"
    if not path.is_file():
        return None
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(float(value))


def _num(value: Any) -> str:
    return f"{float(value):.4f}" if _finite(value) else "–"
