"""Keras's initialisers by name, for Keras weight layouts (Dense (in, out), Conv2D (kh, kw, in,
out)): fans are Keras's (``receptive = prod(shape[:-2])``, ``fan_in = shape[-2] * receptive``,
``fan_out = shape[-1] * receptive``). Draws use zerodl's seeded generator (``zd.manual_seed``).
"""
import math

import numpy as np

from ..core.random import get_rng

__all__ = ["get", "Initializer", "GlorotUniform", "GlorotNormal", "HeNormal", "HeUniform", "Zeros", "Ones",
           "Orthogonal", "RandomNormal", "RandomUniform", "Constant"]


def _fans(shape):
    if len(shape) < 2:
        return shape[0] if shape else 1, shape[0] if shape else 1
    receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """``init(shape, dtype) -> ndarray``; ``name`` is Keras's snake-case name."""

    name = None

    def __call__(self, shape, dtype=np.float32):
        return np.asarray(self.draw(tuple(int(s) for s in shape)), dtype=dtype)

    def get_config(self):
        return {}


class Zeros(Initializer):
    name = "zeros"

    def draw(self, shape):
        return np.zeros(shape)


class Ones(Initializer):
    name = "ones"

    def draw(self, shape):
        return np.ones(shape)


class Constant(Initializer):
    name = "constant"

    def __init__(self, value=0.0):
        self.value = float(value)

    def draw(self, shape):
        return np.full(shape, self.value)

    def get_config(self):
        return {"value": self.value}


class RandomUniform(Initializer):
    name = "random_uniform"

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval = minval, maxval

    def draw(self, shape):
        return get_rng().uniform(self.minval, self.maxval, shape)


class RandomNormal(Initializer):
    name = "random_normal"

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev = mean, stddev

    def draw(self, shape):
        return get_rng().normal(self.mean, self.stddev, shape)


class _Variance(Initializer):
    """Variance scaling: uniform(+-sqrt(3 s / n)) or normal(sqrt(s / n)) (truncated-normal's
    std correction as Keras: 0.8796...)."""

    scale, mode, uniform = 1.0, "fan_avg", True

    def __init__(self, seed=None):
        pass

    def draw(self, shape):
        fan_in, fan_out = _fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        var = self.scale / max(1.0, n)
        rng = get_rng()
        if self.uniform:
            limit = math.sqrt(3 * var)
            return rng.uniform(-limit, limit, shape)
        std = math.sqrt(var) / 0.87962566103423978
        out = rng.normal(0, std, shape)
        bad = np.abs(out) > 2 * std
        while bad.any():  # truncated normal: redraw beyond two standard deviations
            out[bad] = rng.normal(0, std, int(bad.sum()))
            bad = np.abs(out) > 2 * std
        return out


class GlorotUniform(_Variance):
    name = "glorot_uniform"


class GlorotNormal(_Variance):
    name, uniform = "glorot_normal", False


class HeUniform(_Variance):
    name, scale, mode = "he_uniform", 2.0, "fan_in"


class HeNormal(_Variance):
    name, scale, mode, uniform = "he_normal", 2.0, "fan_in", False


class Orthogonal(Initializer):
    name = "orthogonal"

    def __init__(self, gain=1.0, seed=None):
        self.gain = gain

    def draw(self, shape):
        rows, cols = int(np.prod(shape[:-1])), shape[-1]
        a = get_rng().normal(0.0, 1.0, (max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return self.gain * q[:rows, :cols].reshape(shape)


_NAMES = {c.name: c for c in (Zeros, Ones, Constant, RandomUniform, RandomNormal, GlorotUniform, GlorotNormal,
                              HeUniform, HeNormal, Orthogonal)}
_NAMES.update({"uniform": RandomUniform, "normal": RandomNormal, "zero": Zeros, "one": Ones})


def get(spec):
    """An initialiser from Keras's name ("glorot_uniform"), a class name, an instance or a callable."""
    if isinstance(spec, Initializer) or (callable(spec) and not isinstance(spec, (str, type))):
        return spec
    if isinstance(spec, type) and issubclass(spec, Initializer):
        return spec()
    if isinstance(spec, dict):
        return get(spec.get("class_name"))
    if isinstance(spec, str):
        key = spec if spec in _NAMES else next((k for k, c in _NAMES.items() if c.__name__ == spec), None)
        if key is not None:
            return _NAMES[key]()
    raise ValueError(f"unknown initializer {spec!r}; choose one of {', '.join(sorted(_NAMES))}")


def name_of(init):
    """The JSON-able name of an initialiser (for get_config)."""
    return getattr(init, "name", None) or type(init).__name__
