"""raysweep: retrofit small pre-trained language models for emotions and sweep the method on Ray.

Layers, top to bottom (the one declaration of the import order: a module imports from its own
layer, without cycles, or from the layers below it, never from above; the entry points on the top
line, every ``__main__.py``, ``run.py`` and ``evaluate.py``, may import anything; this package's own
``__init__`` belongs to the bottom line; ``tests/test_layering.py`` checks every import against
this block and the README's Layout against it)::

    run evaluate __main__
    results
    tune
    methods
    evaluation
    export model_card
    train
    samplers
    losses
    models
    metrics
    data
    errors rules atomic config storage

``metrics`` holds pure functions on arrays, ``models`` the encoders, the embedding loop and the
checkpoint format, so that training (dev metrics, checkpoints) and evaluation (test figures,
fine-tuning checkpoints) and the export all reach them from below; ``train`` holds the objective
registry, which the export's model card (``model_card``) reads; ``evaluation`` fine-tunes through ``train``;
``methods`` (the registry of compared methods and how each runs) trains through ``train`` and
exports through ``export`` for ``tune``.
"""

from raysweep.errors import RaysweepError

__all__ = ["RaysweepError", "__version__"]
__version__ = "0.1.0"
