"""Search distributions: one class per ``type:`` of a space file's ``search`` entries.

=============  ==========================================  ==================================
``type``       YAML                                        Ray Tune
=============  ==========================================  ==================================
loguniform     ``{type: loguniform, low: A, high: B}``     ``tune.loguniform(A, B)``
uniform        ``{type: uniform, low: A, high: B}``        ``tune.uniform(A, B)``
int            ``{type: int, low: A, high: B, step: S}``   ``tune.qrandint(A, B, S)``
choice         ``{type: choice, values: [...]}``           ``tune.choice([...])``
fixed          ``{type: fixed, value: X}``                 ``X``
=============  ==========================================  ==================================

:func:`parse_distribution` builds one from its YAML mapping through the :data:`DISTRIBUTIONS`
registry; :class:`Distribution` says what a new one must provide.
"""

from __future__ import annotations

from raysweep.tune.distributions.base import Distribution
from raysweep.tune.distributions.choice import Choice
from raysweep.tune.distributions.continuous import ContinuousDistribution
from raysweep.tune.distributions.coverage import COVERAGE_CAP, covering_combinations
from raysweep.tune.distributions.fixed import Fixed
from raysweep.tune.distributions.integer import IntRange
from raysweep.tune.distributions.loguniform import LogUniform
from raysweep.tune.distributions.registry import DISTRIBUTIONS, parse_distribution
from raysweep.tune.distributions.uniform import Uniform

__all__ = [
    "COVERAGE_CAP",
    "DISTRIBUTIONS",
    "Choice",
    "ContinuousDistribution",
    "Distribution",
    "Fixed",
    "IntRange",
    "LogUniform",
    "Uniform",
    "covering_combinations",
    "parse_distribution",
]
