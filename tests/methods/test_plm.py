"""``plm``: the untouched model as a folder the suite scores."""

from __future__ import annotations

import json

import torch

from raysweep.evaluation.suite import model_record
from raysweep.methods.plm import plm
from raysweep.models.encoder import load_encoder


def test_plm_folder_is_the_untouched_model(tiny_bert, tmp_path):
    out = plm(tiny_bert, tmp_path / "plm")
    record = json.loads((out / "raysweep.json").read_text())
    assert record["baseline"] == "plm" and record["config"]["model"]["name"] == tiny_bert
    assert model_record(str(out))["baseline"] == "plm"
    a, b = load_encoder(str(out)), load_encoder(tiny_bert)
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(p, q), name
