"""The methods a study compares, each a record in :mod:`raysweep.methods.registry`:

* ``emo``: the searched method (SupCon + λ·VSP), one run per picked configuration and seed;
* ``scl``: the same configuration with λ = 0 (SupCon without preservation);
* ``tlearn``: transfer learning, cross-entropy on GoEmotions;
* ``mtl:TASK``: emotion and TASK's cross-entropy trained jointly;
* ``plm[:POOLING]``: the pre-trained model untouched (optionally read out in another pooling).

Each ``run`` returns a model folder that the evaluation suite scores.
"""
