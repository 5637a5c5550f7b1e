"""Numba kernels for the strided conv path of ``windows.py`` (optional: ``pip install zerodl[fast]``).

The NumPy code in ``Windows`` is the readable default and the reference these kernels are
tested against (tests/test_fast_conv.py). On phase images (see ``windows.py``) every kernel tap
moves one contiguous run of L values per sample and channel; NumPy pays a fixed cost per run,
which for runs of a few dozen values is most of the work, while these loops run through the
same runs back to back. Each kernel is compiled on first use for the arrays' dtype and cached
on disk (``cache=True``), so later processes load it instead of compiling.

Shapes (T = KH*KW kernel taps, P = SH*SW phases, S = the flattened size of a phase image)::

    images (n, C, P, S)    the phase images of a chunk (``Windows.split``)
    cols   (C, T, n, L)    the chunk's columns in the layout of ``im2col(per_sample=False)``
    phase, offset (T,)     the phase image each tap reads and where its run starts

Narrow sweeps (strided, few output pixels: ``Windows.narrow``) read the padded chunk
(n, C, Hp, Wp) straight into columns (C, KH, KW, n, OH, OW) and add them back
(``gather_windows``, ``scatter_windows``), window by window: runs of OW values, too short for
NumPy's copies.

This module imports numba at import time; ``windows.py`` imports it lazily (and not at all with
``ZERODL_NUMBA=0``).
"""
import numba

__all__ = ["add_taps", "copy_taps", "widen", "unwiden", "gather_windows", "scatter_windows"]


@numba.njit(cache=True, nogil=True, boundscheck=False)
def copy_taps(images, cols, phase, offset):
    """im2col on phase images: ``cols[c, t, m, :] = images[m, c, phase[t], offset[t]:][:L]``."""
    C, T, n, L = cols.shape
    for c in range(C):
        for t in range(T):
            p, k = phase[t], offset[t]
            for m in range(n):
                src = images[m, c, p, k : k + L]
                dst = cols[c, t, m]
                for q in range(L):
                    dst[q] = src[q]


@numba.njit(cache=True, nogil=True, boundscheck=False)
def add_taps(cols, images, phase, offset):
    """col2im on phase images: ``images[m, c, phase[t], offset[t]:][:L] += cols[c, t, m, :]``."""
    C, T, n, L = cols.shape
    for c in range(C):
        for t in range(T):
            p, k = phase[t], offset[t]
            for m in range(n):
                src = cols[c, t, m]
                dst = images[m, c, p, k : k + L]
                for q in range(L):
                    dst[q] += src[q]


@numba.njit(cache=True, nogil=True, boundscheck=False)
def widen(g, out, Q):
    """out (C, n, OH*Q) = g (n, C, OH, OW) with its samples inside its channels and rows Q
    wide, the Q - OW extra columns zero (``Windows.widen(samples_inner=True)``)."""
    n, C, OH, OW = g.shape
    for c in range(C):
        for m in range(n):
            dst = out[c, m]
            for r in range(OH):
                src = g[m, c, r]
                for s in range(OW):
                    dst[r * Q + s] = src[s]
                for s in range(OW, Q):
                    dst[r * Q + s] = 0


@numba.njit(cache=True, nogil=True, boundscheck=False)
def unwiden(out, b, y, Q):
    """y (n, C, OH, OW) = out (C, n, OH*Q) without the extra columns, plus b (C,): the inverse
    of ``widen``, with the bias."""
    n, C, OH, OW = y.shape
    for m in range(n):
        for c in range(C):
            src = out[c, m]
            bc = b[c]
            for r in range(OH):
                dst = y[m, c, r]
                for s in range(OW):
                    dst[s] = src[r * Q + s] + bc


@numba.njit(cache=True, nogil=True, boundscheck=False)
def gather_windows(xp, cols, SH, SW):
    """im2col of a narrow sweep: ``cols[c, i, j, m, r, s] = xp[m, c, r*SH + i, s*SW + j]``;
    xp (n, C, Hp, Wp) the padded chunk (``Windows.pad``), cols (C, KH, KW, n, OH, OW)."""
    C, KH, KW, n, OH, OW = cols.shape
    for c in range(C):
        for i in range(KH):
            for j in range(KW):
                for m in range(n):
                    for r in range(OH):
                        src = xp[m, c, r * SH + i]
                        dst = cols[c, i, j, m, r]
                        for s in range(OW):
                            dst[s] = src[s * SW + j]


@numba.njit(cache=True, nogil=True, boundscheck=False)
def scatter_windows(cols, buf, SH, SW):
    """col2im of a narrow sweep, the adjoint of ``gather_windows``: adds every window's column
    values into the padded buffer buf (n, C, Hp, Wp) at the pixels it read, the taps in the
    order (i, j) as ``Windows.col2im_add`` adds them, so the bits are its own."""
    C, KH, KW, n, OH, OW = cols.shape
    for m in range(n):
        for c in range(C):
            for i in range(KH):
                for j in range(KW):
                    for r in range(OH):
                        src = cols[c, i, j, m, r]
                        dst = buf[m, c, r * SH + i]
                        for s in range(OW):
                            dst[s * SW + j] += src[s]
