"""Numba kernels for batch normalisation, ReLU's gradient and LeakyReLU (optional: ``pip install zerodl[fast]``).

The NumPy code in ``normalization.py`` and ``activations.py`` is the readable default and the
reference these kernels are tested against (tests/test_fast_pointwise.py). NumPy makes one
pass over memory per operation (``x - mean``, ``* inv_std``, ``* gamma``, ``+ beta``, ...);
these loops do the same arithmetic in one or two passes. Per-channel sums accumulate in
float64. Compiled on first use for the arrays' dtype and cached on disk (``cache=True``).

Batch norm works on x viewed as (N, C, M): M = H*W for images, 1 for (N, C) features. The
kernels take one piece of the batch each (``normalization.py`` shares the pieces out on the
pool and adds up their per-channel sums in a fixed order).
This module imports numba at import time; its users import it lazily (and not at all with
``ZERODL_NUMBA=0``).
"""
import numba
import numpy as np

__all__ = ["channel_sums", "batch_norm_apply", "batch_norm_sums", "batch_norm_input_grad", "relu_grad", "leaky_relu", "leaky_relu_grad"]


# 'reassoc' lets LLVM vectorise the per-channel sums (a strict left-to-right sum cannot be).
_SUMS = dict(cache=True, nogil=True, boundscheck=False, fastmath={"reassoc"})


@numba.njit(**_SUMS)
def channel_sums(a, b, mean):
    """Per channel of (N, C, M) arrays: sum(a) (b is None), or sum((a - mean) * (b - mean)) with
    mean (C,) (b is a), or sum(a * b) (mean is None); (C,) float64."""
    N, C, M = a.shape
    out = np.zeros(C)
    if M == 1:  # (N, C) features: the channels are the contiguous axis, so run along it
        for n in range(N):
            if b is None:
                for c in range(C):
                    out[c] += a[n, c, 0]
            elif mean is None:
                for c in range(C):
                    out[c] += a[n, c, 0] * b[n, c, 0]
            else:
                for c in range(C):
                    d = a[n, c, 0] - mean[c]
                    out[c] += d * d
        return out
    for n in range(N):
        for c in range(C):
            s = 0.0
            if b is None:
                for m in range(M):
                    s += a[n, c, m]
            elif mean is None:
                for m in range(M):
                    s += a[n, c, m] * b[n, c, m]
            else:
                mu = mean[c]
                for m in range(M):
                    d = a[n, c, m] - mu
                    s += d * d
            out[c] += s
    return out


@numba.njit(cache=True, nogil=True, boundscheck=False)
def batch_norm_apply(x, mu, k, gamma, beta, xhat, y):
    """xhat = (x - mu) * k and y = xhat * gamma + beta on (N, C, M), every vector (C,) of x's dtype."""
    N, C, M = x.shape
    for n in range(N):
        if M == 1:
            for c in range(C):
                h = (x[n, c, 0] - mu[c]) * k[c]
                xhat[n, c, 0] = h
                y[n, c, 0] = h * gamma[c] + beta[c]
            continue
        for c in range(C):
            for m in range(M):
                h = (x[n, c, m] - mu[c]) * k[c]
                xhat[n, c, m] = h
                y[n, c, m] = h * gamma[c] + beta[c]


@numba.njit(cache=True, nogil=True, boundscheck=False)
def batch_norm_sums(gy, xhat):
    """Per channel of (N, C, M) arrays: (sum(gy), sum(gy * xhat)), each (C,) float64."""
    return channel_sums(gy, None, None), channel_sums(gy, xhat, None)


@numba.njit(cache=True, nogil=True, boundscheck=False)
def batch_norm_input_grad(gy, xhat, mb, mg, scale, gx):
    """gx = scale * (gy - mb - xhat * mg) on (N, C, M); mb = sum(gy) / n and mg = sum(gy * xhat) / n
    over the whole batch's n values per channel, scale = gamma / std: (C,) of gy's dtype."""
    N, C, M = gy.shape
    for n in range(N):
        if M == 1:
            for c in range(C):
                gx[n, c, 0] = (gy[n, c, 0] - mb[c] - xhat[n, c, 0] * mg[c]) * scale[c]
            continue
        for c in range(C):
            for m in range(M):
                gx[n, c, m] = (gy[n, c, m] - mb[c] - xhat[n, c, m] * mg[c]) * scale[c]


@numba.njit(cache=True, nogil=True, boundscheck=False)
def relu_grad(y, gy, gx):
    """gx = gy where y > 0, else 0 (flat arrays; y is ReLU's output): one pass."""
    zero = gx.dtype.type(0)
    for i in range(y.size):
        gx[i] = gy[i] if y[i] > 0 else zero


@numba.njit(cache=True, nogil=True, boundscheck=False)
def leaky_relu(x, slope, y):
    """y = x where x > 0, else slope * x (flat arrays)."""
    s = x.dtype.type(slope)
    for i in range(x.size):
        v = x[i]
        y[i] = v if v > 0 else v * s


@numba.njit(cache=True, nogil=True, boundscheck=False)
def leaky_relu_grad(x, gy, slope, gx):
    """gx = gy where x > 0, else slope * gy (flat arrays)."""
    s = gy.dtype.type(slope)
    for i in range(x.size):
        g = gy[i]
        gx[i] = g if x[i] > 0 else g * s
