"""Winograd's minimal filtering F(4x4, 3x3) for conv2d with a 3x3 kernel and stride 1.

A 3x3 correlation of a 6x6 input tile d gives a 4x4 output tile; im2col does it with
16 * 9 = 144 multiplications per channel pair. Winograd (Lavin & Gray, 2015) gets the same
4x4 tile from 36 products in a transformed space:

    Y = A^T [ (G g G^T) * (B^T d B) ] A          (* elementwise, all 6x6 in the middle)

For a whole layer the 36 elementwise products become 36 matrix products, one per point of the
6x6 transformed tile, each summing over the input channels: U (36, C_out, C) @ V (36, C, T)
(T = tiles of the batch), four times fewer multiplications than im2col's GEMM. The transforms
are additions of a few whole arrays, the price of the saved GEMM time.

Backward (from the same bilinear form):
- the input gradient is the forward of gy with the kernel flipped and its channel axes swapped,
  padded by 2 - padding (so padding <= 2);
- the weight gradient is G^T [ sum over tiles of (A gY A^T) V^T ] G: 36 GEMMs over the tiles,
  with the forward's V kept.

Layout: ``V`` is (T, 36, C), T ordered (n, tile row, tile column), channels last; tiles step by 4 over the
zero-padded image, the last ones running over the edge (their extra outputs are dropped and get
a zero gradient). Everything goes through ``xp``; on NumPy the transforms run as compiled
kernels (``_fast_winograd``, Numba) when Numba is installed, these ``einsum`` forms being the
readable reference they are tested against. ``ZERODL_WINOGRAD=0`` turns the whole path off (conv2d
then uses im2col), ``ZERODL_NUMBA=0`` only the compiled kernels.
"""
import os

import numpy as np

from ..core import get_array_module, is_grad_enabled
from ..core.threads import map_chunks
from ._util import fast_module

__all__ = ["applies", "WinogradConv", "flipped", "transforms", "preload", "kernel_transform"]

# B^T, G, A^T of F(4x4, 3x3) at the points 0, 1, -1, 2, -2 (and infinity).
BT = np.array([[4, 0, -5, 0, 1, 0],
               [0, -4, -4, 1, 1, 0],
               [0, 4, -4, -1, 1, 0],
               [0, -2, -1, 2, 1, 0],
               [0, 2, -1, -2, 1, 0],
               [0, 4, 0, -5, 0, 1]], dtype=np.float64)
G = np.array([[1 / 4, 0, 0],
              [-1 / 6, -1 / 6, -1 / 6],
              [-1 / 6, 1 / 6, -1 / 6],
              [1 / 24, 1 / 12, 1 / 6],
              [1 / 24, -1 / 12, 1 / 6],
              [0, 0, 1]], dtype=np.float64)
AT = np.array([[1, 1, 1, 1, 1, 0],
               [0, 1, -1, 2, -2, 0],
               [0, 1, 1, 4, 4, 0],
               [0, 1, -1, 8, -8, 1]], dtype=np.float64)

# Transformed tiles per chunk of samples (see Tiles.chunks).
_CHUNK_BYTES = 1 << 20
# ... but at least this many tiles (the GEMMs' rows): a chunk of a few tiles of many channels
# (a small image, a stride-2 layer's phase images) would run GEMMs too thin to be efficient.
MIN_CHUNK_TILES = 128
# Below this many input channels im2col's single GEMM (K = 9 * C) is the faster one.
MIN_CHANNELS = 8
enabled = os.environ.get("ZERODL_WINOGRAD", "1") != "0"


def applies(x, W, stride, padding):
    """Whether conv2d(x, W) with this stride and padding goes through Winograd."""
    return (enabled and W.shape[2:] == (3, 3) and stride == (1, 1)
            and max(padding) <= 2 and x.shape[1] >= MIN_CHANNELS
            and x.dtype in (np.float32, np.float64)
            and min(x.shape[2] + 2 * padding[0], x.shape[3] + 2 * padding[1]) >= 3
            and get_array_module(x) is np)


class Tiles:
    """Where the input tiles of a padded (N, C, H, W) image fall: ``alpha`` x ``alpha`` tiles
    stepping by ``m`` (an m x m output tile each), 6 and 4 for F(4x4, 3x3).

    ``out`` (OH, OW) overrides the output size H + 2 * PH - (alpha - m): smaller crops the
    output, larger reads zeros beyond the padded image (``strided_winograd`` uses both)."""

    def __init__(self, x_shape, padding, out=None, m=4, alpha=6):
        self.N, self.C, self.H, self.W = x_shape
        self.PH, self.PW = padding
        self.m, self.alpha = m, alpha
        halo = alpha - m
        self.OH, self.OW = out or (self.H + 2 * self.PH - halo, self.W + 2 * self.PW - halo)
        self.TH, self.TW = -(-self.OH // m), -(-self.OW // m)  # tiles per column / row
        self.T = self.N * self.TH * self.TW

    def chunks(self, channels, itemsize, nbytes=None):
        """(sample range, its tile range, the Tiles of that many samples): about _CHUNK_BYTES of
        transformed tiles each, so that a chunk's V and M stay in cache between the transforms
        and the GEMMs (a batch's V is several times the cache), and at least MIN_CHUNK_TILES
        tiles. The chunks are of equal size
        (to a sample) and, when more than one, an even number of them, so that two or four
        threads share them evenly; the split does not depend on the thread count."""
        per = self.TH * self.TW
        step = max(1, (nbytes or _CHUNK_BYTES) // (per * self.alpha ** 2 * channels * itemsize), -(-MIN_CHUNK_TILES // per))
        n = -(-self.N // step)
        n = min(self.N, n + n % 2) if n > 1 else 1
        step = -(-self.N // n)
        for n0 in range(0, self.N, step):
            n1 = min(n0 + step, self.N)
            yield n0, n1, n0 * per, n1 * per, Tiles((n1 - n0, self.C, self.H, self.W), (self.PH, self.PW),
                                                    (self.OH, self.OW), self.m, self.alpha)


def channels_last(x):
    """x (N, C, H, W) as a C-contiguous (N, H, W, C) array: a view when x's memory is laid out
    channels-last (as the outputs of this module are), else a copy."""
    xp = get_array_module(x)
    return xp.ascontiguousarray(x.transpose(0, 2, 3, 1))


class NumpyTransforms:
    """The three data transforms written as ``einsum`` over strided tile views (the reference),
    for any tiling ``t`` (alpha x alpha tiles, step m) and matrices B^T (alpha, alpha), A^T (m, alpha).

    Inputs and outputs are channels-last (N, H, W, C); the transformed tiles are tile-major
    (T, alpha^2, C): the products of a tile sit together.
    """

    @staticmethod
    def transform_input(xh, t, bt, out):
        """xh (N, H, W, C) -> out (T, alpha^2, C) = B^T d B of every tile of the padded image."""
        xp = get_array_module(xh)
        C, a, halo = xh.shape[3], t.alpha, t.alpha - t.m
        buf = xp.zeros((t.N, t.m * t.TH + halo, t.m * t.TW + halo, C), dtype=xh.dtype)
        buf[:, t.PH:t.PH + t.H, t.PW:t.PW + t.W] = xh
        sN, sH, sW, sC = buf.strides
        tiles = xp.lib.stride_tricks.as_strided(
            buf, (t.N, t.TH, t.TW, a, a, C), (sN, t.m * sH, t.m * sW, sH, sW, sC))
        out[...] = xp.einsum("ai,nuvijc,bj->nuvabc", bt, tiles, bt, optimize=True).reshape(t.T, a * a, C)

    @staticmethod
    def transform_output(m, t, at, bias, out):
        """M (T, alpha^2, C_out) -> out (N, OH, OW, C_out) = A^T m A of every tile (+ bias)."""
        xp = get_array_module(m)
        c_out = m.shape[2]
        m = m.reshape(t.N, t.TH, t.TW, t.alpha, t.alpha, c_out)
        y = xp.einsum("ai,nuvijc,bj->nuavbc", at, m, at, optimize=True)
        out[...] = y.reshape(t.N, t.m * t.TH, t.m * t.TW, c_out)[:, :t.OH, :t.OW]
        if bias is not None:
            out += bias

    @staticmethod
    def transform_grad_output(gyh, t, at, out):
        """gyh (N, OH, OW, C_out) -> out (T, alpha^2, C_out) = A gY A^T of every m x m tile (zero beyond OH, OW)."""
        xp = get_array_module(gyh)
        c_out = gyh.shape[3]
        buf = xp.zeros((t.N, t.m * t.TH, t.m * t.TW, c_out), dtype=gyh.dtype)
        buf[:, :t.OH, :t.OW] = gyh
        tiles = buf.reshape(t.N, t.TH, t.m, t.TW, t.m, c_out)
        out[...] = xp.einsum("ia,nuivjc,jb->nuvabc", at, tiles, at, optimize=True).reshape(t.T, t.alpha ** 2, c_out)


def _fast_transforms():
    """The compiled kernels, or None without Numba (or with ZERODL_NUMBA=0)."""
    return fast_module("_fast_winograd")


_in_use = None  # the transforms, chosen at the first Winograd call (Numba's import is slow)


def transforms():
    """The transforms in use: the compiled kernels when available, else the NumPy reference."""
    global _in_use
    if _in_use is None:
        _in_use = _fast_transforms() or NumpyTransforms
    return _in_use


def preload(dtypes=(np.float32,)):
    """Import the compiled kernels and load their code for ``dtypes`` now (running them once on
    a tiny image), rather than at the first Winograd conv; returns the transforms in use.
    Numba and the loaded machine code take some 140 MB of memory (library code, like any
    framework's)."""
    tr = transforms()
    if tr is not NumpyTransforms:
        for dtype in dtypes:
            x = np.zeros((1, MIN_CHANNELS, 4, 4), dtype=dtype)
            c = WinogradConv(x.shape, (1, 1))
            y = c.forward(x, np.zeros((1, MIN_CHANNELS, 3, 3), dtype=dtype))
            c.weight_grad(y)
    return tr


def flipped(W):
    """The kernel flipped in space with its two channel axes swapped (a view): a conv2d weight
    (C_out, C, KH, KW) -> the weight (C, C_out, KH, KW) of the conv2d that is its adjoint (with
    stride 1: conv2d's input gradient, conv_transpose2d's forward), and back."""
    return W[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)


# U = G g G^T for every tap of g at once: U[6a + b] = sum over taps 3k + l of KRON[6a + b, 3k + l] g[k, l].
KRON = np.kron(G, G)


def kernel_transform(wt, dtype, kron=KRON):
    """wt (taps, A, B), tap-major -> U (points, A, B) = G g G^T of every (A, B) kernel, as one
    GEMM with ``kron`` = kron(G, G) (points, taps): F(4x4, 3x3)'s (36, 9) by default."""
    xp = get_array_module(wt)
    k = xp.asarray(kron, dtype=dtype)
    return (k @ wt.reshape(k.shape[1], -1)).reshape(k.shape[0], *wt.shape[1:])


def kernel_grad_transform(mu, dtype, kron=KRON):
    """kernel_transform's adjoint: dL/dU (points, A, B) -> dL/dwt (taps, A, B) = G^T mu G."""
    xp = get_array_module(mu)
    k = xp.asarray(kron, dtype=dtype)
    return (k.T @ mu.reshape(k.shape[0], -1)).reshape(k.shape[1], *mu.shape[1:])


def weight_transform(W, dtype):
    """W (C_out, C, 3, 3) -> U (36, C, C_out) = G g G^T."""
    xp = get_array_module(W)
    return kernel_transform(xp.ascontiguousarray(W.transpose(2, 3, 1, 0)).reshape(9, W.shape[1], W.shape[0]), dtype)


def weight_grad_transform(mu, dtype):
    """dL/dU (36, C, C_out) -> dL/dW (C_out, C, 3, 3) = G^T mu G."""
    xp = get_array_module(mu)
    g = kernel_grad_transform(mu, dtype).reshape(3, 3, mu.shape[1], mu.shape[2])
    return xp.ascontiguousarray(g.transpose(3, 2, 0, 1))


class WinogradConv:
    """One conv2d call (x (N, C, H, W), W (C_out, C, 3, 3), stride 1) in the Winograd domain;
    keeps the forward's V for the weight gradient.

    Its results (y, gx) are (N, C, H, W) arrays whose memory is channels-last, so that the next
    Winograd layer reads them without a copy (elementwise ops and pooling keep that layout).
    """

    weight_grad_chunk_bytes = None  # the weight gradient's chunks: those of the transforms

    def __init__(self, x_shape, padding):
        self.tiles = Tiles(x_shape, padding)

    @staticmethod
    def _scheme(xp, dtype):
        """(the data transforms, B^T, A^T) of the algorithm: here F(4x4, 3x3)."""
        return transforms(), xp.asarray(BT, dtype=dtype), xp.asarray(AT, dtype=dtype)

    def _correlate(self, x, u, tiles, bias=None, keep=None):
        """conv2d(x, W) + bias, chunk by chunk (on zerodl's thread pool), from W's transform
        u (alpha^2, C, C_out); with ``keep`` its V is kept as ``keep.v``. With u None only that
        V is made (what ``weight_grad`` reads): no GEMMs, no output (None)."""
        return run_together(self._correlate_work(x, u, tiles, bias, keep))[0]

    def _correlate_work(self, x, u, tiles, bias=None, keep=None):
        """``_correlate``'s work for ``run_together``: (chunk function, chunks, finish)."""
        xp = get_array_module(x)
        dtype = x.dtype
        tr, bt, at = self._scheme(xp, dtype)
        c_in, c_out, points = x.shape[1], (0 if u is None else u.shape[2]), tiles.alpha ** 2
        yh = None if u is None else xp.empty((tiles.N, tiles.OH, tiles.OW, c_out), dtype=dtype)
        if keep is not None:
            keep.v = xp.empty((tiles.T, points, c_in), dtype=dtype)

        def chunk(c):
            n0, n1, t0, t1, part = c
            v = keep.v[t0:t1] if keep is not None else xp.empty((t1 - t0, points, c_in), dtype=dtype)
            tr.transform_input(channels_last(x[n0:n1]), part, bt, v)  # a copy only for an NCHW x, in cache
            if u is None:
                return
            # per point of the tile: (t, C) @ (C, C_out), on strided slices of the tile-major V
            m = xp.empty((t1 - t0, points, c_out), dtype=dtype)
            xp.matmul(v.transpose(1, 0, 2), u, out=m.transpose(1, 0, 2))
            tr.transform_output(m, part, at, bias, yh[n0:n1])

        return chunk, list(tiles.chunks(max(c_in, c_out), dtype.itemsize)), lambda parts: (
            None if yh is None else yh.transpose(0, 3, 1, 2))

    def forward(self, x, W, b=None):
        """-> y (N, C_out, OH, OW). V is kept only while the graph is recorded (no_grad: no
        backward, so each chunk's V is a temporary)."""
        u = weight_transform(W, x.dtype)
        return self._correlate(x, u, self.tiles, b, keep=self if is_grad_enabled() else None)

    def input_grad(self, gy, W):
        """-> gx (N, C, H, W): the forward of gy with the flipped, channel-swapped kernel."""
        return self.gradients(gy, W, weight_grad=False)[0]

    def _input_grad_work(self, gy, W):
        t = self.tiles
        return self._correlate_work(gy, weight_transform(flipped(W), gy.dtype), Tiles(gy.shape, (2 - t.PH, 2 - t.PW)))

    def weight_grad(self, gy, bias=False):
        """-> (gW (C_out, C, 3, 3) from the kept V, gb (C_out,) or None): with ``bias`` the bias
        gradient too, summed chunk by chunk from the same reads of gy."""
        return self.gradients(gy, None, input_grad=False, bias=bias)[1:]

    @staticmethod
    def _weight_from_transformed(mu, dtype):
        """dL/dU -> dL/dW (here G^T mu G)."""
        return weight_grad_transform(mu, dtype)

    def gradients(self, gy, W, input_grad=True, weight_grad=True, bias=False):
        """-> (gx or None, gW or None, gb or None): ``input_grad`` and ``weight_grad`` (with
        ``bias``) in one pass of the thread pool, their chunks side by side (one hand-off and
        one uneven end instead of two)."""
        works = ([self._input_grad_work(gy, W)] if input_grad else []) + (
            [self._weight_grad_work(gy, bias)] if weight_grad else [])
        results = run_together(*works)
        gx = results[0] if input_grad else None
        if not weight_grad:
            return gx, None, None
        mu, gb = results[-1]
        return gx, self._weight_from_transformed(mu, gy.dtype), gb

    def _weight_grad_work(self, gy, bias):
        """``run_together`` work: (dL/dU (36, C, C_out), gb (C_out,) or None) from the kept V and gy."""
        xp = get_array_module(gy)
        tr, _, at = self._scheme(xp, gy.dtype)
        (_, points, c_in), c_out = self.v.shape, gy.shape[1]

        def chunk(c):
            n0, n1, t0, t1, part = c
            gyh = channels_last(gy[n0:n1])
            g = xp.empty((t1 - t0, points, c_out), dtype=gy.dtype)
            tr.transform_grad_output(gyh, part, at, g)
            mu = xp.matmul(self.v[t0:t1].transpose(1, 2, 0), g.transpose(1, 0, 2))  # (P, C, t) @ (P, t, C_out)
            return mu, (gyh.reshape(-1, c_out).sum(axis=0) if bias else None)

        def finish(parts):  # added up in the chunks' order: the same bits with any thread count
            return sum(p[0] for p in parts), (sum(p[1] for p in parts) if bias else None)

        return chunk, list(self.tiles.chunks(max(c_in, c_out), gy.dtype.itemsize, self.weight_grad_chunk_bytes)), finish


def run_together(*works):
    """Run several (chunk function, chunks, finish) works in one ``map_chunks`` call, their
    chunks in order; -> [finish(that work's chunk results) for each work]."""
    items = [(k, c) for k, (_, chunks, _) in enumerate(works) for c in chunks]
    results = map_chunks(lambda kc: works[kc[0]][0](kc[1]), items)
    out, i = [], 0
    for _, chunks, finish in works:
        out.append(finish(results[i:i + len(chunks)]))
        i += len(chunks)
    return out
