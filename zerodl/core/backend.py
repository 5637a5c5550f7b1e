"""The array module (``xp``) behind a tensor: NumPy, or CuPy when the data lives on a GPU.

Ops never hard-code NumPy: they ask ``get_array_module(x)`` for the module of their input.
"""
import numpy as np

try:  # CuPy is optional; zerodl imports with NumPy alone.
    import cupy as _cupy
except Exception:  # pragma: no cover - depends on the machine
    _cupy = None

gpu_available = _cupy is not None


def get_array_module(x):
    """Return ``numpy`` or ``cupy`` for an ndarray (or Tensor) ``x``."""
    if type(x) is np.ndarray or _cupy is None:
        return np
    data = getattr(x, "data", x)
    return _cupy.get_array_module(data)


def as_numpy(x):
    """Copy device data to the host (no copy for NumPy arrays)."""
    if _cupy is not None and isinstance(x, _cupy.ndarray):
        return _cupy.asnumpy(x)
    return np.asarray(x)


def as_cupy(x):
    if _cupy is None:
        raise RuntimeError("CuPy is not installed: pip install 'zerodl[gpu]' (cupy-cuda12x)")
    return _cupy.asarray(x)


def is_array(x):
    return isinstance(x, np.ndarray) or (_cupy is not None and isinstance(x, _cupy.ndarray))
