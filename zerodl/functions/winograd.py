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

__all__ = ["applies", "WinogradConv", "flipped", "transforms", "preload"]

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
    """Where the 6x6 input tiles (step 4) of a padded (N, C, H, W) image fall."""

    def __init__(self, x_shape, padding):
        self.N, self.C, self.H, self.W = x_shape
        self.PH, self.PW = padding
        self.OH, self.OW = self.H + 2 * self.PH - 2, self.W + 2 * self.PW - 2
        self.TH, self.TW = -(-self.OH // 4), -(-self.OW // 4)  # tiles per column / row
        self.T = self.N * self.TH * self.TW

    def chunks(self, channels, itemsize):
        """(sample range, its tile range, the Tiles of that many samples): about _CHUNK_BYTES of
        transformed tiles each, so that a chunk's V and M stay in cache between the transforms
        and the GEMMs (a batch's V is several times the cache)."""
        per = self.TH * self.TW
        step = max(1, _CHUNK_BYTES // (per * 36 * channels * itemsize))
        for n0 in range(0, self.N, step):
            n1 = min(n0 + step, self.N)
            yield n0, n1, n0 * per, n1 * per, Tiles((n1 - n0, self.C, self.H, self.W), (self.PH, self.PW))


def channels_last(x):
    """x (N, C, H, W) as a C-contiguous (N, H, W, C) array: a view when x's memory is laid out
    channels-last (as the outputs of this module are), else a copy."""
    xp = get_array_module(x)
    return xp.ascontiguousarray(x.transpose(0, 2, 3, 1))


class NumpyTransforms:
    """The three data transforms written as ``einsum`` over strided tile views (the reference).

    Inputs and outputs are channels-last (N, H, W, C); the transformed tiles are tile-major
    (T, 36, C): the 36 products of a tile sit together.
    """

    @staticmethod
    def transform_input(xh, t, bt, out):
        """xh (N, H, W, C) -> out (T, 36, C) = B^T d B of every 6x6 tile of the padded image."""
        xp = get_array_module(xh)
        C = xh.shape[3]
        buf = xp.zeros((t.N, 4 * t.TH + 2, 4 * t.TW + 2, C), dtype=xh.dtype)
        buf[:, t.PH:t.PH + t.H, t.PW:t.PW + t.W] = xh
        sN, sH, sW, sC = buf.strides
        tiles = xp.lib.stride_tricks.as_strided(
            buf, (t.N, t.TH, t.TW, 6, 6, C), (sN, 4 * sH, 4 * sW, sH, sW, sC))
        out[...] = xp.einsum("ai,nuvijc,bj->nuvabc", bt, tiles, bt, optimize=True).reshape(t.T, 36, C)

    @staticmethod
    def transform_output(m, t, at, bias, out):
        """M (T, 36, C_out) -> out (N, OH, OW, C_out) = A^T m A of every tile (+ bias)."""
        xp = get_array_module(m)
        c_out = m.shape[2]
        m = m.reshape(t.N, t.TH, t.TW, 6, 6, c_out)
        y = xp.einsum("ai,nuvijc,bj->nuavbc", at, m, at, optimize=True)
        out[...] = y.reshape(t.N, 4 * t.TH, 4 * t.TW, c_out)[:, :t.OH, :t.OW]
        if bias is not None:
            out += bias

    @staticmethod
    def transform_grad_output(gyh, t, at, out):
        """gyh (N, OH, OW, C_out) -> out (T, 36, C_out) = A gY A^T of every 4x4 tile (zero beyond OH, OW)."""
        xp = get_array_module(gyh)
        c_out = gyh.shape[3]
        buf = xp.zeros((t.N, 4 * t.TH, 4 * t.TW, c_out), dtype=gyh.dtype)
        buf[:, :t.OH, :t.OW] = gyh
        tiles = buf.reshape(t.N, t.TH, 4, t.TW, 4, c_out)
        out[...] = xp.einsum("ia,nuivjc,jb->nuvabc", at, tiles, at, optimize=True).reshape(t.T, 36, c_out)


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


def weight_transform(W, dtype):
    """W (C_out, C, 3, 3) -> U (36, C, C_out) = G g G^T."""
    xp = get_array_module(W)
    g = xp.asarray(G, dtype=dtype)
    gw = xp.tensordot(W, g, axes=([3], [1]))        # (C_out, C, 3, 6): W G^T, one GEMM
    u = xp.tensordot(g, gw, axes=([1], [2]))        # (6, C_out, C, 6): G W G^T
    return xp.ascontiguousarray(u.transpose(0, 3, 2, 1)).reshape(36, W.shape[1], W.shape[0])


def weight_grad_transform(mu, dtype):
    """dL/dU (36, C, C_out) -> dL/dW (C_out, C, 3, 3) = G^T mu G."""
    xp = get_array_module(mu)
    g = xp.asarray(G, dtype=dtype)
    mu = mu.reshape(6, 6, mu.shape[1], mu.shape[2])                 # (6a, 6b, C, C_out)
    t = xp.tensordot(g, mu, axes=([0], [0]))                         # (3k, 6b, C, C_out)
    gw = xp.tensordot(t, g, axes=([1], [0]))                         # (3k, C, C_out, 3l)
    return xp.ascontiguousarray(gw.transpose(2, 1, 0, 3))


class WinogradConv:
    """One conv2d call (x (N, C, H, W), W (C_out, C, 3, 3), stride 1) in the Winograd domain;
    keeps the forward's V for the weight gradient.

    Its results (y, gx) are (N, C, H, W) arrays whose memory is channels-last, so that the next
    Winograd layer reads them without a copy (elementwise ops and pooling keep that layout).
    """

    def __init__(self, x_shape, padding):
        self.tiles = Tiles(x_shape, padding)

    @staticmethod
    def _correlate(x, W, tiles, bias=None, keep=None):
        """conv2d(x, W) + bias, chunk by chunk (on zerodl's thread pool); with ``keep`` its V is
        kept as ``keep.v``."""
        xp = get_array_module(x)
        tr, dtype = transforms(), x.dtype
        bt, at = xp.asarray(BT, dtype=dtype), xp.asarray(AT, dtype=dtype)
        u = weight_transform(W, dtype)
        c_in, c_out = W.shape[1], W.shape[0]
        yh = xp.empty((tiles.N, tiles.OH, tiles.OW, c_out), dtype=dtype)
        if keep is not None:
            keep.v = xp.empty((tiles.T, 36, c_in), dtype=dtype)

        def chunk(c):
            n0, n1, t0, t1, part = c
            v = keep.v[t0:t1] if keep is not None else xp.empty((t1 - t0, 36, c_in), dtype=dtype)
            tr.transform_input(channels_last(x[n0:n1]), part, bt, v)  # a copy only for an NCHW x, in cache
            # per point of the 6x6 tile: (t, C) @ (C, C_out), on strided slices of the tile-major V
            m = xp.empty((t1 - t0, 36, c_out), dtype=dtype)
            xp.matmul(v.transpose(1, 0, 2), u, out=m.transpose(1, 0, 2))
            tr.transform_output(m, part, at, bias, yh[n0:n1])

        map_chunks(chunk, tiles.chunks(max(c_in, c_out), dtype.itemsize))
        return yh.transpose(0, 3, 1, 2)

    def forward(self, x, W, b=None):
        """-> y (N, C_out, OH, OW). V is kept only while the graph is recorded (no_grad: no
        backward, so each chunk's V is a temporary)."""
        return self._correlate(x, W, self.tiles, b, keep=self if is_grad_enabled() else None)

    def input_grad(self, gy, W):
        """-> gx (N, C, H, W): the forward of gy with the flipped, channel-swapped kernel."""
        t = self.tiles
        return self._correlate(gy, flipped(W), Tiles(gy.shape, (2 - t.PH, 2 - t.PW)))

    def weight_grad(self, gy, bias=False):
        """-> (gW (C_out, C, 3, 3) from the kept V, gb (C_out,) or None): with ``bias`` the bias
        gradient too, summed chunk by chunk from the same reads of gy."""
        xp = get_array_module(gy)
        at = xp.asarray(AT, dtype=gy.dtype)
        c_in, c_out = self.v.shape[2], gy.shape[1]
        tr = transforms()

        def chunk(c):
            n0, n1, t0, t1, part = c
            gyh = channels_last(gy[n0:n1])
            g = xp.empty((t1 - t0, 36, c_out), dtype=gy.dtype)
            tr.transform_grad_output(gyh, part, at, g)
            mu = xp.matmul(self.v[t0:t1].transpose(1, 2, 0), g.transpose(1, 0, 2))  # (36, C, t) @ (36, t, C_out)
            return mu, (gyh.reshape(-1, c_out).sum(axis=0) if bias else None)

        parts = map_chunks(chunk, self.tiles.chunks(max(c_in, c_out), gy.dtype.itemsize))
        gW = weight_grad_transform(sum(p[0] for p in parts), gy.dtype)
        return gW, (sum(p[1] for p in parts) if bias else None)
