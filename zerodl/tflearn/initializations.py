"""tflearn's initialisers: ``truncated_normal`` (stddev 0.02), ``uniform_scaling``
(U(+-sqrt(3 / fan_in)) * factor), and the Keras ones by tflearn's names."""
import math

import numpy as np

from ..core.random import get_rng
from ..keras import initializers

__all__ = ["TruncatedNormal", "UniformScaling", "get"]


class TruncatedNormal(initializers.Initializer):
    name = "truncated_normal"

    def __init__(self, stddev=0.02):
        self.stddev = stddev

    def draw(self, shape):
        out = get_rng().normal(0.0, self.stddev, shape)
        bad = np.abs(out) > 2 * self.stddev
        while bad.any():
            out[bad] = get_rng().normal(0.0, self.stddev, int(bad.sum()))
            bad = np.abs(out) > 2 * self.stddev
        return out


class UniformScaling(initializers.Initializer):
    name = "uniform_scaling"

    def __init__(self, factor=1.0):
        self.factor = factor

    def draw(self, shape):
        fan_in = int(np.prod(shape[:-1]))
        limit = math.sqrt(3.0 / fan_in) * self.factor
        return get_rng().uniform(-limit, limit, shape)


NAMES = {"truncated_normal": TruncatedNormal, "uniform_scaling": UniformScaling, "zeros": initializers.Zeros,
          "normal": lambda: initializers.RandomNormal(stddev=0.02), "xavier": initializers.GlorotUniform,
          "uniform": initializers.RandomUniform}


def _init(spec, default):
    spec = default if spec is None else spec
    if isinstance(spec, str) and spec in _INITS:
        return _INITS[spec]()
    return initializers.get(spec)




def get(spec, default):
    """An initialiser from tflearn's name (``default`` when None) or a Keras initialiser."""
    spec = default if spec is None else spec
    if isinstance(spec, str) and spec in NAMES:
        return NAMES[spec]()
    return initializers.get(spec)
