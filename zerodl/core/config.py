"""The switches read by the ops: whether graphs are recorded, and the default floating dtype.

They are per thread, as PyTorch keeps its grad mode: ``no_grad()`` in a thread that serves
predictions does not stop another thread's training step from recording its graph. A thread
starts from the process defaults (graph recording on; the dtype last given to
``set_default_dtype``, float32 unless changed) at its first op.

    zd.set_default_dtype(np.float64)   # this thread, and the threads started from now on
    with zd.default_dtype(np.float64): # this thread only, for the block
    with zd.no_grad():                 # this thread only, for the block
"""
import contextlib
import threading

import numpy as np

# What a thread starts from (``set_default_dtype`` changes the dtype here as well).
_process_defaults = {"enable_backprop": True, "default_dtype": np.dtype(np.float32)}


class _ThreadConfig(threading.local):
    """Per-thread settings read on every op (instance attributes of a ``threading.local``:
    one dictionary look-up, cheap enough for the hot path)."""

    def __init__(self):  # runs once in each thread, at its first access
        self.__dict__.update(_process_defaults)
        self.grad_mode_stack = []  # the modes that no_grad / enable_grad blocks restore


Config = _ThreadConfig()


@contextlib.contextmanager
def using_config(name, value):
    """Temporarily set ``Config.<name>`` to ``value`` (in this thread)."""
    old = getattr(Config, name)
    setattr(Config, name, value)
    try:
        yield
    finally:
        setattr(Config, name, old)


class no_grad(contextlib.ContextDecorator):
    """Context manager (and decorator) that stops recording the graph in this thread, as
    ``torch.no_grad``. Nesting works; other threads are not affected."""

    def __enter__(self):
        # The old mode goes on this thread's stack, not on the instance: one instance (a
        # decorator) may be entered by several threads at once, or recursively.
        Config.grad_mode_stack.append(Config.enable_backprop)
        Config.enable_backprop = self._mode
        return self

    def __exit__(self, *exc):
        Config.enable_backprop = Config.grad_mode_stack.pop()
        return False

    _mode = False


class enable_grad(no_grad):
    """Re-enable graph recording inside a ``no_grad`` block (this thread only)."""

    _mode = True


def is_grad_enabled():
    """Whether ops record the graph in this thread."""
    return Config.enable_backprop


def set_default_dtype(dtype):
    """Set the dtype that floating input takes (float32 unless changed; float64 for checks),
    in this thread and in threads that start afterwards."""
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {dtype}")
    _process_defaults["default_dtype"] = dtype
    Config.default_dtype = dtype


def get_default_dtype():
    """The default floating dtype of this thread."""
    return Config.default_dtype


@contextlib.contextmanager
def default_dtype(dtype):
    """Temporarily change this thread's default floating dtype:
    ``with zd.default_dtype(np.float64): ...`` (other threads are not affected)."""
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"default_dtype: expected a floating dtype, got {dtype}")
    old = Config.default_dtype
    Config.default_dtype = dtype
    try:
        yield
    finally:
        Config.default_dtype = old
