"""Training: one run of an objective as Ray Train workers (``launch.fit``), and its parts.

* ``objectives/``: what a run optimises and how it is scored on dev; the registry of objectives by
  name (``supcon``, ``ce``, ``mtl``) and the contract a new one implements (``objectives/base.py``);
* ``training_data`` / ``data``: the tokenised splits and frozen targets the workers share, and their
  preparation (once per study, cached);
* ``worker``: the per-rank loop; ``optim``, ``precision``: its optimiser and numerics;
* ``launch``: the one way to start a run; ``cluster``: connecting to Ray; ``preflight``: the checks
  before anything starts; ``__main__``: ``python -m raysweep.train``.

The checkpoint format lives below, in ``raysweep.models.checkpoint`` (the export reads it too).
"""
