"""Global switches: whether graphs are recorded, and the default floating dtype."""
import contextlib

import numpy as np


class Config:
    """Process-wide settings read on every op (kept as plain class attributes: cheap to read)."""

    enable_backprop = True
    default_dtype = np.dtype(np.float32)


@contextlib.contextmanager
def using_config(name, value):
    """Temporarily set ``Config.<name>`` to ``value``."""
    old = getattr(Config, name)
    setattr(Config, name, value)
    try:
        yield
    finally:
        setattr(Config, name, old)


class no_grad(contextlib.ContextDecorator):
    """Context manager (and decorator) that stops recording the graph, as ``torch.no_grad``."""

    def __enter__(self):
        self._old = Config.enable_backprop
        Config.enable_backprop = False
        return self

    def __exit__(self, *exc):
        Config.enable_backprop = self._old
        return False


class enable_grad(no_grad):
    """Re-enable graph recording inside a ``no_grad`` block."""

    def __enter__(self):
        self._old = Config.enable_backprop
        Config.enable_backprop = True
        return self


def is_grad_enabled():
    return Config.enable_backprop


def set_default_dtype(dtype):
    """Set the dtype that floating input takes (float32 unless changed; float64 for checks)."""
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {dtype}")
    Config.default_dtype = dtype


def get_default_dtype():
    return Config.default_dtype


@contextlib.contextmanager
def default_dtype(dtype):
    """Temporarily change the default floating dtype: ``with zd.default_dtype(np.float64): ...``."""
    old = Config.default_dtype
    set_default_dtype(dtype)
    try:
        yield
    finally:
        Config.default_dtype = old
