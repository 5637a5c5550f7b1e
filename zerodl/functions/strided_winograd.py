"""4x4 stride-2 convolutions (DCGAN's layers) through Winograd F(4x4, 2x2), by phases.

A stride-2 correlation with a 4x4 kernel is a stride-1 correlation with a 2x2 kernel on the
image's four phase images (space-to-depth). With xp the zero-padded input, a = 2p + r and
b = 2q + s (p, q, r, s in {0, 1}):

    y[o, i, j] = sum_{c, a, b} W[o, c, a, b] xp[c, 2i + a, 2j + b]
               = sum_{(r, s, c), p, q} W2[o, (r, s, c), p, q] X[(r, s, c), i + p, j + q]

with X[(r, s, c), i, j] = xp[c, 2i + r, 2j + s] (4C channels at half the size, H2 x W2) and
W2[o, (r, s, c), p, q] = W[o, c, 2p + r, 2q + s]. That 2x2 correlation (an (H2 - 1) x
(W2 - 1) output) runs as Winograd F(4x4, 2x2): 5x5 input tiles stepping by 4, 25 products per
4x4 output tile against 64 for im2col, with the chunks, GEMMs and thread pool of
``winograd.WinogradConv``. The matrices come from the Toom-Cook construction at the points
0, 1, -1, 1/2 and infinity (``toom_cook``, which also gives back F(4x4, 3x3)'s).

The input gradient is that conv's adjoint (the flipped 2x2 kernel, padding 1, an H2 x W2
output) put back from phases (depth-to-space) and cropped; the weight gradient comes from the
kept V like the 3x3 one's. conv_transpose2d with the same kernel, stride and padding is this
conv's adjoint: its forward is ``input_grad``, its backward ``forward`` (keeping the
transformed gy) and ``weight_grad``.
"""
from fractions import Fraction

import numpy as np

from ..core import get_array_module, is_grad_enabled
from . import winograd
from ._util import contiguous, fast_module, over_batch
from .winograd import Tiles, WinogradConv

__all__ = ["applies", "StridedWinogradConv", "toom_cook"]

# Below this many input channels (4x4 stride 2) im2col's single GEMM is the faster one.
MIN_CHANNELS = 16


def applies(x_shape, W, stride, padding, dtype, xp):
    """Whether a conv2d of an image of ``x_shape`` with W (C_out, C, 4, 4), stride 2, goes by phases."""
    H, W_ = x_shape[2] + 2 * padding[0], x_shape[3] + 2 * padding[1]
    return (winograd.enabled and tuple(W.shape[2:]) == (4, 4) and tuple(stride) == (2, 2)
            and H % 2 == 0 and W_ % 2 == 0 and min(H, W_) >= 4 and max(padding) <= 3
            and x_shape[1] >= MIN_CHANNELS and dtype in (np.float32, np.float64) and xp is np)


def toom_cook(points, m, r):
    """B^T (alpha, alpha), G (alpha, r), A^T (m, alpha) of Winograd F(m, r) at the finite
    ``points`` and infinity (alpha = m + r - 1 = len(points) + 1), as float64 arrays:
    y = A^T [(G g) * (B^T d)] is the correlation of d (alpha) with g (r)."""
    p = [Fraction(v) for v in points]
    alpha = len(p) + 1
    assert alpha == m + r - 1, (points, m, r)

    def poly(roots):  # coefficients, lowest power first, of prod (x - root)
        c = [Fraction(1)]
        for root in roots:
            c = [a - root * b for a, b in zip([Fraction(0)] + c, c + [Fraction(0)])]
        return c

    bt = [poly(p[:i] + p[i + 1:]) + [Fraction(0)] for i in range(len(p))] + [poly(p)]
    norm = [np.prod([p[i] - p[l] for l in range(len(p)) if l != i]) for i in range(len(p))]
    g = [[p[i] ** j / norm[i] for j in range(r)] for i in range(len(p))] + [[0] * (r - 1) + [1]]
    at = [[p[i] ** k for i in range(len(p))] + [1 if k == m - 1 else 0] for k in range(m)]
    return tuple(np.array(a, dtype=np.float64) for a in (bt, g, at))


BT, G, AT = toom_cook((0, 1, -1, Fraction(1, 2)), 4, 2)
# U = G w G^T for the 2x2 kernel's taps (2p + q) at once: U[5a + b] = sum KRON[5a + b, 2p + q] w[p, q].
KRON = np.kron(G, G)


def _fast():
    """The compiled kernels (``_fast_winograd``), or None."""
    return fast_module("_fast_winograd")


def _transforms():
    """The data transforms for any tiling: compiled (``_fast_winograd.AnyTiles``), else the NumPy reference."""
    return _fast().AnyTiles if _fast() is not None else winograd.NumpyTransforms


def phase_kernel(W):
    """W (C_out, C, 4, 4) -> W2 (C_out, 4C, 2, 2) of the module docstring."""
    c_out, c = W.shape[:2]
    w2 = W.reshape(c_out, c, 2, 2, 2, 2).transpose(0, 3, 5, 1, 2, 4)  # (o, r, s, c, p, q)
    return w2.reshape(c_out, 4 * c, 2, 2)


def kernel_transform(W2, dtype):
    """W2 (C_out, C, 2, 2) -> U (25, C, C_out) = G g G^T of every kernel: one GEMM."""
    xp = get_array_module(W2)
    wt = xp.ascontiguousarray(W2.transpose(2, 3, 1, 0)).reshape(4, W2.shape[1], W2.shape[0])
    return winograd.kernel_transform(wt, dtype, KRON)


def phase_transform(W, dtype, flip=False):
    """W (C_out, C, 4, 4) -> U (25, 4C, C_out) of its phase kernel, or with ``flip`` U
    (25, C_out, 4C) of the flipped, channel-swapped phase kernel (the adjoint's)."""
    fast = _fast()
    if fast is None or get_array_module(W) is not np:
        w2 = phase_kernel(W)
        return kernel_transform(winograd.flipped(w2) if flip else w2, dtype)
    c_out, c = W.shape[:2]
    u = np.empty((25, c_out, 4 * c) if flip else (25, 4 * c, c_out), dtype=dtype)
    W, k = np.ascontiguousarray(W, dtype=dtype), KRON.astype(dtype)
    # in pieces of the channels the kernel loops over (output ones with flip, else input ones)
    split, n = (W, c_out) if flip else (W.transpose(1, 0, 2, 3), c)
    over_batch(lambda s: fast.phase_transform(W, k, flip, u, *s.indices(n)[:2]), split)
    return u


def phase_grad_transform(mu, c, dtype):
    """dL/dU (25, 4C, C_out) -> dL/dW (C_out, C, 4, 4): the adjoint of phase_transform."""
    xp = get_array_module(mu)
    c_out = mu.shape[2]
    fast = _fast()
    if fast is not None and xp is np:
        gW = np.empty((c_out, c, 4, 4), dtype=dtype)
        fast.phase_grad(np.ascontiguousarray(mu), KRON.astype(dtype), gW)
        return gW
    g = winograd.kernel_grad_transform(mu, dtype, KRON).reshape(2, 2, 2, 2, c, c_out)  # (p, q, r, s, c, o)
    return xp.ascontiguousarray(g.transpose(5, 4, 0, 2, 1, 3)).reshape(c_out, c, 4, 4)


def _phases(P, n, size):
    """For each phase r: (first output row, first phase row, count) of the rows y of an image
    of ``size`` rows padded by P whose padded row y + P = 2i + r."""
    out = []
    for r in (0, 1):
        y0 = (r - P) % 2
        count = max(0, (size - y0 + 1) // 2)
        out.append((y0, (y0 + P - r) // 2, min(count, n - (y0 + P - r) // 2)))
    return out


class StridedWinogradConv(WinogradConv):
    """One conv2d call with a 4x4 kernel and stride 2 on an image of ``x_shape`` (N, C, H, W),
    (H + 2P) and (W + 2P) even, as a 2x2 conv of its phase images; keeps the forward's V.
    Its results (y, gx) are C-contiguous NCHW arrays."""

    # Few tiles per sample: larger chunks give the weight gradient's GEMMs (summing over tiles) a
    # longer inner dimension.
    weight_grad_chunk_bytes = 1 << 22

    def __init__(self, x_shape, padding):
        self.N, self.C, self.H, self.W = x_shape
        self.P = padding
        self.H2, self.W2 = (self.H + 2 * padding[0]) // 2, (self.W + 2 * padding[1]) // 2
        self.tiles = Tiles((self.N, 4 * self.C, self.H2, self.W2), (0, 0), (self.H2 - 1, self.W2 - 1), 4, 5)

    @staticmethod
    def _scheme(xp, dtype):
        """(the data transforms, B^T, A^T) of F(4x4, 2x2)."""
        return _transforms(), xp.asarray(BT, dtype=dtype), xp.asarray(AT, dtype=dtype)

    def space_to_depth(self, x):
        """x (N, C, H, W) -> X (N, 4C, H2, W2), its memory channels-last (N, H2, W2, 2, 2, C)."""
        xp = get_array_module(x)
        fast = _fast() if xp is np else None
        if fast is not None:
            out = np.empty((self.N, self.H2, self.W2, 2, 2, self.C), dtype=x.dtype)
            P0, P1 = self.P
            over_batch(lambda s: fast.space_to_depth(x[s], P0, P1, out[s]), x)
            return out.reshape(self.N, self.H2, self.W2, 4 * self.C).transpose(0, 3, 1, 2)
        out = xp.zeros((self.N, self.H2, self.W2, 2, 2, self.C), dtype=x.dtype)
        xh = x.transpose(0, 2, 3, 1)
        for r, (y0, i0, ni) in enumerate(_phases(self.P[0], self.H2, self.H)):
            for s, (x0, j0, nj) in enumerate(_phases(self.P[1], self.W2, self.W)):
                out[:, i0:i0 + ni, j0:j0 + nj, r, s] = xh[:, y0:y0 + 2 * ni:2, x0:x0 + 2 * nj:2]
        return out.reshape(self.N, self.H2, self.W2, 4 * self.C).transpose(0, 3, 1, 2)

    def depth_to_space(self, g):
        """The adjoint of space_to_depth: g (N, 4C, H2, W2) -> (N, C, H, W), C-contiguous."""
        xp = get_array_module(g)
        out = xp.empty((self.N, self.C, self.H, self.W), dtype=g.dtype)
        gh = winograd.channels_last(g).reshape(self.N, self.H2, self.W2, 2, 2, self.C).transpose(0, 5, 1, 2, 3, 4)
        phases = [(r, s, y0, i0, ni, x0, j0, nj) for r, (y0, i0, ni) in enumerate(_phases(self.P[0], self.H2, self.H))
                  for s, (x0, j0, nj) in enumerate(_phases(self.P[1], self.W2, self.W))]

        def piece(n):  # NumPy's strided copies release the GIL: the batch's pieces go on the pool
            for r, s, y0, i0, ni, x0, j0, nj in phases:
                out[n, :, y0:y0 + 2 * ni:2, x0:x0 + 2 * nj:2] = gh[n, :, i0:i0 + ni, j0:j0 + nj, r, s]

        over_batch(piece, out)
        return out

    def forward(self, x, W, b=None, keep=None):
        """-> y (N, C_out, H2 - 1, W2 - 1), C-contiguous (what BatchNorm's and the activations'
        kernels take; DCGAN puts one after every such layer); V is kept while the graph is
        recorded, or with ``keep``."""
        keep = self if (keep or (keep is None and is_grad_enabled())) else None
        y = self._correlate(self.space_to_depth(x), phase_transform(W, x.dtype), self.tiles, b, keep=keep)
        return contiguous(y)

    def keep_input(self, x):
        """Transform x's phase images into the kept V only (what ``weight_grad`` reads), no GEMMs."""
        self._correlate(self.space_to_depth(x), None, self.tiles, keep=self)

    def _input_grad_work(self, gy, W):
        """``input_grad``: gy (N, C_out, H2 - 1, W2 - 1) -> gx (N, C, H, W)."""
        tiles = Tiles(gy.shape, (1, 1), (self.H2, self.W2), 4, 5)
        chunk, chunks, finish = self._correlate_work(gy, phase_transform(W, gy.dtype, flip=True), tiles)
        return chunk, chunks, lambda parts: self.depth_to_space(finish(parts))

    def _weight_from_transformed(self, mu, dtype):
        """dL/dU -> gW (C_out, C, 4, 4)."""
        return phase_grad_transform(mu, self.C, dtype)
