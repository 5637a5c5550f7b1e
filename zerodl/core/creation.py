"""Tensor constructors with PyTorch's names: ``zd.zeros(2, 3)``, ``zd.randn(4, 5)``, ...

Floating results take the default dtype (float32) unless ``dtype`` is given; random ones
draw from zerodl's generator, so ``zd.manual_seed`` makes them repeatable. Shapes are given
as PyTorch does: ``zeros(2, 3)`` or ``zeros((2, 3))``. Integer ``arange`` gives int64, as
``torch.arange`` (its result indexes tensors); ``from_numpy`` / ``as_tensor`` share an
ndarray's memory and keep its dtype, as PyTorch's.
"""
import numbers

import numpy as np

from .backend import as_cupy, get_array_module, is_array
from .config import Config
from .random import get_rng
from .tensor import Tensor

__all__ = ["zeros", "ones", "full", "empty", "zeros_like", "ones_like", "full_like", "arange",
           "randn", "rand", "randint", "from_numpy", "as_tensor"]


def _shape(op, size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 0:
            raise TypeError(f"zd.{op}: sizes must be non-negative ints, got {size!r}")
    return tuple(int(s) for s in size)


def _dtype(dtype):
    return Config.default_dtype if dtype is None else np.dtype(dtype)


def _place(arr, requires_grad, device):
    """A leaf over ``arr`` (no copy), moved to ``device`` ("cpu"/None: NumPy; "cuda": CuPy)."""
    if device not in (None, "cpu", "numpy"):
        if str(device).split(":")[0] not in ("cuda", "gpu", "cupy"):
            raise ValueError(f"unknown device {device!r} (use 'cpu' or 'cuda')")
        arr = as_cupy(arr)
    t = Tensor._wrap(arr)
    return t.requires_grad_(True) if requires_grad else t


def zeros(*size, dtype=None, requires_grad=False, device=None):
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return _place(np.zeros(_shape("zeros", size), _dtype(dtype)), requires_grad, device)


def ones(*size, dtype=None, requires_grad=False, device=None):
    """A tensor of ones: ``ones(2, 3)`` or ``ones((2, 3))``."""
    return _place(np.ones(_shape("ones", size), _dtype(dtype)), requires_grad, device)


def empty(*size, dtype=None, requires_grad=False, device=None):
    """An uninitialised tensor (its values are whatever the memory held)."""
    return _place(np.empty(_shape("empty", size), _dtype(dtype)), requires_grad, device)


def full(size, fill_value, dtype=None, requires_grad=False, device=None):
    """A tensor of shape ``size`` (a tuple) filled with ``fill_value``."""
    size = (size,) if isinstance(size, numbers.Integral) else size
    if dtype is None and isinstance(fill_value, (bool, np.bool_)):
        dtype = np.bool_
    elif dtype is None and isinstance(fill_value, numbers.Integral):
        dtype = np.int64  # torch.full(..., 3) is int64 as well
    return _place(np.full(_shape("full", (size,)), fill_value, _dtype(dtype)), requires_grad, device)


def _like(op, t, dtype):
    data = t.data if isinstance(t, Tensor) else t
    if not hasattr(data, "shape"):
        raise TypeError(f"zd.{op}: expected a tensor or an array, got {type(t).__name__}")
    return data, (data.dtype if dtype is None else np.dtype(dtype))


def zeros_like(t, dtype=None, requires_grad=False):
    """Zeros with ``t``'s shape, dtype (unless given) and device."""
    data, dt = _like("zeros_like", t, dtype)
    xp = get_array_module(data)
    return _place(xp.zeros(data.shape, dt), requires_grad, None)


def ones_like(t, dtype=None, requires_grad=False):
    """Ones with ``t``'s shape, dtype (unless given) and device."""
    data, dt = _like("ones_like", t, dtype)
    xp = get_array_module(data)
    return _place(xp.ones(data.shape, dt), requires_grad, None)


def full_like(t, fill_value, dtype=None, requires_grad=False):
    """``fill_value`` everywhere, with ``t``'s shape, dtype (unless given) and device."""
    data, dt = _like("full_like", t, dtype)
    xp = get_array_module(data)
    return _place(xp.full(data.shape, fill_value, dt), requires_grad, None)


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None):
    """``[start, end)`` in steps of ``step`` (``arange(5)`` is 0..4): int64 when every argument
    is an int, else the default floating dtype, as ``torch.arange``."""
    if end is None:
        start, end = 0, start
    ints = all(isinstance(v, numbers.Integral) for v in (start, end, step))
    if dtype is None:
        dtype = np.int64 if ints else Config.default_dtype
    if step == 0:
        raise ValueError("zd.arange: step must be non-zero")
    return _place(np.arange(start, end, step).astype(dtype, copy=False), requires_grad, device)


def randn(*size, dtype=None, requires_grad=False, device=None):
    """Standard normal samples from zerodl's seeded generator: ``randn(2, 3)``."""
    dt = _dtype(dtype)
    return _place(get_rng().standard_normal(_shape("randn", size)).astype(dt), requires_grad, device)


def rand(*size, dtype=None, requires_grad=False, device=None):
    """Uniform samples in [0, 1) from zerodl's seeded generator: ``rand(2, 3)``."""
    dt = _dtype(dtype)
    return _place(get_rng().random(_shape("rand", size)).astype(dt), requires_grad, device)


def randint(low, high=None, size=(), dtype=np.int64, device=None):
    """Integers in ``[low, high)`` (``randint(high, size=...)`` as well), int64 by default."""
    if high is None:
        low, high = 0, low
    return _place(get_rng().integers(low, high, _shape("randint", (size,))).astype(dtype), False, device)


def from_numpy(a):
    """A tensor sharing ``a``'s memory and keeping its dtype (as ``torch.from_numpy``)."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"zd.from_numpy: expected a numpy.ndarray, got {type(a).__name__}")
    if a.dtype.kind == "O":
        raise TypeError("zd.from_numpy: object arrays are not supported")
    return Tensor._wrap(a)


def as_tensor(data, dtype=None, device=None):
    """``data`` as a tensor without copying when it can: a Tensor is returned as it is (cast
    when ``dtype`` differs), an ndarray is shared with its dtype kept; lists and numbers take
    the default floating dtype (ints stay int64), as ``torch.as_tensor``."""
    if isinstance(data, Tensor):
        t = data if dtype is None or data.dtype == np.dtype(dtype) else data.astype(dtype)
    elif is_array(data):
        arr = data if dtype is None else data.astype(dtype, copy=False)
        if arr.dtype.kind == "O":
            raise TypeError("zd.as_tensor: object arrays are not supported")
        t = Tensor._wrap(arr)
    else:
        t = Tensor(data, dtype=dtype)
    return t if device is None else t.to(device)
