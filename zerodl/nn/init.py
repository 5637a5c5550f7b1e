"""Weight initialisers, in place on a Tensor / Parameter (or an ndarray); each returns its input.

Random draws come from ``zerodl.core.get_rng()``, so ``zd.manual_seed(s)`` makes them
reproducible. The values are drawn on the host and copied into the tensor's own array (its
dtype and device are kept).

Fans (``fan_in``, ``fan_out``):

- 2-D weights are zerodl's linear layout **(in_features, out_features)** (the transpose of
  PyTorch's): ``fan_in = shape[0]``, ``fan_out = shape[1]``.
- N-D weights (N > 2) are the convolution layout ``(C_out, C_in, KH, KW, ...)``:
  ``fan_in = C_in * KH * KW``, ``fan_out = C_out * KH * KW``.

Defaults used by the layers (the book's advice for ReLU networks):

- ``Linear.W`` and ``Conv2d.W``: He normal, ``std = sqrt(2 / fan_in)``; biases zero.
- ``ConvTranspose2d.W`` (C_in, C_out, KH, KW): He normal with ``std = sqrt(2 / (C_in*KH*KW))``.
- ``Embedding.W``: normal, ``std = 0.01`` (the book's word2vec).
- BatchNorm: ``gamma = 1``, ``beta = 0``.

For sigmoid / tanh networks re-initialise with ``xavier_normal_`` / ``xavier_uniform_``::

    for name, p in model.named_parameters():
        if p.ndim >= 2:
            nn.init.xavier_normal_(p)
"""
import math

import numpy as np

from ..core import Tensor, get_rng
from ..core.backend import get_array_module

__all__ = [
    "calculate_fans",
    "constant_",
    "zeros_",
    "ones_",
    "normal_",
    "uniform_",
    "xavier_uniform_",
    "xavier_normal_",
    "he_uniform_",
    "he_normal_",
]


def _array(t):
    arr = t.data if isinstance(t, Tensor) else t
    if not hasattr(arr, "shape") or not hasattr(arr, "dtype"):
        raise TypeError(f"nn.init: expected a Tensor, Parameter or array, got {type(t).__name__}")
    return arr


def _fill(t, values):
    arr = _array(t)
    xp = get_array_module(arr)
    arr[...] = values if xp is np else xp.asarray(values)
    return t


def _draw_dtype(arr):
    return np.float32 if arr.dtype == np.float32 else np.float64


def calculate_fans(shape):
    """``(fan_in, fan_out)`` for a weight shape (see the module docstring for the layouts)."""
    shape = tuple(shape)
    if len(shape) < 2:
        raise ValueError(f"nn.init: fan_in/fan_out need a weight with at least 2 dimensions, got shape {shape}")
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _fan(shape, mode):
    fan_in, fan_out = calculate_fans(shape)
    if mode == "fan_in":
        return fan_in
    if mode == "fan_out":
        return fan_out
    raise ValueError(f"nn.init: mode must be 'fan_in' or 'fan_out', got {mode!r}")


def constant_(t, val):
    """Fill ``t`` with ``val`` in place."""
    _array(t)[...] = val
    return t


def zeros_(t):
    """Fill ``t`` with zeros in place."""
    return constant_(t, 0)


def ones_(t):
    """Fill ``t`` with ones in place."""
    return constant_(t, 1)


def normal_(t, std=1.0, mean=0.0):
    """Fill ``t`` with draws from N(mean, std**2) in place."""
    arr = _array(t)
    values = get_rng().standard_normal(arr.shape, dtype=_draw_dtype(arr))
    if std != 1.0:
        values *= std
    if mean != 0.0:
        values += mean
    return _fill(t, values)


def uniform_(t, a=0.0, b=1.0):
    """Fill ``t`` with draws from U(a, b) in place."""
    arr = _array(t)
    values = get_rng().random(arr.shape, dtype=_draw_dtype(arr))
    values *= b - a
    values += a
    return _fill(t, values)


def xavier_uniform_(t, gain=1.0):
    """Glorot/Xavier uniform: U(-bound, bound), ``bound = gain * sqrt(6 / (fan_in + fan_out))``."""
    fan_in, fan_out = calculate_fans(_array(t).shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -bound, bound)


def xavier_normal_(t, gain=1.0):
    """Glorot/Xavier normal: ``std = gain * sqrt(2 / (fan_in + fan_out))`` (the book's sigmoid init)."""
    fan_in, fan_out = calculate_fans(_array(t).shape)
    return normal_(t, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def he_uniform_(t, mode="fan_in"):
    """He/Kaiming uniform for ReLU: U(-bound, bound), ``bound = sqrt(6 / fan)``."""
    bound = math.sqrt(6.0 / _fan(_array(t).shape, mode))
    return uniform_(t, -bound, bound)


def he_normal_(t, mode="fan_in"):
    """He/Kaiming normal for ReLU: ``std = sqrt(2 / fan)`` (``fan = fan_in`` by default)."""
    return normal_(t, math.sqrt(2.0 / _fan(_array(t).shape, mode)))
