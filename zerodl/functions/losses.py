"""Losses. Each returns a 0-d tensor.

Reductions (as PyTorch's ``reduction="mean"``):

- ``softmax_cross_entropy`` and ``cross_entropy_error`` average over the batch: over N for
  (N, C) scores; for scores of more dimensions, (N, T, C) with targets (N, T), over every
  position, N*T (the classes are always the last axis);
- ``mean_squared_error``, ``mean_absolute_error``, ``binary_cross_entropy_with_logits`` and
  ``binary_cross_entropy`` average over all elements; ``sum_squared_error`` is the book's
  ``0.5 * sum((y - t)**2)``.
- ``softmax_cross_entropy(..., ignore_index=k)`` averages over the targets that are not ``k``.

Targets are plain arrays or tensors; only ``mean_squared_error``, ``sum_squared_error`` and
``mean_absolute_error`` pass a gradient to a target that requires one. Shapes must match
exactly (no broadcasting: ``(N, 1)`` against ``(N,)`` is an error, not an (N, N) loss).
"""
import math

import numpy as np

from ..core import Function, Tensor, get_array_module
from ._util import array as _array, floating as _floating, over_batch, sigmoid as _sigmoid, softmax_rows as _softmax_rows

__all__ = [
    "mean_squared_error",
    "sum_squared_error",
    "mean_absolute_error",
    "softmax_cross_entropy",
    "cross_entropy_error",
    "binary_cross_entropy_with_logits",
    "binary_cross_entropy",
]


def _raw_target(t, like, op):
    """A target as a raw array (never part of the graph); floating targets take ``like``'s dtype."""
    if isinstance(t, Tensor):
        t = t.data
    xp = get_array_module(like)
    t = xp.asarray(t)
    if t.dtype.kind == "O":
        raise TypeError(f"{op}: targets must be numeric, got an object array")
    return t


def _same_shape(op, y, t):
    if y.shape != t.shape:
        raise ValueError(
            f"{op}: prediction of shape {tuple(y.shape)} and target of shape {tuple(t.shape)} "
            "do not match (reshape one of them; no broadcasting is done)"
        )


def _elementwise_target(y, t):
    """(y, t) for the element-wise losses: t keeps its graph only when it requires grad."""
    if isinstance(t, Tensor) and t.requires_grad:
        return y, t
    t = t.data if isinstance(t, Tensor) else t
    xp = get_array_module(getattr(y, "data", y))
    dtype = y.data.dtype if isinstance(y, Tensor) else None
    t = xp.asarray(t, dtype=dtype) if dtype is not None and dtype.kind == "f" else t
    return y, t


class MeanSquaredError(Function):
    """``mean((y - t)**2)``; backward ``gy * 2 (y - t) / size``."""

    def forward(self, y, t):
        _same_shape("mean_squared_error", y, t)
        diff = y - t
        self.diff = diff
        return get_array_module(y).asarray((diff * diff).mean())

    def backward(self, gy):
        g = self.diff * (gy * (2.0 / self.diff.size))
        return g, (-g if self.needs_grad(1) else None)


class SumSquaredError(Function):
    """The book's ``0.5 * sum((y - t)**2)``; backward ``gy * (y - t)``."""

    def forward(self, y, t):
        _same_shape("sum_squared_error", y, t)
        diff = y - t
        self.diff = diff
        return get_array_module(y).asarray(0.5 * (diff * diff).sum())

    def backward(self, gy):
        g = self.diff * gy
        return g, (-g if self.needs_grad(1) else None)


class MeanAbsoluteError(Function):
    """``mean(|y - t|)``; backward ``gy * sign(y - t) / size`` (0 where y == t)."""

    def forward(self, y, t):
        _same_shape("mean_absolute_error", y, t)
        xp = get_array_module(y)
        diff = y - t
        self.sign = xp.sign(diff)
        return xp.asarray(xp.abs(diff).mean())

    def backward(self, gy):
        g = self.sign * (gy / self.sign.size)
        return g, (-g if self.needs_grad(1) else None)


def _class_targets(op, x, t, ignore_index=None):
    """Check targets against scores ``x`` of shape (..., C).

    Returns ``(t, is_index)``: int class indices of shape x.shape[:-1] (checked to lie in
    [0, C), apart from ``ignore_index``), or one-hot / probabilities of x's shape, cast to x's dtype.
    """
    if x.ndim == 0:
        raise ValueError(f"{op}: scores must have a class axis, got a scalar")
    C = x.shape[-1]
    if t.dtype.kind in "iu" and t.shape == x.shape[:-1]:
        kept = t if ignore_index is None else t[t != ignore_index]
        if kept.size:
            lo, hi = int(kept.min()), int(kept.max())
            if lo < 0 or hi >= C:
                bad = lo if lo < 0 else hi
                raise IndexError(f"{op}: class index {bad} is out of range for C={C} classes")
        return t, True
    if t.shape == x.shape:
        return (t if t.dtype == x.dtype else t.astype(x.dtype)), False
    raise ValueError(
        f"{op}: scores of shape {tuple(x.shape)} and targets of shape {tuple(t.shape)} do not "
        f"match (targets are int class indices of shape {tuple(x.shape[:-1])} or one-hot / "
        f"probabilities of shape {tuple(x.shape)})"
    )


class SoftmaxCrossEntropy(Function):
    """The book's SoftmaxWithLoss, fused and stable: ``-mean(log softmax(x)[t])``.

    Forward computes the softmax once (from ``x - max``) and keeps it; backward is
    ``(softmax(x) - onehot(t)) / N`` (for probability targets ``(softmax * sum(t) - t) / N``,
    which is the same when each row of t sums to 1). With ``ignore_index`` the rows whose
    target is that index get no loss and no gradient, and N counts the other rows (0 of them
    gives NaN, as PyTorch's mean over nothing).
    """

    def __init__(self, t, ignore_index=None):
        self.t = t
        self.ignore_index = ignore_index

    def forward(self, x):
        xp = get_array_module(x)
        x = _floating(x)
        t = self.t
        is_index = t.dtype.kind in "iu" and t.shape == x.shape[:-1] and x.ndim > 0
        if not is_index:
            if self.ignore_index is not None:
                raise ValueError(
                    "softmax_cross_entropy: ignore_index needs int class-index targets of shape "
                    f"{tuple(x.shape[:-1])}, got targets of shape {tuple(t.shape)} and dtype {t.dtype}"
                )
            t, _ = _class_targets("softmax_cross_entropy", x, t)
        C = x.shape[-1]
        x2 = x.reshape(math.prod(x.shape[:-1]), C)
        p, m, sum_exp = _softmax_rows(x2)  # (R, C), (R, 1), (R, 1)
        p = p.reshape(x.shape)
        self.p, self.is_index = p, is_index
        if is_index and self.ignore_index is not None:
            _class_targets("softmax_cross_entropy", x, t, self.ignore_index)
            keep = (t != self.ignore_index).reshape(-1)
            self.rows = rows = xp.nonzero(keep)[0]
            self.t = t = t.reshape(-1)[rows]
            self.n = n = rows.size
            self.dropped = ~keep
            loss = xp.log(sum_exp.reshape(-1)[rows]).sum() - (x2[rows, t] - m[rows, 0]).sum()
            self.p, self.is_index = p, True
            return xp.asarray(loss / n if n else xp.nan, dtype=x.dtype)
        self.dropped = None
        if is_index:
            n = t.size
            t = t.reshape(-1)
            rows = xp.arange(n)
            # NumPy's fancy indexing rejects indices >= C but wraps negative ones around, and
            # CuPy checks neither: check what the backend does not.
            if xp is not np or t.dtype.kind == "i" and n and t.min() < 0:
                _class_targets("softmax_cross_entropy", x, self.t)  # raises, naming the bad index
            try:
                picked = x2[rows, t] - m[:, 0]  # the targets' entries of x - max
            except IndexError:
                _class_targets("softmax_cross_entropy", x, self.t)
                raise
            self.t, self.rows, self.n = t, rows, n
            loss = xp.log(sum_exp).sum() - picked.sum()
        else:
            self.t, self.n = t, p.size // C if C else 0
            s = x2 - m
            s -= xp.log(sum_exp)  # log softmax
            loss = -(t * s.reshape(x.shape)).sum()
        return xp.asarray(loss / self.n, dtype=x.dtype)

    def backward(self, gy):
        xp = get_array_module(gy)
        scale = gy / self.n if self.n else gy * 0
        p = self.p
        g = xp.empty_like(p, dtype=xp.result_type(p, scale))
        over_batch(lambda s: xp.multiply(p[s], scale, out=g[s]), p)
        if self.dropped is not None:
            g2 = g.reshape(-1, p.shape[-1])
            g2[self.rows, self.t] -= scale
            g2[self.dropped] = 0
        elif self.is_index:
            g.reshape(self.n, p.shape[-1])[self.rows, self.t] -= scale
        else:
            t = self.t
            g *= t.sum(axis=-1, keepdims=True)
            g -= t * scale
        return g


class CrossEntropyError(Function):
    """The book's ``cross_entropy_error`` on probabilities ``y``:
    ``-sum(t * log(y + 1e-7)) / N``; the small delta keeps ``log(0)`` finite.
    Backward: ``-t / (y + 1e-7) / N``.
    """

    delta = 1e-7

    def __init__(self, t):
        self.t = t

    def forward(self, y):
        xp = get_array_module(y)
        t, self.is_index = _class_targets("cross_entropy_error", y, self.t)
        C = y.shape[-1]
        self.y = y
        self.n = n = y.size // C if C else 0
        if self.is_index:
            t = t.reshape(-1)
            self.t = t
            picked = y.reshape(-1, C)[xp.arange(n), t]
            loss = -xp.log(picked + self.delta).sum()
        else:
            self.t = t
            loss = -(t * xp.log(y + self.delta)).sum()
        return xp.asarray(loss / n, dtype=y.dtype)

    def backward(self, gy):
        xp = get_array_module(gy)
        y, n = self.y, self.n
        if self.is_index:
            C = y.shape[-1]
            rows = xp.arange(n)
            g = xp.zeros((n, C), dtype=y.dtype)
            g[rows, self.t] = -(gy / n) / (y.reshape(-1, C)[rows, self.t] + self.delta)
            return g.reshape(y.shape)
        g = self.t / (y + self.delta)
        g *= -(gy / n)
        return g


class BinaryCrossEntropyWithLogits(Function):
    """``mean(max(z, 0) - z t + log(1 + exp(-|z|)))``, the stable form of
    ``-mean(t log sigmoid(z) + (1 - t) log(1 - sigmoid(z)))``.
    Backward: ``(sigmoid(z) - t) / size``.

    ``mean=False`` keeps the element-wise losses; ``pos_weight`` (PyTorch's) scales the
    positive term: ``(1 - t) z + (1 + (pw - 1) t) softplus(-z)``, backward ``(1 - t) - lw (1 - sigmoid(z))``.
    """

    def __init__(self, t, mean=True, pos_weight=None):
        self.t, self.mean, self.pos_weight = t, mean, pos_weight

    def forward(self, z):
        xp = get_array_module(z)
        t = self.t
        _same_shape("binary_cross_entropy_with_logits", z, t)
        z = _floating(z)
        if t.dtype != z.dtype:
            t = self.t = t.astype(z.dtype)
        e = _array(xp.abs(z))
        xp.negative(e, out=e)
        xp.exp(e, out=e)  # exp(-|z|) in (0, 1]: never overflows
        self.z = z
        if self.pos_weight is None:
            loss = xp.maximum(z, 0)
            loss -= z * t
            loss += xp.log1p(e)
        else:
            self.lw = 1 + (self.pos_weight.astype(z.dtype) - 1) * t
            loss = (1 - t) * z + self.lw * (xp.log1p(e) + xp.maximum(-z, 0))
        return xp.asarray(loss.mean()) if self.mean else _array(loss)

    def backward(self, gy):
        s = _sigmoid(self.z)
        if self.pos_weight is not None:
            s = (1 - self.t) - self.lw * (1 - s)
        else:
            s -= self.t
        s *= gy / s.size if self.mean else gy
        return s


def mean_squared_error(y, t):
    """``mean((y - t)**2)`` over all elements (PyTorch's ``MSELoss()``)."""
    return MeanSquaredError()(*_elementwise_target(y, t))


def sum_squared_error(y, t):
    """The book's ``0.5 * sum((y - t)**2)``."""
    return SumSquaredError()(*_elementwise_target(y, t))


def mean_absolute_error(y, t):
    """``mean(|y - t|)`` over all elements (PyTorch's ``L1Loss()``)."""
    return MeanAbsoluteError()(*_elementwise_target(y, t))


def softmax_cross_entropy(logits, t, ignore_index=None):
    """Cross entropy of ``softmax(logits)`` against ``t``, averaged over the batch.

    logits (N, C) with t int class indices (N,) or one-hot / probabilities (N, C); logits
    (N, T, C) with t (N, T) (or (N, T, C)) averages over all N*T positions. The gradient is
    ``(softmax(logits) - onehot(t)) / N``. ``ignore_index`` (int targets only): positions
    whose target equals it count neither in the loss nor in N (padding in sequences).
    """
    like = logits.data if isinstance(logits, Tensor) else logits
    target = _raw_target(t, like, "softmax_cross_entropy")
    return SoftmaxCrossEntropy(target, None if ignore_index is None else int(ignore_index))(logits)


def cross_entropy_error(y, t):
    """The book's cross entropy on probabilities ``y`` (N, C): ``-sum(t log(y + 1e-7)) / N``
    with t int class indices (N,) or one-hot (N, C); 1-D ``y`` is one sample.
    """
    like = y.data if isinstance(y, Tensor) else y
    return CrossEntropyError(_raw_target(t, like, "cross_entropy_error"))(y)


def binary_cross_entropy_with_logits(z, t):
    """Binary cross entropy of ``sigmoid(z)`` against targets in [0, 1], mean over all elements."""
    like = z.data if isinstance(z, Tensor) else z
    return BinaryCrossEntropyWithLogits(_raw_target(t, like, "binary_cross_entropy_with_logits"))(z)


class BinaryCrossEntropy(Function):
    """``-mean(t log p + (1 - t) log(1 - p))`` on probabilities ``p``.

    Stable clipping, as PyTorch's ``BCELoss``: each log is clamped below at -100, so p = 0 or
    1 gives a finite loss (100 per wrong element) instead of inf; the gradient
    ``(p - t) / max(p (1 - p), 1e-12) / size`` stays finite there too.
    """

    def __init__(self, t, mean=True):
        self.t, self.mean = t, mean  # mean=False: the element-wise losses

    def forward(self, p):
        xp = get_array_module(p)
        _same_shape("binary_cross_entropy", p, self.t)
        p = _floating(p)
        if p.size and (float(p.min()) < 0 or float(p.max()) > 1):
            raise ValueError(
                f"binary_cross_entropy: inputs must be probabilities in [0, 1] (got values in "
                f"[{float(p.min()):.4g}, {float(p.max()):.4g}]); pass logits to binary_cross_entropy_with_logits"
            )
        t = self.t = self.t.astype(p.dtype, copy=False)
        self.p = p
        with np.errstate(divide="ignore"):
            log_p = xp.maximum(xp.log(p), -100)
            log_q = xp.maximum(xp.log1p(-p), -100)
        loss = t * (log_p - log_q)
        loss += log_q
        return xp.asarray(-loss.mean(), dtype=p.dtype) if self.mean else _array(-loss)

    def backward(self, gy):
        xp = get_array_module(gy)
        p = self.p
        g = p - self.t
        g /= xp.maximum(p * (1 - p), 1e-12)
        g *= gy / p.size if self.mean else gy
        return g


def binary_cross_entropy(p, t):
    """Binary cross entropy of probabilities ``p`` against targets ``t`` in [0, 1] (same shape),
    mean over all elements (PyTorch's ``BCELoss()``); logs clamped at -100 as PyTorch's.
    For raw scores, ``binary_cross_entropy_with_logits`` is the stabler choice."""
    like = p.data if isinstance(p, Tensor) else p
    return BinaryCrossEntropy(_raw_target(t, like, "binary_cross_entropy"))(p)
