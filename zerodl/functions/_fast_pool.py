"""Numba kernels for 2x2 max pooling with stride 2 and no padding, the CNNs' pooling
(optional: ``pip install zerodl[fast]``).

``pooling.MaxPool2d``'s NumPy code is the readable default, the path for every other window,
and the reference these kernels are tested against (tests/test_fast_pool.py): it makes a few
passes over memory per kernel offset (a running maximum, a comparison, the offset of the
first maximum); these loops read each input value once and write the maximum and its offset
together, and the backward writes every input gradient once. The four offsets are written
out: a loop over a runtime kernel size compiles to unpredictable branches, several times slower.

Two layouts: a channels-last image is seen as (N, H, W, C) (the innermost loop runs over the
contiguous channels), an (N, C, H, W)-contiguous one as N*C planes (P, H, W) (``*_planes``,
the innermost loop along a row). Offsets k = 2*i + j count as in ``pooling._slabs``; the first
maximum wins (a later offset only when strictly greater), and a NaN always does, as in
PyTorch. An odd last row or column is in no window (its gradient is zero). Serial, releasing
the GIL: ``pooling.py`` runs pieces of the batch on zerodl's thread pool.
"""
import numba

__all__ = ["max_pool2_forward", "max_pool2_backward", "max_pool2_forward_planes", "max_pool2_backward_planes"]

_jit = numba.njit(cache=True, nogil=True, boundscheck=False)


@numba.njit(inline="always")
def _first_max(v0, v1, v2, v3):
    """(maximum, its offset 0-3) of a window's four values: the first wins a tie, a NaN always."""
    best, k = v0, 0
    if v1 > best or v1 != v1:
        best, k = v1, 1
    if v2 > best or v2 != v2:
        best, k = v2, 2
    if v3 > best or v3 != v3:
        best, k = v3, 3
    return best, k


@_jit
def max_pool2_forward(x, y, arg):
    """x (N, H, W, C) -> y (N, H//2, W//2, C) window maxima and arg (same shape) their offsets."""
    N, C = x.shape[0], x.shape[3]
    OH, OW = y.shape[1], y.shape[2]
    for n in range(N):
        for oh in range(OH):
            h = 2 * oh
            for ow in range(OW):
                w = 2 * ow
                for c in range(C):
                    y[n, oh, ow, c], arg[n, oh, ow, c] = _first_max(
                        x[n, h, w, c], x[n, h, w + 1, c], x[n, h + 1, w, c], x[n, h + 1, w + 1, c])


@_jit
def max_pool2_backward(gy, arg, gx):
    """gy, arg (N, OH, OW, C) -> gx (N, H, W, C): gy at each window's maximum, zero elsewhere."""
    N, OH, OW, C = gy.shape
    H, W = gx.shape[1], gx.shape[2]
    zero = gx.dtype.type(0)
    for n in range(N):
        for oh in range(OH):
            h = 2 * oh
            for ow in range(OW):
                w = 2 * ow
                for c in range(C):
                    k, g = arg[n, oh, ow, c], gy[n, oh, ow, c]
                    gx[n, h, w, c] = g if k == 0 else zero
                    gx[n, h, w + 1, c] = g if k == 1 else zero
                    gx[n, h + 1, w, c] = g if k == 2 else zero
                    gx[n, h + 1, w + 1, c] = g if k == 3 else zero
            if W > 2 * OW:
                gx[n, h:h + 2, W - 1] = zero
        if H > 2 * OH:
            gx[n, H - 1] = zero


@_jit
def max_pool2_forward_planes(x, y, arg):
    """The forward on (P, H, W) planes."""
    P = x.shape[0]
    OH, OW = y.shape[1], y.shape[2]
    for p in range(P):
        for oh in range(OH):
            h = 2 * oh
            for ow in range(OW):
                w = 2 * ow
                y[p, oh, ow], arg[p, oh, ow] = _first_max(x[p, h, w], x[p, h, w + 1], x[p, h + 1, w], x[p, h + 1, w + 1])


@_jit
def max_pool2_backward_planes(gy, arg, gx):
    """The backward on (P, H, W) planes."""
    P, OH, OW = gy.shape
    H, W = gx.shape[1], gx.shape[2]
    zero = gx.dtype.type(0)
    for p in range(P):
        for oh in range(OH):
            h = 2 * oh
            for ow in range(OW):
                w = 2 * ow
                k, g = arg[p, oh, ow], gy[p, oh, ow]
                gx[p, h, w] = g if k == 0 else zero
                gx[p, h, w + 1] = g if k == 1 else zero
                gx[p, h + 1, w] = g if k == 2 else zero
                gx[p, h + 1, w + 1] = g if k == 3 else zero
            if W > 2 * OW:
                gx[p, h, W - 1] = zero
                gx[p, h + 1, W - 1] = zero
        if H > 2 * OH:
            gx[p, H - 1] = zero
