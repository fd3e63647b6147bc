"""What a training run's workers share: tokenised splits and precomputed frozen targets.

Prepared once per study (or per CLI run) by :func:`prepare_training_data`, put in Ray's object store
once, and read by every worker of every trial (:func:`share`), so no trial re-tokenises or re-runs
the frozen encoder. Frozen targets are also cached on disk, keyed by model, pooling, max length
and text content. ``TrainingData`` itself is defined in ``train/training_data.py`` (re-exported here).
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import numpy as np
import torch

from raysweep import atomic
from raysweep.config import RetrofitConfig
from raysweep.data.goemotions import LabeledTexts, load_goemotions
from raysweep.data.tokenized import TokenizedTexts, cache_dir, tokenize, tokenizer_fingerprint
from raysweep.models.embed import embed_tokens
from raysweep.models.encoder import PooledEncoder, load_encoder, load_tokenizer, resolve_model_name
from raysweep.train.objectives import get_objective
from raysweep.train.training_data import TrainingData

__all__ = ["TrainingData", "frozen_embeddings", "model_fingerprint", "prepare_training_data", "share", "threads_for"]

log = logging.getLogger(__name__)


def model_fingerprint(name: str) -> str:
    """Identifies weights: a local folder by its files' names, sizes and times; a hub name by itself."""
    resolved = resolve_model_name(name)
    digest = hashlib.sha256(resolved.encode())
    path = Path(resolved)
    if path.is_dir():
        for f in sorted(path.iterdir()):
            if f.is_file():
                st = f.stat()
                digest.update(f"{f.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def frozen_embeddings(encoder: PooledEncoder, tokens: TokenizedTexts, key: str, device: str = "cpu") -> np.ndarray:
    """Frozen-encoder (fp32, eval mode) embeddings of all rows, cached on disk under ``key``."""
    path = cache_dir() / "frozen" / f"{key}.npz"
    if path.is_file():
        with np.load(path, allow_pickle=False) as saved:
            if saved["emb"].shape[0] == len(tokens):
                return saved["emb"]
    emb = embed_tokens(encoder, tokens, batch_size=128, device=device, precision="fp32")
    atomic.save_npz(path, emb=emb)
    return emb


def prepare_training_data(
    cfg: RetrofitConfig,
    drift_texts: list[str] | None = None,
    device: str | None = None,
    train_set: LabeledTexts | None = None,
    dev_set: LabeledTexts | None = None,
) -> TrainingData:
    """Sample and tokenise the training and dev sets (GoEmotions unless given); precompute the frozen
    targets when the objective needs them, and the Δemb reference embeddings of ``drift_texts``."""
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if train_set is None or dev_set is None:
        goemotions = load_goemotions(cfg.data.data_dir, drop_neutral=cfg.data.drop_neutral)
        train_set = train_set or goemotions.train
        dev_set = dev_set or goemotions.dev
    train = train_set.sample(cfg.data.train_limit, seed=0)  # one subset per study, shared by all seeds
    dev = dev_set.sample(cfg.data.dev_limit, seed=0)
    tokenizer = load_tokenizer(cfg.model.name)
    max_len = cfg.data.max_length
    train_tokens = tokenize(tokenizer, train.texts, max_len, train.fingerprint())
    dev_tokens = tokenize(tokenizer, dev.texts, max_len, dev.fingerprint())
    drift_tokens = tokenize(tokenizer, drift_texts, max_len) if drift_texts else None

    need_frozen = get_objective(cfg.loss.objective).needs_frozen_targets(cfg)
    frozen_train = frozen_drift = None
    if need_frozen or drift_tokens is not None:
        encoder = PooledEncoder(load_encoder(cfg.model.name), cfg.model.pooling).to(device)
        base = f"{model_fingerprint(cfg.model.name)}-{cfg.model.pooling}-{max_len}-{tokenizer_fingerprint(tokenizer)}"
        if need_frozen:
            log.info("precomputing frozen targets for %d training rows", len(train_tokens))
            frozen_train = frozen_embeddings(encoder, train_tokens, f"{base}-{train.fingerprint()}", device)
        if drift_tokens is not None:
            text_key = hashlib.sha256("\0".join(drift_texts or []).encode()).hexdigest()[:16]
            frozen_drift = frozen_embeddings(encoder, drift_tokens, f"{base}-{text_key}", device)
    return TrainingData(
        label_names=train.label_names,
        train_tokens=train_tokens,
        train_labels=train.labels,
        dev_tokens=dev_tokens,
        dev_labels=dev.labels,
        frozen_train=frozen_train,
        drift_tokens=drift_tokens,
        frozen_drift=frozen_drift,
    )


def share(data: TrainingData):
    """Put the prepared data in Ray's object store once; workers ``ray.get`` the returned ref."""
    import ray

    return ray.put(data)


def threads_for(cpus: float) -> int:
    """Intra-op threads for a CPU share: its whole cores, where a share a trial's 0.01-CPU sliver made
    slightly smaller than a whole number (1.99 of a 2-core node) still counts as that number."""
    return max(1, int(cpus + 0.05)) if cpus else max(1, (os.cpu_count() or 1))
