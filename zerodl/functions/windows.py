"""Where the kernel windows of a strided, padded sweep over NCHW images fall, and the
conv building blocks on raw arrays (im2col, col2im, their GEMMs), for ``conv.py``,
``im2col.py`` and ``pooling.py``.

The book's picture, made fast:

- **im2col** lays out every kernel window of the (padded) image as one column of a matrix, so
  a convolution becomes one matrix product with the weights. The windows are a strided *view*
  of the image (``as_strided``: no copy); the only copy is the one that packs them.
- **col2im** is its adjoint: it adds every window back where it came from, one strided slab per
  kernel offset (KH*KW additions of whole arrays), never a loop over pixels.
- Inside ``conv2d`` the columns are laid out as (N, C*KH*KW, OH*OW), so ``W @ col`` (a batched
  GEMM over the samples) gives the output directly in NCHW: no transpose copy (the book's
  (N*OH*OW, C*KH*KW) layout needs one, which measured slower than the GEMM itself).
- The batch goes through in chunks of samples whose column buffer (a few MiB) stays in cache;
  the per-chunk buffers are reused scratch (``_scratch``), so only results are fresh memory,
  and backward rebuilds the columns instead of keeping every window alive between passes.
- **Wide rows** (stride 1): a window row that starts at padded column ``ow`` reads columns
  ``ow .. ow+KW-1``; if the output row is given the full padded width Wp instead of OW, then
  the (OH, Wp) block of window starts is one contiguous run of the padded image, so im2col and
  col2im move long runs rather than OW-long pieces (NumPy pays per piece). The Wp - OW extra
  columns wrap into the next image row: forward computes and drops them, backward gives them a
  zero gradient. The padded buffer gets one spare zero row so the last window may run over.
  Since a wide-row forward copies its output out anyway, its chunk's columns are packed as
  (C*KH*KW, n*OH*Q) instead (the same runs, samples side by side) for one GEMM per chunk, and
  the copy-out puts the samples back in NCHW order.
- **Phase images** (strides > 1): with stride (SH, SW) the window starts of a row skip SW - 1
  columns, so the runs would be single pixels. ``split`` cuts the padded image into its SH*SW
  phase images (rows a, a + SH, ..., columns b, b + SW, ...); kernel tap (i, j) reads phase
  (i % SH, j % SW) at the window start plus (i // SH, j // SW), a stride-1 sweep, so wide rows
  apply there (rows of Wq = ceil(Wp / SW) columns), and ``merge`` puts a gradient's phases back.
- **Narrow sweeps** (strides > 1, at most ``NARROW_MAX_PIXELS`` output pixels, e.g. 7x7 -> 4x4):
  the phase images' wide rows would waste a large share of a small output (5 columns for 4),
  so these take the exact columns (C*KH*KW, n*OH*OW), one GEMM per chunk; with Numba the
  columns are gathered from the padded chunk and added back by ``_fast_conv``'s
  ``gather_windows`` / ``scatter_windows`` (runs of OW values, too short for NumPy).

Everything goes through ``xp`` (NumPy or CuPy) and keeps the input's dtype.
"""
import math
import threading

import numpy as np

from ..core import get_array_module
from ..core.threads import map_chunks
from ._util import fast_module

__all__ = []

# conv2d packs and multiplies one chunk of samples at a time, its column buffer about this big
# (CPU only; a GPU takes the whole batch at once).
_CHUNK_BYTES = 4 << 20
# A strided (phased) sweep's chunks are smaller: fold's columns then stay in cache between its
# GEMM and the col2im adds that read them back (docs/benchmarks.md, GAN section).
_CHUNK_BYTES_PHASED = 1 << 20
# Columns at least this big go in at least _MIN_CHUNKS chunks, for the pool's threads (smaller:
# the hand-off would cost more than it saves).
_POOL_MIN_BYTES, _MIN_CHUNKS = 1 << 20, 4
# Strided sweeps with at most this many output pixels are narrow (module docstring; the
# measurements that set it are in docs/benchmarks.md).
NARROW_MAX_PIXELS = 16
# Temporaries up to this size that never leave this module live in reused scratch buffers.
_SCRATCH_MAX = 64 << 20
_scratch_bufs = threading.local()


def fast_kernels():
    """The Numba kernels of ``_fast_conv``, or None (see ``_util.fast_module``)."""
    return fast_module("functions._fast_conv")


# ----------------------------------------------------------------------------- helpers
def _scratch(xp, slot, shape, dtype):
    """An uninitialised array for a temporary that does not outlive the call, reused between calls.

    Fresh memory costs a page fault per 4 KiB page (the OS zeroes it), which on small VMs
    costs more than the copy that fills it; so the per-chunk buffers live in a few per-thread
    buffers that only grow. (NumPy only: CuPy has its own memory pool.)
    """
    nbytes = math.prod(shape) * dtype.itemsize
    if xp.__name__ != "numpy" or nbytes > _SCRATCH_MAX:
        return xp.empty(shape, dtype=dtype)
    bufs = _scratch_bufs.__dict__
    buf = bufs.get(slot)
    if buf is None or buf.nbytes < nbytes:
        buf = bufs[slot] = xp.empty(nbytes, dtype=xp.uint8)
    return buf[:nbytes].view(dtype).reshape(shape)


class Windows:
    """Where the KH x KW windows of a strided, padded sweep over (N, C, H, W) images fall,
    and the conv building blocks on raw arrays.

    ``view`` is the strided view (n, C, KH, KW, OH, Q) of every window of a padded buffer
    (Q = OW, or Wp for wide rows: see the module docstring). ``correlate``, ``weight_grad``
    and ``fold`` are conv2d's forward, weight gradient and input gradient; they run over
    chunks of samples with scratch buffers, and only their results are fresh arrays.
    """

    def __init__(self, op, x_shape, kernel, stride, padding, c_out=None):
        self.N, self.C, self.H, self.W = x_shape
        (self.KH, self.KW), (self.SH, self.SW), (self.PH, self.PW) = kernel, stride, padding
        self.Hp, self.Wp = self.H + 2 * self.PH, self.W + 2 * self.PW
        if self.KH > self.Hp or self.KW > self.Wp:
            raise ValueError(
                f"{op}: kernel {tuple(kernel)} is larger than the padded input ({self.Hp}, {self.Wp}) "
                f"(input {tuple(x_shape)}, padding {tuple(padding)})"
            )
        self.OH = (self.Hp - self.KH) // self.SH + 1
        self.OW = (self.Wp - self.KW) // self.SW + 1
        self.CKK = self.C * self.KH * self.KW
        # Wide rows (for a conv with c_out output channels) pay when each output row has more
        # window rows to pack (C*KH*KW) than output rows to trim (c_out): measured, not guessed.
        self.wide = c_out is not None and self.CKK > c_out
        strided = self.SH > 1 or self.SW > 1
        self.narrow = self.wide and strided and self.OH * self.OW <= NARROW_MAX_PIXELS
        if self.narrow:
            self.wide = False
        # A strided sweep is wide on the phase images (see ``split``): SH*SW of them, Hq x Wq each.
        self.phased = self.wide and strided
        self.Hq, self.Wq = -(-self.Hp // self.SH), -(-self.Wp // self.SW)
        self.Q = self.Wq if self.wide else self.OW
        self.L = self.OH * self.Q  # columns per sample

    # --- layout ------------------------------------------------------------------------
    def pad(self, x, value=0, slot=None):
        """``x`` padded (plus the spare row of wide rows); ``x`` itself when nothing is added.

        With ``slot`` the buffer is scratch (for a chunk used within the call). A phased sweep
        gets its phase images instead (``split``).
        """
        if self.phased:
            return self.split(x, slot)
        if not self.wide and self.PH == self.PW == 0:
            return x
        xp = get_array_module(x)
        shape = (x.shape[0], x.shape[1], self.Hp + self.wide, self.Wp)
        buf = _scratch(xp, slot, shape, x.dtype) if slot else xp.empty(shape, dtype=x.dtype)
        buf.fill(value)
        buf[:, :, self.PH : self.PH + self.H, self.PW : self.PW + self.W] = x
        return buf

    # --- phase images (wide rows for strides > 1: see the module docstring) ---------------
    def _phases(self):
        """(a, b, input rows and columns of phase (a, b), where they sit in its phase image)."""
        for a in range(self.SH):
            h0 = (a - self.PH) % self.SH
            r0, nh = (h0 + self.PH) // self.SH, len(range(h0, self.H, self.SH))
            for b in range(self.SW):
                w0 = (b - self.PW) % self.SW
                s0, nw = (w0 + self.PW) // self.SW, len(range(w0, self.W, self.SW))
                yield a, b, (slice(h0, None, self.SH), slice(w0, None, self.SW)), (slice(r0, r0 + nh), slice(s0, s0 + nw))

    def _tap_offset(self, i, j):
        """Where tap (i, j)'s run starts in its flattened phase image."""
        return (i // self.SH) * self.Wq + j // self.SW

    def tap_table(self):
        """For the kernels of ``_fast_conv``: each tap's phase image and run start, (KH*KW,) each."""
        taps = [(i, j) for i in range(self.KH) for j in range(self.KW)]
        phase = np.array([(i % self.SH) * self.SW + j % self.SW for i, j in taps], dtype=np.int64)
        return phase, np.array([self._tap_offset(i, j) for i, j in taps], dtype=np.int64)

    def split(self, x, slot=None):
        """The phase images of padded x: (n, C, SH, SW, (Hq + 1) * Wq), zero outside x."""
        xp = get_array_module(x)
        n, C = x.shape[:2]
        shape = (n, C, self.SH, self.SW, (self.Hq + 1) * self.Wq)
        buf = _scratch(xp, slot, shape, x.dtype) if slot else xp.empty(shape, dtype=x.dtype)
        buf.fill(0)
        img = buf.reshape(n, C, self.SH, self.SW, self.Hq + 1, self.Wq)
        for a, b, (hs, ws), (rs, ss) in self._phases():
            img[:, :, a, b, rs, ss] = x[:, :, hs, ws]
        return buf

    def merge(self, buf, out):
        """The inverse of ``split`` (the padding dropped): phase images -> out (n, C, H, W)."""
        n, C = out.shape[:2]
        img = buf.reshape(n, C, self.SH, self.SW, self.Hq + 1, self.Wq)
        for a, b, (hs, ws), (rs, ss) in self._phases():
            out[:, :, hs, ws] = img[:, :, a, b, rs, ss]

    def crop(self, buf):
        """The image inside a padded buffer (contiguous)."""
        inner = buf[:, :, self.PH : self.PH + self.H, self.PW : self.PW + self.W]
        return inner if inner.shape == buf.shape else get_array_module(buf).ascontiguousarray(inner)

    def view(self, buf):
        """Strided view (n, C, KH, KW, OH, Q) of the windows of a padded buffer: no copy."""
        xp = get_array_module(buf)
        sN, sC, sH, sW = buf.strides
        shape = (buf.shape[0], self.C, self.KH, self.KW, self.OH, self.Q)
        strides = (sN, sC, sH, sW, self.SH * sH, self.SW * sW)
        return xp.lib.stride_tricks.as_strided(buf, shape, strides)

    def chunks(self, xp, itemsize):
        """Balanced (start, stop) sample ranges whose column buffers are about ``_CHUNK_BYTES``;
        at least ``_MIN_CHUNKS`` once the columns pass ``_POOL_MIN_BYTES``, so that the pool's
        threads share the op. The split does not depend on the number of threads, so neither do
        the results (the weight gradient's sum over chunks)."""
        n = 1
        if xp.__name__ == "numpy":
            limit = _CHUNK_BYTES_PHASED if self.phased else _CHUNK_BYTES
            nbytes = self.N * self.CKK * self.L * itemsize
            n = -(-nbytes // limit)
            if nbytes >= _POOL_MIN_BYTES:
                n = max(n, _MIN_CHUNKS)
            n = max(1, min(self.N, n))
        step = max(1, -(-self.N // n))
        return [(i, min(i + step, self.N)) for i in range(0, self.N, step)]

    def widen(self, y, samples_inner=False):
        """A chunk (n, C, OH, OW) -> (n, C, OH*Q), the wide-row columns zero (scratch); with
        ``samples_inner`` -> (C, n*OH*Q), the layout of ``im2col(per_sample=False)``."""
        n, C = y.shape[:2]
        if self.Q == self.OW and not samples_inner:
            return y.reshape(n, C, self.L)
        if samples_inner:
            xp = get_array_module(y)
            out = _scratch(xp, "wide", (C, n, self.OH, self.Q), y.dtype)
            fast = fast_kernels() if xp.__name__ == "numpy" and y.flags.c_contiguous else None
            if fast is not None:
                fast.widen(y, out.reshape(C, n, self.L), self.Q)
                return out.reshape(C, n * self.L)
            y = y.transpose(1, 0, 2, 3)
        else:
            out = _scratch(get_array_module(y), "wide", (n, C, self.OH, self.Q), y.dtype)
        out[..., self.OW :] = 0
        out[..., : self.OW] = y
        return out.reshape(C, n * self.L) if samples_inner else out.reshape(n, C, self.L)

    def im2col(self, x, per_sample=True):
        """Pack the windows of a chunk x (n, C, H, W) into (n, C*KH*KW, OH*Q), or with
        ``per_sample=False`` into (C*KH*KW, n*OH*Q) (the samples side by side in each row, for
        one GEMM over the chunk): one copy either way (scratch)."""
        buf = self.pad(x, slot="pad")
        n = x.shape[0]
        xp = get_array_module(x)
        if self.phased:
            if per_sample:
                col = _scratch(xp, "col", (n, self.CKK, self.L), x.dtype)
                taps = col.reshape(n, self.C, self.KH, self.KW, self.L)
            else:
                col = _scratch(xp, "col", (self.CKK, n * self.L), x.dtype)
                fast = fast_kernels() if xp.__name__ == "numpy" else None
                if fast is not None:
                    fast.copy_taps(buf.reshape(n, self.C, self.SH * self.SW, -1),
                                   col.reshape(self.C, self.KH * self.KW, n, self.L), *self.tap_table())
                    return col
                taps = col.reshape(self.C, self.KH, self.KW, n, self.L).transpose(3, 0, 1, 2, 4)
            for i in range(self.KH):
                for j in range(self.KW):
                    k = self._tap_offset(i, j)
                    taps[:, :, i, j] = buf[:, :, i % self.SH, j % self.SW, k : k + self.L]
            return col
        win = self.view(buf)
        if per_sample:
            col = _scratch(xp, "col", (n, self.CKK, self.L), x.dtype)
            col.reshape(n, self.C, self.KH, self.KW, self.OH, self.Q)[...] = win
        else:  # the same OH*Q-long runs, only written to other places
            col = _scratch(xp, "col", (self.CKK, n * self.L), x.dtype)
            fast = fast_kernels() if self.narrow and xp.__name__ == "numpy" else None
            if fast is not None:  # runs of OW values: too short for NumPy's copies
                fast.gather_windows(buf, col.reshape(self.C, self.KH, self.KW, n, self.OH, self.OW), self.SH, self.SW)
                return col
            col.reshape(self.C, self.KH, self.KW, n, self.OH, self.Q)[...] = win.transpose(1, 2, 3, 0, 4, 5)
        return col

    def col2im_add(self, gcol, buf):
        """Add gcol (n, C, KH, KW, OH, Q) into the windows of ``buf`` (from ``pad``, or ``split``
        when phased): one slab per kernel offset."""
        if self.phased:
            for i in range(self.KH):
                for j in range(self.KW):
                    k = self._tap_offset(i, j)
                    buf[:, :, i % self.SH, j % self.SW, k : k + self.L] += gcol[:, :, i, j].reshape(len(buf), self.C, self.L)
            return
        win = self.view(buf)
        for i in range(self.KH):
            for j in range(self.KW):
                win[:, :, i, j] += gcol[:, :, i, j]

    # --- conv2d on raw arrays ------------------------------------------------------------
    def correlate(self, x, W2, b=None, gy=None, channels_last=False):
        """conv2d's forward: W2 (C_out, C*KH*KW) @ im2col(x) (+ b) -> y (N, C_out, OH, OW).

        With ``gy`` (N, G, OH, OW) also the weight gradient of ``weight_grad(x, gy)`` from the
        same columns (packed once): returns ``(y, gW)``. With ``channels_last`` (honoured where
        ``nhwc_out`` allows) y's memory is (N, OH, OW, C_out), each sample's GEMM turned round
        (im2col(x).T @ W2.T): what a Winograd layer after it reads without a copy.
        """
        y, gW = self._sweep(x, W2, b, gy, channels_last and self.nhwc_out)
        return y if gy is None else (y, gW)

    @property
    def nhwc_out(self):
        """Whether ``correlate`` can give a channels-last y: the per-sample GEMM path."""
        return self.Q == self.OW and not self.narrow

    def weight_grad(self, x, gy):
        """conv2d's weight gradient: sum over samples of gy @ im2col(x).T -> (G, C*KH*KW)."""
        return self._sweep(x, None, None, gy)[1]

    def _sweep(self, x, W2, b, gy, nhwc=False):
        """One pass over chunks of im2col(x): ``W2 @ col (+ b)`` when W2 is given (channels-last
        with ``nhwc``), and the sum of ``gy @ col.T`` when gy is; returns (y or None, gW or None)."""
        xp = get_array_module(x)
        y = None
        if W2 is not None:
            C_out = W2.shape[0]
            y_nhwc = xp.empty((self.N, self.OH, self.OW, C_out), dtype=x.dtype) if nhwc else None
            y = y_nhwc.transpose(0, 3, 1, 2) if nhwc else xp.empty((self.N, C_out, self.OH, self.OW), dtype=x.dtype)
        per_sample = self.nhwc_out
        G = None if gy is None else gy.shape[1]
        gy_nhwc = None  # a channels-last gy (from a Winograd layer's input gradient), as such
        if gy is not None and per_sample and not gy.flags.c_contiguous and gy.transpose(0, 2, 3, 1).flags.c_contiguous:
            gy_nhwc = gy.transpose(0, 2, 3, 1)

        def chunk(n0_n1):  # on zerodl's thread pool: fills y[n0:n1], returns the chunk's gW.T
            n0, n1 = n0_n1
            n = n1 - n0
            gW_T = None  # transposed: a faster GEMM shape
            col = self.im2col(x[n0:n1], per_sample=per_sample)
            if per_sample:  # one GEMM per sample, straight into y (turned round for a channels-last y)
                if W2 is not None:
                    out = y_nhwc[n0:n1].reshape(n, self.L, C_out) if nhwc else y[n0:n1].reshape(n, C_out, self.L)
                    xp.matmul(*((col.transpose(0, 2, 1), W2.T) if nhwc else (W2, col)), out=out)
                    if b is not None:
                        out += b if nhwc else b[:, None]
                if gy is not None:
                    g = (gy[n0:n1].reshape(n, G, self.L).transpose(0, 2, 1) if gy_nhwc is None
                         else gy_nhwc[n0:n1].reshape(n, self.L, G))
                    gW_T = (col @ g).sum(axis=0)
                return gW_T
            # Wide rows: the output is copied out anyway (dropping the extra columns, adding
            # the bias), so it can also be put back in sample order: then the whole chunk is
            # one GEMM (C_out, C*KH*KW) @ (C*KH*KW, n*OH*Q) instead of n (docs/benchmarks.md: faster
            # on SimpleConvNet's conv, not on small chunks of DeepConvNet's); the weight
            # gradient is one GEMM over the chunk too, gy laid out the same way.
            if W2 is not None:
                out = _scratch(xp, "out", (C_out, n * self.L), x.dtype)
                xp.matmul(W2, col, out=out)
                fast = fast_kernels() if xp.__name__ == "numpy" and (b is None or b.dtype == x.dtype) else None
                if fast is not None:
                    fast.unwiden(out.reshape(C_out, n, self.L), xp.zeros(C_out, x.dtype) if b is None else b,
                                 y[n0:n1], self.Q)
                else:
                    out = out.reshape(C_out, n, self.OH, self.Q)[..., : self.OW].transpose(1, 0, 2, 3)
                    if b is None:
                        y[n0:n1] = out
                    else:
                        xp.add(out, b.reshape(-1, 1, 1), out=y[n0:n1])
            if gy is not None:
                gW_T = col @ self.widen(gy[n0:n1], samples_inner=True).T
            return gW_T

        parts = map_chunks(chunk, self.chunks(xp, x.dtype.itemsize))
        gW_T = None if gy is None else sum(parts)
        return y, (None if gW_T is None else gW_T.T)

    def fold(self, gy, W2):
        """conv2d's input gradient: col2im(W2.T @ gy) -> (N, C, H, W)."""
        xp = get_array_module(gy)
        gx = xp.empty((self.N, self.C, self.H, self.W), dtype=gy.dtype)
        in_place = not self.wide and self.PH == self.PW == 0  # gx itself is the padded buffer

        def chunk(n0_n1):  # on zerodl's thread pool: fills gx[n0:n1]
            n0, n1 = n0_n1
            n = n1 - n0
            if self.Q == self.OW and not self.narrow:  # one GEMM per sample
                gcol = _scratch(xp, "col", (n, self.CKK, self.L), gy.dtype)
                xp.matmul(W2.T, self.widen(gy[n0:n1]), out=gcol)
                gcol = gcol.reshape(n, self.C, self.KH, self.KW, self.OH, self.Q)
            else:  # wide rows: one GEMM per chunk, columns laid out as im2col(per_sample=False)
                cols = _scratch(xp, "col", (self.CKK, n * self.L), gy.dtype)
                xp.matmul(W2.T, self.widen(gy[n0:n1], samples_inner=True), out=cols)
                gcol = cols.reshape(self.C, self.KH, self.KW, n, self.OH, self.Q).transpose(3, 0, 1, 2, 4, 5)
            if in_place:
                buf = gx[n0:n1]
            elif self.phased:
                buf = _scratch(xp, "pad", (n, self.C, self.SH, self.SW, (self.Hq + 1) * self.Wq), gy.dtype)
            else:
                buf = _scratch(xp, "pad", (n, self.C, self.Hp + self.wide, self.Wp), gy.dtype)
            buf.fill(0)
            fast = fast_kernels() if ((self.phased and self.Q != self.OW) or self.narrow) and xp.__name__ == "numpy" else None
            if fast is not None and self.narrow:
                fast.scatter_windows(cols.reshape(self.C, self.KH, self.KW, n, self.OH, self.OW), buf, self.SH, self.SW)
            elif fast is not None:
                fast.add_taps(cols.reshape(self.C, self.KH * self.KW, n, self.L),
                              buf.reshape(n, self.C, self.SH * self.SW, -1), *self.tap_table())
            else:
                self.col2im_add(gcol, buf)
            if self.phased:
                self.merge(buf, gx[n0:n1])
            elif not in_place:
                gx[n0:n1] = buf[:, :, self.PH : self.PH + self.H, self.PW : self.PW + self.W]

        map_chunks(chunk, self.chunks(xp, gy.dtype.itemsize))
        return gx
