"""``zerodl.nn.functional``: every op of ``zerodl.functions``, plus PyTorch's functional names.

    import zerodl.nn.functional as F
    loss = F.cross_entropy(model(x), y, label_smoothing=0.1)

Where PyTorch's argument order differs from zerodl's, the PyTorch one is used here
(``batch_norm(input, running_mean, running_var, weight, bias, ...)``, ``leaky_relu(input,
negative_slope)``). One difference stays: ``linear(x, W, b)`` takes W of shape
(in_features, out_features), as every zerodl layer (``y = x @ W + b``, the book's layout).
"""
import builtins

import numpy as np

from .. import functions as _F
from ..core import Tensor, get_array_module
from ..functions import *  # noqa: F401,F403  (max, min, sum, abs, pow are zerodl's here: builtins.max below)
from ..functions import concat, getitem
from .loss_functions import (  # noqa: F401
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_loss,
    mse_loss,
    nll_loss,
)


def leaky_relu(input, negative_slope=0.01):  # noqa: A002
    return _F.leaky_relu(input, negative_slope)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):  # noqa: A002
    """PyTorch's argument order over ``zerodl.functions.batch_norm`` (which takes gamma and beta
    first); missing ``weight`` / ``bias`` are ones / zeros."""
    C = input.shape[1]
    xp = get_array_module(input.data if isinstance(input, Tensor) else input)
    dtype = input.dtype
    weight = xp.ones(C, dtype) if weight is None else weight
    bias = xp.zeros(C, dtype) if bias is None else bias
    return _F.batch_norm(input, weight, bias, running_mean, running_var, training, momentum=momentum, eps=eps)


def one_hot(tensor, num_classes=-1):
    """Int class indices (any shape) -> int64 one-hot of shape (..., num_classes), as PyTorch's
    (num_classes=-1: one more than the largest index)."""
    t = tensor.data if isinstance(tensor, Tensor) else np.asarray(tensor)
    xp = get_array_module(t)
    if t.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expects int class indices, got dtype {t.dtype}")
    if num_classes == -1:
        num_classes = int(t.max()) + 1 if t.size else 0
    if t.size and (int(t.min()) < 0 or int(t.max()) >= num_classes):
        raise ValueError(f"one_hot: class values must be in [0, {num_classes}), got [{int(t.min())}, {int(t.max())}]")
    return Tensor._wrap(xp.eye(num_classes, dtype=xp.int64)[t])


def _pad_index(n, before, after, mode, xp):
    """The source index of every output position along one dim (reflect, replicate, circular)."""
    i = xp.arange(-before, n + after)
    if mode == "replicate":
        return xp.clip(i, 0, n - 1)
    if mode == "circular":
        return i % n
    period = 2 * (n - 1)  # reflect: ... 2 1 | 0 1 2 ... n-1 | n-2 ...
    i = xp.abs(i) % period if period else xp.zeros_like(i)
    return xp.where(i < n, i, period - i)


def pad(input, pad, mode="constant", value=0.0):  # noqa: A002
    """``torch.nn.functional.pad``: ``pad`` gives (before, after) pairs from the LAST dim backwards
    (``(1, 1)`` pads the last dim, ``(1, 1, 2, 2)`` the last two). Modes: "constant" (``value``),
    "reflect", "replicate", "circular". Differentiable; negative amounts crop."""
    x = input if isinstance(input, Tensor) else _F.identity(input)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: expects (before, after) pairs for at most {x.ndim} dims, got {tuple(pad)}")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}")
    xp = get_array_module(x.data)
    for k in range(len(pad) // 2):
        d = x.ndim - 1 - k
        before, after = int(pad[2 * k]), int(pad[2 * k + 1])
        if before < 0 or after < 0:  # crop first
            n = x.shape[d]
            x = getitem(x, (slice(None),) * d + (slice(builtins.max(-before, 0), n - builtins.max(-after, 0)),))
            before, after = builtins.max(before, 0), builtins.max(after, 0)
        if not (before or after):
            continue
        n = x.shape[d]
        if mode == "constant":
            parts = []
            for amount in (before, after):
                shape = x.shape[:d] + (amount,) + x.shape[d + 1:]
                parts.append(Tensor._wrap(xp.full(shape, value, dtype=x.dtype)))
            x = concat([parts[0], x, parts[1]], axis=d)
            continue
        if mode == "reflect" and (before >= n or after >= n):
            raise ValueError(f"pad: reflect padding of {before}, {after} needs more than {n} entries along dim {d}")
        x = getitem(x, (slice(None),) * d + (_pad_index(n, before, after, mode, xp),))
    return x
