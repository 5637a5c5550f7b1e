"""Compiled (Numba) kernels for the three Winograd data transforms of ``winograd.py``.

They compute what ``NumpyTransforms`` computes (and are tested against it), in one pass and
in registers: the data are channels-last, so each tile's transform is the same straight-line
arithmetic for every channel, and the innermost loop over the channels runs on SIMD lanes
(contiguous loads and stores); the transformed tiles are tile-major (T, 36, C), so each tile
writes (or reads) one contiguous block rather than 36 far-apart rows. The products with B^T, A^T and A are written out, zeros and
ones dropped. The kernels are serial and release the GIL: ``winograd.py`` runs chunks of the
batch on zerodl's thread pool (``core.threads``), BLAS included. Importing this
module needs Numba; the kernels compile at their first call for each dtype and are cached
on disk (``cache=True``). ``AnyTiles`` runs the same three transforms for any tiling and
matrices (``strided_winograd``'s F(4x4, 2x2)); ``phase_transform``, ``phase_grad`` and
``space_to_depth`` are that module's kernel transforms and phase images in one pass each.
"""
import numpy as np
from numba import njit

_jit = njit(cache=True, fastmath=True, nogil=True)


@_jit
def _input(xh, PH, PW, TH, TW, v):
    """xh (N, H, W, C), unpadded -> v (T, 36, C) = B^T d B per tile of the image zero-padded by
    (PH, PW) (and beyond its far edges). The padding is never built: a row outside the image
    loads row 0 and selects 0 in its place (a select, not a product with 0, so that an inf or NaN
    in row 0 stays where it is; the channel loops stay branch-free), a column outside it is zero."""
    N, H, W, C = xh.shape
    dt = xh.dtype.type
    two, four, five = dt(2), dt(4), dt(5)
    rows = np.empty((6, 6, C), dtype=xh.dtype)
    zero = dt(0)
    r = np.empty(6, dtype=np.int64)
    inside = np.empty(6, dtype=np.bool_)
    for nt in range(N * TH):
        n, th = nt // TH, nt % TH
        y0 = 4 * th - PH
        for i in range(6):
            inside[i] = 0 <= y0 + i < H
            r[i] = y0 + i if inside[i] else 0
        r0, r1, r2, r3, r4, r5 = r[0], r[1], r[2], r[3], r[4], r[5]
        k0, k1, k2, k3, k4, k5 = inside[0], inside[1], inside[2], inside[3], inside[4], inside[5]
        img = xh[n]
        for tw in range(TW):
            t = nt * TW + tw
            x0 = 4 * tw - PW
            for j in range(6):
                x = x0 + j
                if x < 0 or x >= W:
                    rows[:, j, :] = 0
                    continue
                for c in range(C):
                    d0 = img[r0, x, c] if k0 else zero
                    d1 = img[r1, x, c] if k1 else zero
                    d2 = img[r2, x, c] if k2 else zero
                    d3 = img[r3, x, c] if k3 else zero
                    d4 = img[r4, x, c] if k4 else zero
                    d5 = img[r5, x, c] if k5 else zero
                    rows[0, j, c] = four * d0 - five * d2 + d4
                    rows[1, j, c] = d3 + d4 - four * (d1 + d2)
                    rows[2, j, c] = four * (d1 - d2) - d3 + d4
                    rows[3, j, c] = two * (d3 - d1) - d2 + d4
                    rows[4, j, c] = two * (d1 - d3) - d2 + d4
                    rows[5, j, c] = four * d1 - five * d3 + d5
            for a in range(6):
                k = 6 * a
                for c in range(C):
                    e0, e1, e2 = rows[a, 0, c], rows[a, 1, c], rows[a, 2, c]
                    e3, e4, e5 = rows[a, 3, c], rows[a, 4, c], rows[a, 5, c]
                    v[t, k, c] = four * e0 - five * e2 + e4
                    v[t, k + 1, c] = e3 + e4 - four * (e1 + e2)
                    v[t, k + 2, c] = four * (e1 - e2) - e3 + e4
                    v[t, k + 3, c] = two * (e3 - e1) - e2 + e4
                    v[t, k + 4, c] = two * (e1 - e3) - e2 + e4
                    v[t, k + 5, c] = four * e1 - five * e3 + e5


@_jit
def _output(m, N, TH, TW, OH, OW, bias, y):
    """m (T, 36, C) -> y (N, OH, OW, C) = A^T m A per tile + bias."""
    C = m.shape[2]
    dt = m.dtype.type
    two, four, eight = dt(2), dt(4), dt(8)
    for nt in range(N * TH):
        n, th = nt // TH, nt % TH
        cols = np.empty((4, 6, C), dtype=m.dtype)
        out = np.empty((1, 4, C), dtype=m.dtype)
        for tw in range(TW):
            t = nt * TW + tw
            for j in range(6):
                for c in range(C):
                    m0, m1, m2 = m[t, j, c], m[t, 6 + j, c], m[t, 12 + j, c]
                    m3, m4, m5 = m[t, 18 + j, c], m[t, 24 + j, c], m[t, 30 + j, c]
                    s12, d12, s34, d34 = m1 + m2, m1 - m2, m3 + m4, m3 - m4
                    cols[0, j, c] = m0 + s12 + s34
                    cols[1, j, c] = d12 + two * d34
                    cols[2, j, c] = s12 + four * s34
                    cols[3, j, c] = d12 + eight * d34 + m5
            y0, x0 = 4 * th, 4 * tw
            hs, ws = min(4, OH - y0), min(4, OW - x0)
            for a in range(hs):
                if ws == 4:
                    for c in range(C):
                        e0, e1, e2 = cols[a, 0, c], cols[a, 1, c], cols[a, 2, c]
                        e3, e4, e5 = cols[a, 3, c], cols[a, 4, c], cols[a, 5, c]
                        s12, d12, s34, d34 = e1 + e2, e1 - e2, e3 + e4, e3 - e4
                        y[n, y0 + a, x0, c] = e0 + s12 + s34 + bias[c]
                        y[n, y0 + a, x0 + 1, c] = d12 + two * d34 + bias[c]
                        y[n, y0 + a, x0 + 2, c] = s12 + four * s34 + bias[c]
                        y[n, y0 + a, x0 + 3, c] = d12 + eight * d34 + e5 + bias[c]
                else:  # the last tile of a row runs over the image's edge
                    for c in range(C):
                        e0, e1, e2 = cols[a, 0, c], cols[a, 1, c], cols[a, 2, c]
                        e3, e4, e5 = cols[a, 3, c], cols[a, 4, c], cols[a, 5, c]
                        s12, d12, s34, d34 = e1 + e2, e1 - e2, e3 + e4, e3 - e4
                        out[0, 0, c] = e0 + s12 + s34
                        out[0, 1, c] = d12 + two * d34
                        out[0, 2, c] = s12 + four * s34
                        out[0, 3, c] = d12 + eight * d34 + e5
                    for b in range(ws):
                        for c in range(C):
                            y[n, y0 + a, x0 + b, c] = out[0, b, c] + bias[c]


@_jit
def _grad_output(gy, TH, TW, g):
    """gy (N, OH, OW, C) -> g (T, 36, C) = A gY A^T per 4x4 tile (zero beyond OH, OW)."""
    N, OH, OW, C = gy.shape
    dt = gy.dtype.type
    two, four, eight = dt(2), dt(4), dt(8)
    for nt in range(N * TH):
        n, th = nt // TH, nt % TH
        tile = np.zeros((4, 4, C), dtype=gy.dtype)
        rows = np.empty((6, 4, C), dtype=gy.dtype)
        for tw in range(TW):
            t = nt * TW + tw
            y0, x0 = 4 * th, 4 * tw
            hs, ws = min(4, OH - y0), min(4, OW - x0)
            src, r0, c0 = gy[n], y0, x0
            if hs < 4 or ws < 4:  # a tile over the edge: copied, zero beyond it
                tile[:] = 0
                tile[:hs, :ws] = gy[n, y0:y0 + hs, x0:x0 + ws]
                src, r0, c0 = tile, 0, 0
            for j in range(4):
                for c in range(C):
                    g0, g1 = src[r0, c0 + j, c], src[r0 + 1, c0 + j, c]
                    g2, g3 = src[r0 + 2, c0 + j, c], src[r0 + 3, c0 + j, c]
                    s02, s13 = g0 + g2, g1 + g3
                    q02, q13 = g0 + four * g2, two * g1 + eight * g3
                    rows[0, j, c] = g0
                    rows[1, j, c] = s02 + s13
                    rows[2, j, c] = s02 - s13
                    rows[3, j, c] = q02 + q13
                    rows[4, j, c] = q02 - q13
                    rows[5, j, c] = g3
            for a in range(6):
                k = 6 * a
                for c in range(C):
                    e0, e1, e2, e3 = rows[a, 0, c], rows[a, 1, c], rows[a, 2, c], rows[a, 3, c]
                    s02, s13 = e0 + e2, e1 + e3
                    q02, q13 = e0 + four * e2, two * e1 + eight * e3
                    g[t, k, c] = e0
                    g[t, k + 1, c] = s02 + s13
                    g[t, k + 2, c] = s02 - s13
                    g[t, k + 3, c] = q02 + q13
                    g[t, k + 4, c] = q02 - q13
                    g[t, k + 5, c] = e3


# The same signatures as ``winograd.NumpyTransforms`` (the constant matrices are built in).
def transform_input(xh, t, bt, out):
    """xh (N, H, W, C) -> out (T, 36, C)."""
    _input(np.ascontiguousarray(xh), t.PH, t.PW, t.TH, t.TW, out)


def transform_output(m, t, at, bias, out):
    """M (T, 36, C_out) -> out (N, OH, OW, C_out) (+ bias)."""
    c_out = m.shape[2]
    b = np.zeros(c_out, dtype=m.dtype) if bias is None else np.ascontiguousarray(bias, dtype=m.dtype)
    _output(m, t.N, t.TH, t.TW, t.OH, t.OW, b, out)


def transform_grad_output(gyh, t, at, out):
    """gyh (N, OH, OW, C_out) -> out (T, 36, C_out)."""
    _grad_output(np.ascontiguousarray(gyh), t.TH, t.TW, out)


# Any tiling (alpha x alpha tiles stepping by m) and matrices: the loops run over the
# matrices' entries, zeros skipped, the channels innermost as above (F(4x4, 2x2) uses these).
@_jit
def _sandwich_any(src, PH, PW, TH, TW, m, L, out):
    """src (N, H, W, C) -> out (T, alpha^2, C) = L d L^T per tile, L (alpha, k): the k x k tile
    at (m * tile row - PH, m * tile column - PW) of src, zero outside it (the padding is never
    built). The input transform is L = B^T (k = alpha), the output gradient's L = A on gy
    (k = m, no padding)."""
    N, H, W, C = src.shape
    A, K = L.shape
    rows = np.empty((A, K, C), dtype=src.dtype)
    for nt in range(N * TH):
        n, th = nt // TH, nt % TH
        for tw in range(TW):
            t = nt * TW + tw
            y0, x0 = m * th - PH, m * tw - PW
            i0, i1 = max(0, -y0), min(K, H - y0)
            j0, j1 = max(0, -x0), min(K, W - x0)
            rows[:] = 0
            for a in range(A):
                for i in range(i0, i1):
                    w = L[a, i]
                    if w != 0:
                        for j in range(j0, j1):
                            for c in range(C):
                                rows[a, j, c] += w * src[n, y0 + i, x0 + j, c]
            out[t] = 0
            for a in range(A):
                for b in range(A):
                    for j in range(j0, j1):
                        w = L[b, j]
                        if w != 0:
                            for c in range(C):
                                out[t, a * A + b, c] += w * rows[a, j, c]


@_jit
def _output_any(mm, N, TH, TW, OH, OW, at, bias, y):
    """mm (T, alpha^2, C) -> y (N, OH, OW, C) = A^T mm A per tile + bias."""
    C = mm.shape[2]
    M, A = at.shape
    cols = np.empty((M, A, C), dtype=mm.dtype)
    out = np.empty((M, C), dtype=mm.dtype)
    for nt in range(N * TH):
        n, th = nt // TH, nt % TH
        for tw in range(TW):
            t = nt * TW + tw
            cols[:] = 0
            for k in range(M):
                for a in range(A):
                    w = at[k, a]
                    if w != 0:
                        for j in range(A):
                            for c in range(C):
                                cols[k, j, c] += w * mm[t, a * A + j, c]
            y0, x0 = M * th, M * tw
            hs, ws = min(M, OH - y0), min(M, OW - x0)
            for k in range(hs):
                for l in range(ws):
                    for c in range(C):
                        out[l, c] = bias[c]
                    for j in range(A):
                        w = at[l, j]
                        if w != 0:
                            for c in range(C):
                                out[l, c] += w * cols[k, j, c]
                for l in range(ws):
                    for c in range(C):
                        y[n, y0 + k, x0 + l, c] = out[l, c]


class AnyTiles:
    """``winograd.NumpyTransforms``'s signatures for any tiling ``t`` and matrices."""

    @staticmethod
    def transform_input(xh, t, bt, out):
        _sandwich_any(np.ascontiguousarray(xh), t.PH, t.PW, t.TH, t.TW, t.m, bt, out)

    @staticmethod
    def transform_output(m, t, at, bias, out):
        c_out = m.shape[2]
        b = np.zeros(c_out, dtype=m.dtype) if bias is None else np.ascontiguousarray(bias, dtype=m.dtype)
        _output_any(m, t.N, t.TH, t.TW, t.OH, t.OW, at, b, out)

    @staticmethod
    def transform_grad_output(gyh, t, at, out):
        _sandwich_any(np.ascontiguousarray(gyh), 0, 0, t.TH, t.TW, t.m, np.ascontiguousarray(at.T), out)


@_jit
def phase_transform(W, K, flip, u, lo, hi):
    """``strided_winograd.kernel_transform(phase_kernel(W))`` in one pass: W (C_out, C, 4, 4),
    K (25, 4) -> u (25, 4C, C_out), for input channels c in [lo, hi); with ``flip`` that of the
    flipped, channel-swapped kernel: u (25, C_out, 4C), for output channels o in [lo, hi)."""
    O, C = W.shape[0], W.shape[1]
    P = K.shape[0]
    if not flip:
        w = np.empty((4, O), dtype=W.dtype)
        for r in range(2):
            for s in range(2):
                for c in range(lo, hi):
                    rsc = (2 * r + s) * C + c
                    for p in range(2):
                        for q in range(2):
                            for o in range(O):
                                w[2 * p + q, o] = W[o, c, 2 * p + r, 2 * q + s]
                    for ab in range(P):
                        k0, k1, k2, k3 = K[ab, 0], K[ab, 1], K[ab, 2], K[ab, 3]
                        for o in range(O):
                            u[ab, rsc, o] = k0 * w[0, o] + k1 * w[1, o] + k2 * w[2, o] + k3 * w[3, o]
    else:
        w = np.empty((4, 4 * C), dtype=W.dtype)
        for o in range(lo, hi):
            for p in range(2):
                for q in range(2):
                    for r in range(2):
                        for s in range(2):
                            for c in range(C):
                                w[3 - (2 * p + q), (2 * r + s) * C + c] = W[o, c, 2 * p + r, 2 * q + s]
            for ab in range(P):
                k0, k1, k2, k3 = K[ab, 0], K[ab, 1], K[ab, 2], K[ab, 3]
                for j in range(4 * C):
                    u[ab, o, j] = k0 * w[0, j] + k1 * w[1, j] + k2 * w[2, j] + k3 * w[3, j]


@_jit
def space_to_depth(x, P0, P1, out):
    """x (N, C, H, W), any strides -> out (N, H2, W2, 2, 2, C): out[n, i, j, r, s, c] =
    x[n, c, 2i + r - P0, 2j + s - P1], zero in the padding."""
    N, C, H, W = x.shape
    H2, W2 = out.shape[1], out.shape[2]
    for n in range(N):
        for i in range(H2):
            for r in range(2):
                y = 2 * i + r - P0
                for j in range(W2):
                    for s in range(2):
                        xx = 2 * j + s - P1
                        if 0 <= y < H and 0 <= xx < W:
                            for c in range(C):
                                out[n, i, j, r, s, c] = x[n, c, y, xx]
                        else:
                            for c in range(C):
                                out[n, i, j, r, s, c] = 0


@_jit
def phase_grad(mu, K, gW):
    """``strided_winograd.phase_grad_transform`` in one pass: mu (25, 4C, C_out), K (25, 4)
    -> gW (C_out, C, 4, 4)."""
    O, C = gW.shape[0], gW.shape[1]
    P = K.shape[0]
    g = np.empty((4, O), dtype=mu.dtype)
    for r in range(2):
        for s in range(2):
            for c in range(C):
                rsc = (2 * r + s) * C + c
                g[:] = 0
                for ab in range(P):
                    k0, k1, k2, k3 = K[ab, 0], K[ab, 1], K[ab, 2], K[ab, 3]
                    for o in range(O):
                        m = mu[ab, rsc, o]
                        g[0, o] += k0 * m
                        g[1, o] += k1 * m
                        g[2, o] += k2 * m
                        g[3, o] += k3 * m
                for p in range(2):
                    for q in range(2):
                        for o in range(O):
                            gW[o, c, 2 * p + r, 2 * q + s] = g[2 * p + q, o]
