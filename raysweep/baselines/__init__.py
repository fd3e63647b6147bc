"""Comparison baselines, each a function that returns a model folder the evaluation suite scores.

* ``plm``: the pre-trained model untouched;
* ``tlearn``: the encoder fine-tuned with cross-entropy on single-label GoEmotions (then transferred);
* ``mtl``: emotion cross-entropy and a downstream task's cross-entropy trained jointly.

``scl`` (SupCon without preservation, λ = 0) and ``emo`` (the full method) are the core's own runs.
"""

from raysweep.baselines.mtl import mtl
from raysweep.baselines.plm import plm
from raysweep.baselines.tlearn import tlearn

__all__ = ["mtl", "plm", "tlearn"]
