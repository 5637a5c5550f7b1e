"""Dropout (inverted), batch and layer normalisation (fused, closed-form backward)."""
import numpy as np

from ..core import Function, Tensor, as_tensor, get_array_module, get_rng
from ..core.threads import map_chunks
from ._util import fast_array, fast_module, fixed_pieces

__all__ = ["dropout", "batch_norm", "layer_norm"]


class Dropout(Function):
    """Inverted dropout: ``y = x * mask / (1 - p)`` with ``mask ~ Bernoulli(1 - p)``.

    The scaled mask is drawn once in forward (from ``zerodl.core.get_rng()``, so
    ``zd.manual_seed`` reproduces it) and reused in backward: ``gx = gy * mask / (1 - p)``.
    """

    def __init__(self, p):
        self.p = p

    def forward(self, x):
        xp = get_array_module(x)
        dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.dtype(np.float64)
        if self.p >= 1:
            mask = xp.zeros(x.shape, dtype=dtype)
        else:
            keep = get_rng().random(x.shape, dtype=dtype) >= self.p
            mask = keep * dtype.type(1 / (1 - self.p))  # the kept entries, already rescaled
            if xp is not np:
                mask = xp.asarray(mask)
        self.mask = mask
        return x * mask

    def backward(self, gy):
        return gy * self.mask


def _stat_array(s):
    return s.data if isinstance(s, Tensor) else s


def _channel_sum(a, b=None):
    """Sum of ``a`` (or of ``a * b``, without the product array) over every axis but 1: (C,).

    ``einsum`` runs these reductions as dot products (no temporary), faster than
    ``sum(axis=(0, 2, 3))`` over the strided axes.
    """
    xp = get_array_module(a)
    a = a.reshape(a.shape[0], a.shape[1], -1)
    if b is None:
        return xp.einsum("nci->c", a)
    return xp.einsum("nci,nci->c", a, b.reshape(a.shape))


# Batch norm's kernels take the batch in pieces of at least BN_PIECE_ELEMENTS elements
# (_util.fixed_pieces); the pieces' sums are added in their order.
BN_PIECE_ELEMENTS = 1 << 17


def _in_order(parts):
    """The sum of the (C,) float64 arrays ``parts``, added in their order."""
    return sum(parts[1:], parts[0])


def _batch_pieces(x3):
    """Slices of x3's first axis (N, C, M) for the kernels."""
    return fixed_pieces(x3.shape[0], x3.size, BN_PIECE_ELEMENTS)


def _fast_train(fast, x, gamma, beta, eps):
    """The kernels' training forward of x (N, C, ...): (xhat, y, mean, var, inv_std), the last
    three (C,) float64, each pass over the batch's pieces on the pool."""
    xhat, y = np.empty_like(x), np.empty_like(x)
    x3 = x.reshape(x.shape[0], x.shape[1], -1)
    xh3, y3 = xhat.reshape(x3.shape), y.reshape(x3.shape)
    n, pieces = x3.size // x3.shape[1], _batch_pieces(x3)
    mean = _in_order(map_chunks(lambda s: fast.channel_sums(x3[s], None, None), pieces)) / n
    var = _in_order(map_chunks(lambda s: fast.channel_sums(x3[s], x3[s], mean), pieces)) / n
    inv_std = 1.0 / np.sqrt(var + eps)
    mu, k = mean.astype(x.dtype), inv_std.astype(x.dtype)
    map_chunks(lambda s: fast.batch_norm_apply(x3[s], mu, k, gamma, beta, xh3[s], y3[s]), pieces)
    return xhat, y, mean, var, inv_std


def _fast_backward(fast, gy, xhat, scale, want_gx):
    """The kernels' training backward: (gx or None, ggamma, gbeta), the sums (C,) float64."""
    g3 = gy.reshape(gy.shape[0], gy.shape[1], -1)
    xh3, pieces = xhat.reshape(g3.shape), _batch_pieces(g3)
    parts = map_chunks(lambda s: fast.batch_norm_sums(g3[s], xh3[s]), pieces)
    gbeta, ggamma = _in_order([p[0] for p in parts]), _in_order([p[1] for p in parts])
    gx = None
    if want_gx:
        gx = np.empty_like(gy)
        gx3, n = gx.reshape(g3.shape), g3.size // g3.shape[1]
        mb, mg = (gbeta / n).astype(gy.dtype), (ggamma / n).astype(gy.dtype)
        map_chunks(lambda s: fast.batch_norm_input_grad(g3[s], xh3[s], mb, mg, scale, gx3[s]), pieces)
    return gx, ggamma, gbeta


class BatchNorm(Function):
    """Batch normalisation over every axis but the channel axis 1, as one op.

    Training: ``xhat = (x - mean) / sqrt(var + eps)`` with the batch's (biased) mean and
    variance, ``y = gamma * xhat + beta``; the running statistics are updated in place,
    PyTorch's way: ``running = (1 - momentum) * running + momentum * batch_stat``, the
    variance taken unbiased (times n / (n - 1)). Backward, with n values per channel:
    ``gx = gamma / sqrt(var + eps) * (gy - mean(gy) - xhat * mean(gy * xhat))``,
    ``ggamma = sum(gy * xhat)``, ``gbeta = sum(gy)``.
    Evaluation uses the running statistics, which are then constants.
    """

    def __init__(self, running_mean, running_var, training, momentum, eps):
        self.running_mean, self.running_var = running_mean, running_var
        self.training, self.momentum, self.eps = training, momentum, eps

    def forward(self, x, gamma, beta):
        xp = get_array_module(x)
        if x.ndim < 2:
            raise ValueError(f"batch_norm: expected input of shape (N, C) or (N, C, H, W), got {tuple(x.shape)}")
        C = x.shape[1]
        for name, p in (("gamma", gamma), ("beta", beta)):
            if p.shape != (C,):
                raise ValueError(
                    f"batch_norm: input of shape {tuple(x.shape)} has C={C} channels but {name} "
                    f"has shape {tuple(p.shape)}"
                )
        shape = self.shape = (1, C) + (1,) * (x.ndim - 2)
        rm, rv = _stat_array(self.running_mean), _stat_array(self.running_var)
        fast = None
        if self.training:
            n = x.size // C
            if n < 2:
                raise ValueError(
                    f"batch_norm: expected more than 1 value per channel when training, got input "
                    f"of shape {tuple(x.shape)}"
                )
            self.n = n
            fast = fast_module("functions._fast_pointwise") if fast_array(x, gamma, beta) else None
            if fast is not None:  # the same in three passes: see _fast_pointwise
                xhat, y, mean, var, inv_std = _fast_train(fast, x, gamma, beta, self.eps)
                mean, var = mean.astype(x.dtype), var.astype(x.dtype)
                inv_std = inv_std.astype(x.dtype).reshape(shape)
            else:
                mean = (_channel_sum(x) / n).reshape(shape)
                xhat = x - mean
                var = (_channel_sum(xhat, xhat) / n).reshape(shape)
                inv_std = var + self.eps
                xp.sqrt(inv_std, out=inv_std)
                xp.reciprocal(inv_std, out=inv_std)
                xhat *= inv_std
            m = self.momentum
            if rm is not None:
                rm *= 1 - m
                rm += m * mean.reshape(C)
            if rv is not None:
                rv *= 1 - m
                rv += (m * n / (n - 1)) * var.reshape(C)
        else:
            if rm is None or rv is None:
                raise ValueError("batch_norm: running_mean and running_var are needed when training=False")
            for name, s in (("running_mean", rm), ("running_var", rv)):
                if s.shape != (C,):
                    raise ValueError(
                        f"batch_norm: input of shape {tuple(x.shape)} has C={C} channels but "
                        f"{name} has shape {tuple(s.shape)}"
                    )
            inv_std = 1 / xp.sqrt(rv.astype(x.dtype, copy=False) + self.eps)
            inv_std = inv_std.reshape(shape)
            xhat = x - rm.astype(x.dtype, copy=False).reshape(shape)
            xhat *= inv_std
        self.xhat, self.inv_std = xhat, inv_std
        self.gamma = gamma.reshape(shape)
        if fast is not None:
            return y
        y = xhat * self.gamma
        y += beta.reshape(shape)
        return y

    def backward(self, gy):
        shape, xhat = self.shape, self.xhat
        fast = fast_module("functions._fast_pointwise") if self.training and fast_array(gy, xhat) else None
        if fast is not None:  # the same sums and gx in two passes: see _fast_pointwise
            scale = (self.gamma * self.inv_std).reshape(-1)
            gx, ggamma, gbeta = _fast_backward(fast, gy, xhat, scale, self.needs_grad(0))
            return gx, ggamma.astype(gy.dtype), gbeta.astype(gy.dtype)
        gbeta = _channel_sum(gy) if self.needs_grad(2) or self.training else None
        ggamma = _channel_sum(gy, xhat) if self.needs_grad(1) or self.training else None
        gx = None
        if self.needs_grad(0):
            if self.training:
                n = self.n
                gx = xhat * (ggamma / n).reshape(shape)
                gx += (gbeta / n).reshape(shape)
                get_array_module(gy).subtract(gy, gx, out=gx)
                gx *= self.gamma * self.inv_std
            else:
                gx = gy * (self.gamma * self.inv_std)
        return gx, ggamma, gbeta


class LayerNorm(Function):
    """Layer normalisation over the last ``k`` axes (those of ``normalized_shape``), as one op.

    With ``n`` values per normalised group (the product of ``normalized_shape``)::

        mu = mean(x),  var = mean((x - mu)**2)                 (biased, per group)
        xhat = (x - mu) / sqrt(var + eps),   y = gamma * xhat + beta

    backward, with ``g = gy * gamma`` and means over each group::

        gx = (g - mean(g) - xhat * mean(g * xhat)) / sqrt(var + eps)
        ggamma = sum(gy * xhat),  gbeta = sum(gy)               (over the leading axes)

    inputs (x (..., *S), gamma S, beta S) -> y (..., *S)
    """

    def __init__(self, k, eps):
        self.k, self.eps = k, eps

    def forward(self, x, gamma, beta):
        xp = get_array_module(x)
        axes = tuple(range(x.ndim - self.k, x.ndim))
        mean = x.mean(axis=axes, keepdims=True)
        xhat = x - mean
        var = (xhat * xhat).mean(axis=axes, keepdims=True)
        var += self.eps
        rstd = xp.sqrt(var, out=var)
        xp.reciprocal(rstd, out=rstd)
        xhat *= rstd
        self.xhat, self.rstd, self.gamma, self.axes = xhat, rstd, gamma, axes
        y = xhat * gamma
        y += beta
        return y

    def backward(self, gy):
        xhat, axes = self.xhat, self.axes
        lead = tuple(range(gy.ndim - self.k))
        ggamma = (gy * xhat).sum(axis=lead) if self.needs_grad(1) else None
        gbeta = gy.sum(axis=lead) if self.needs_grad(2) else None
        gx = None
        if self.needs_grad(0):
            g = gy * self.gamma
            gx = xhat * (g * xhat).mean(axis=axes, keepdims=True)
            gx += g.mean(axis=axes, keepdims=True)
            get_array_module(gy).subtract(g, gx, out=gx)
            gx *= self.rstd
        return gx, ggamma, gbeta


def layer_norm(x, normalized_shape, gamma=None, beta=None, eps=1e-5):
    """Layer normalisation of ``x`` (..., *normalized_shape) over its last ``len(normalized_shape)`` axes.

    gamma, beta: arrays or tensors of shape ``normalized_shape`` (``None`` for 1 and 0).
    ``normalized_shape`` is an int or a tuple, as in PyTorch. Output: x's shape.
    """
    x = as_tensor(x)
    shape = (int(normalized_shape),) if isinstance(normalized_shape, (int, np.integer)) else tuple(
        int(s) for s in normalized_shape)
    k = len(shape)
    if k == 0 or x.ndim < k or tuple(x.shape[x.ndim - k:]) != shape:
        raise ValueError(
            f"layer_norm: input of shape {tuple(x.shape)} does not end with normalized_shape {shape}"
        )
    xp, dtype = get_array_module(x.data), x.data.dtype
    for name, p in (("gamma", gamma), ("beta", beta)):
        if p is not None and tuple(p.shape) != shape:
            raise ValueError(
                f"layer_norm: {name} of shape {tuple(p.shape)} does not match normalized_shape {shape}"
            )
    if gamma is None:
        gamma = xp.ones(shape, dtype=dtype)
    if beta is None:
        beta = xp.zeros(shape, dtype=dtype)
    return LayerNorm(k, float(eps))(x, gamma, beta)


def dropout(x, p=0.5, training=True):
    """Inverted dropout: zero each element with probability ``p`` and scale the rest by
    ``1 / (1 - p)``, so the expectation is unchanged; ``x`` itself when not training or p == 0.
    """
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p}")
    if not training or p == 0:
        return as_tensor(x)
    return Dropout(p)(x)


def batch_norm(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    """Batch normalisation of x (N, C) over axis 0, or (N, C, H, W) over axes (0, 2, 3).

    gamma, beta: (C,) (``None`` for 1 and 0). running_mean, running_var: (C,) arrays or
    tensors, updated in place when training (may be ``None`` then); used when not training.
    """
    if isinstance(x, Tensor):
        xp, dtype = get_array_module(x.data), x.data.dtype
    else:
        x = as_tensor(x)
        xp, dtype = get_array_module(x.data), x.data.dtype
    C = x.shape[1] if x.ndim >= 2 else 0
    if gamma is None:
        gamma = xp.ones(C, dtype=dtype)
    if beta is None:
        beta = xp.zeros(C, dtype=dtype)
    # Python floats: a NumPy float64 eps would upcast float32 statistics and gradients.
    return BatchNorm(running_mean, running_var, training, float(momentum), float(eps))(x, gamma, beta)
