"""raysweep: retrofit small pre-trained language models for emotions and sweep the method on Ray.

The pipeline reads off the package layout, each step importing only the ones before it::

    data -> models -> losses/samplers -> train -> evaluation -> baselines -> tune -> results -> run
"""

from raysweep.errors import RaysweepError

__all__ = ["RaysweepError", "__version__"]
__version__ = "0.1.0"
