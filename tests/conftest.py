"""Shared fixtures: tiny random BERT and RoBERTa models built locally (no hub), a tiny GoEmotions
folder whose classes are learnable, the real local data, and a local Ray cluster."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("RAYSWEEP_DATA_DIR", ROOT.parent / "shared" / "data"))

# six emotion classes with their own cue words, so a tiny model can learn them in a few steps
CUES = {
    0: ["wonderful", "amazing", "great", "admire"],
    1: ["angry", "furious", "hate", "rage"],
    2: ["sad", "cry", "tears", "grief"],
    3: ["scared", "afraid", "fear", "terrified"],
    4: ["thanks", "grateful", "thank", "appreciate"],
    5: ["the", "a", "is", "it"],
}
FILLER = "today my friend said that this movie about the city was something else again".split()
LABELS = ["admiration", "anger", "sadness", "fear", "gratitude", "neutral"]


def make_text(rng: random.Random, label: int) -> str:
    words = rng.sample(FILLER, 5) + rng.sample(CUES[label], 2)
    rng.shuffle(words)
    return " ".join(words)


def write_goemotions(folder: Path, per_class: dict[str, int], seed: int = 0) -> Path:
    """A GoEmotions-layout folder (labels.txt + {train,dev,test}.tsv) with learnable classes."""
    rng = random.Random(seed)
    target = folder / "goemotions"
    target.mkdir(parents=True, exist_ok=True)
    (target / "labels.txt").write_text("\n".join(LABELS))
    for split, n in per_class.items():
        rows = []
        for label in range(len(LABELS)):
            rows += [f"{make_text(rng, label)}\t{label}\tid{split}{label}_{i}" for i in range(n)]
        # a few multi-label rows, which the single-label filter must drop
        rows += [f"{make_text(rng, 0)}\t0,1\tmulti{split}{i}" for i in range(3)]
        rng.shuffle(rows)
        (target / f"{split}.tsv").write_text("\n".join(rows) + "\n")
    return folder


@pytest.fixture(scope="session")
def tiny_data_dir(tmp_path_factory) -> Path:
    return write_goemotions(tmp_path_factory.mktemp("data"), {"train": 40, "dev": 12, "test": 12})


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    if not (SHARED_DATA / "goemotions" / "train.tsv").is_file():
        pytest.skip(f"local data not found at {SHARED_DATA}; set RAYSWEEP_DATA_DIR")
    return SHARED_DATA


def _vocab() -> list[str]:
    words = sorted({w for ws in CUES.values() for w in ws} | set(FILLER))
    return ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words, *[f"w{i}" for i in range(40)]]


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> str:
    """A 2-layer, 32-d random BertModel with a word-level WordPiece tokenizer, saved to disk."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-bert")
    vocab = folder / "vocab.txt"
    vocab.write_text("\n".join(_vocab()) + "\n")
    tokenizer = BertTokenizerFast.from_pretrained(folder)  # reads vocab.txt
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(_vocab()),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        max_position_embeddings=64,
    )
    BertModel(config, add_pooling_layer=False).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="session")
def tiny_roberta(tmp_path_factory) -> str:
    """A 2-layer, 32-d random RobertaModel with a byte-level BPE tokenizer trained on the cue words."""
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from transformers import RobertaConfig, RobertaModel, RobertaTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-roberta")
    bpe = ByteLevelBPETokenizer()
    corpus = [" ".join(_vocab()[5:])] * 20
    bpe.train_from_iterator(
        corpus, vocab_size=300, min_frequency=1, special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    )
    bpe.save_model(str(folder))
    tokenizer = RobertaTokenizerFast.from_pretrained(folder)
    torch.manual_seed(0)
    config = RobertaConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        max_position_embeddings=80,
        pad_token_id=tokenizer.pad_token_id,
    )
    RobertaModel(config, add_pooling_layer=False).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


@pytest.fixture(params=["bert", "roberta"])
def tiny_model(request, tiny_bert, tiny_roberta) -> str:
    return tiny_bert if request.param == "bert" else tiny_roberta


@pytest.fixture(scope="session")
def ray_local(tmp_path_factory):
    """One local Ray cluster for the session (2 CPUs), shut down at the end."""
    os.environ.setdefault("RAYSWEEP_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    from raysweep.train.cluster import connect

    connect("local", num_cpus=2)
    import ray

    yield ray
    ray.shutdown()


@pytest.fixture(autouse=True, scope="session")
def _cache_dir(tmp_path_factory):
    os.environ.setdefault("RAYSWEEP_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
