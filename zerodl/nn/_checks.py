"""Argument and input checks the layers share (each error names the layer and the shapes)."""
from collections import namedtuple

import numpy as np

from ..core import Tensor
from ..core.backend import is_array

__all__ = ["as_input", "positive_int", "shape_str", "check_state_keys", "IncompatibleKeys"]

# what load_state_dict returns, as in PyTorch
IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


def as_input(x):
    """Tensors and arrays pass through; anything else (nested lists) becomes an ndarray."""
    return x if isinstance(x, Tensor) or is_array(x) else np.asarray(x)


def positive_int(value, what, layer):
    """``int(value)``, or a ValueError naming the layer unless it is a positive integer (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{layer}: {what} must be a positive integer, got {value!r}")
    return int(value)


def shape_str(shape):
    """``(2, 3)`` for any shape-like (ints of NumPy or CuPy included)."""
    return str(tuple(int(s) for s in shape))


def check_state_keys(owner, shapes, state, strict):
    """``load_state_dict``'s check: a RuntimeError listing every missing, unexpected (with
    ``strict``) and mis-shaped key of ``state`` against ``shapes`` ({name: the model's shape})."""
    missing = [k for k in shapes if k not in state]
    unexpected = [k for k in state if k not in shapes]
    mismatched = []
    for k, want in shapes.items():
        if k in state:
            got = tuple(getattr(state[k], "shape", np.shape(state[k])))
            if got != tuple(want):
                mismatched.append((k, got, want))
    if not mismatched and not (strict and (missing or unexpected)):
        return
    lines = [f"Error(s) in loading state_dict for {owner}:"]
    if missing:
        lines.append(f"  missing keys: {missing}")
    if unexpected:
        lines.append(f"  unexpected keys: {unexpected}")
    for k, got, want in mismatched:
        lines.append(f"  mis-shaped key {k!r}: the state dict has shape {shape_str(got)}, "
                     f"the model has {shape_str(want)}")
    raise RuntimeError("\n".join(lines))
