"""Pooling on NCHW images: max_pool2d, avg_pool2d, on conv's ``Windows``.

Pooling loops over the KH*KW kernel offsets: one strided slab per offset, a running max (and
the offset of the first maximum, as PyTorch) or a running sum; never a loop over pixels.
Everything goes through ``xp`` (NumPy or CuPy) and keeps the input's dtype. With Numba
(``zerodl[fast]``), 2x2 max pooling with stride 2 on NumPy arrays runs the one-pass kernels of
``_fast_pool`` instead; this code is their reference.
"""
import numpy as np

from ..core import Function, get_array_module
from ._util import fast_module, over_batch
from .conv import Windows, check_image, pair

__all__ = ["max_pool2d", "avg_pool2d"]


# ----------------------------------------------------------------------------- pooling
def _pool_windows(op, x, kernel, stride, padding):
    check_image(op, x)
    if padding[0] * 2 > kernel[0] or padding[1] * 2 > kernel[1]:
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel size {kernel}")
    return Windows(op, x.shape, kernel, stride, padding)


def _slabs(w, buf):
    """(k, slab) for every kernel offset: slab = the (N, C, OH, OW) values at that offset."""
    k = 0
    for i in range(w.KH):
        for j in range(w.KW):
            yield k, buf[:, :, i : i + w.SH * (w.OH - 1) + 1 : w.SH, j : j + w.SW * (w.OW - 1) + 1 : w.SW]
            k += 1


def _new_image(xp, shape, dtype, zero, channels_last):
    """A new (N, C, H, W) array, its memory channels-last (N, H, W, C) or not."""
    make = xp.zeros if zero else xp.empty
    if channels_last:
        n, c, h, w = shape
        return make((n, h, w, c), dtype=dtype).transpose(0, 3, 1, 2)
    return make(shape, dtype=dtype)


def _image_like(xp, ref, shape, dtype, zero):
    """A new (N, C, H, W) array laid out in memory as ``ref`` is: channels-last when ref is."""
    channels_last = ref.ndim == 4 and not ref.flags.c_contiguous and ref.transpose(0, 2, 3, 1).flags.c_contiguous
    return _new_image(xp, shape, dtype, zero, channels_last)


def _kernel_view(a, planes):
    """The C-contiguous view of an (N, C, H, W) array that ``_fast_pool`` takes: (N*C, H, W)
    planes of an NCHW-contiguous one, or (N, H, W, C) of a channels-last one; None when ``a``
    is not laid out so."""
    if planes:
        return a.reshape(-1, *a.shape[2:]) if a.flags.c_contiguous else None
    t = a.transpose(0, 2, 3, 1)
    return t if t.flags.c_contiguous else None


def _pool_kernels(x, w):
    """``_fast_pool`` when it may run: 2x2 windows, stride 2, no padding, on a NumPy float image
    laid out as the kernels read; else None."""
    if ((w.KH, w.KW, w.SH, w.SW, w.PH, w.PW) != (2, 2, 2, 2, 0, 0) or type(x) is not np.ndarray
            or x.dtype not in (np.float32, np.float64) or _kernel_view(x, x.flags.c_contiguous) is None):
        return None
    return fast_module("_fast_pool")


class MaxPool2d(Function):
    """Max over each window; backward routes gy to the first maximum (as PyTorch).

    Forward keeps a running max and, per window, the kernel offset of its first maximum
    (uint8 when KH*KW <= 255): a later offset wins only if strictly greater.
    """

    def __init__(self, kernel, stride, padding):
        self.args = kernel, stride, padding

    def forward(self, x):
        w = self.w = _pool_windows("max_pool2d", x, *self.args)
        xp = get_array_module(x)
        fast = self.fast = _pool_kernels(x, w)
        if fast is not None:
            planes = self.planes = x.flags.c_contiguous
            y = _new_image(xp, (w.N, w.C, w.OH, w.OW), x.dtype, False, channels_last=not planes)
            arg = self.arg = _new_image(xp, y.shape, xp.uint8, False, channels_last=not planes)
            run = fast.max_pool2_forward_planes if planes else fast.max_pool2_forward
            over_batch(lambda s: run(*(_kernel_view(a[s], planes) for a in (x, y, arg))), y)
            return y
        slabs = list(_slabs(w, w.pad(x, value=-xp.inf)))
        y = slabs[0][1].copy(order="K")  # keeps x's memory layout (channels-last stays so)
        arg = self.arg = xp.zeros_like(y, dtype=xp.uint8 if w.KH * w.KW <= 255 else xp.int32)

        def piece(s):  # samples s (on zerodl's thread pool when large)
            ys, args = y[s], arg[s]
            cur, new = ys, xp.empty_like(ys)
            for k, v in slabs[1:]:
                # The slab v is a strided view, slow to read: read it once (the new running max),
                # then find where v was strictly greater as where the (contiguous) max changed.
                xp.maximum(cur, v[s], out=new)
                # arithmetic, not masked assignment (branch-free, faster: docs/benchmarks.md). Offsets
                # come in increasing order, so the maximum keeps the latest strict improvement.
                better = (new != cur).astype(arg.dtype)
                better *= arg.dtype.type(k)
                xp.maximum(args, better, out=args)
                cur, new = new, cur
            if cur is not ys:
                ys[...] = cur

        over_batch(piece, y)
        return y

    def backward(self, gy):
        w, arg = self.w, self.arg
        xp = get_array_module(gy)
        if self.fast is not None and gy.dtype in (np.float32, np.float64) and type(gy) is np.ndarray:
            return self._fast_backward(gy)
        overlap = w.SH < w.KH or w.SW < w.KW
        # windows that tile the (padded) input exactly write every element once: no zeroing
        tiled = (w.SH, w.SW) == (w.KH, w.KW) and (w.OH * w.KH, w.OW * w.KW) == (w.Hp, w.Wp)
        buf = _image_like(xp, arg, (w.N, w.C, w.Hp, w.Wp), gy.dtype, zero=not tiled)
        slabs = list(_slabs(w, buf))

        def piece(s):
            for k, slab in slabs:
                if overlap:
                    slab[s] += gy[s] * (arg[s] == k)
                else:
                    xp.multiply(gy[s], arg[s] == k, out=slab[s])

        over_batch(piece, buf)
        return w.crop(buf)

    def _fast_backward(self, gy):
        w, arg, fast = self.w, self.arg, self.fast
        xp = get_array_module(gy)
        planes = self.planes
        if _kernel_view(gy, planes) is None:  # gy laid out in memory as x was
            gy = gy.copy(order="C") if planes else xp.ascontiguousarray(gy.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
        gx = _new_image(xp, (w.N, w.C, w.H, w.W), gy.dtype, False, channels_last=not planes)  # all written
        run = fast.max_pool2_backward_planes if planes else fast.max_pool2_backward
        over_batch(lambda s: run(*(_kernel_view(a[s], planes) for a in (gy, arg, gx))), gx)
        return gx


class AvgPool2d(Function):
    """Mean over each window, padding counted as zeros (PyTorch's count_include_pad=True)."""

    def __init__(self, kernel, stride, padding):
        self.args = kernel, stride, padding

    def forward(self, x):
        w = self.w = _pool_windows("avg_pool2d", x, *self.args)
        y = None
        for _, v in _slabs(w, w.pad(x)):
            if y is None:
                y = v.copy()
            else:
                y += v
        y *= y.dtype.type(1.0 / (w.KH * w.KW))
        return y

    def backward(self, gy):
        w = self.w
        xp = get_array_module(gy)
        g = gy * gy.dtype.type(1.0 / (w.KH * w.KW))
        buf = xp.zeros((w.N, w.C, w.Hp, w.Wp), dtype=gy.dtype)
        overlap = w.SH < w.KH or w.SW < w.KW
        for _, slab in _slabs(w, buf):
            if overlap:
                slab += g
            else:
                slab[...] = g
        return w.crop(buf)


def _pool_args(op, kernel_size, stride, padding):
    kernel = pair(kernel_size, "kernel_size", op, 1)
    stride = kernel if stride is None else pair(stride, "stride", op, 1)
    return kernel, stride, pair(padding, "padding", op, 0)


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """Max over KH x KW windows (stride defaults to the kernel size; padding pads with -inf)."""
    return MaxPool2d(*_pool_args("max_pool2d", kernel_size, stride, padding))(x)


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """Mean over KH x KW windows (stride defaults to the kernel size; padding counts as zeros)."""
    return AvgPool2d(*_pool_args("avg_pool2d", kernel_size, stride, padding))(x)
