"""Convolution on NCHW images: conv2d, conv_transpose2d, by im2col and GEMMs on the
``Windows`` of ``windows.py`` (which has the packing design: chunks, scratch buffers,
wide rows, phase images); the book's ``im2col``/``col2im`` with their own layout are in
``im2col.py``, pooling in ``pooling.py``.

With stride 1, conv2d's input gradient is itself a convolution (of gy with the flipped kernel),
which packs columns instead of adding KH*KW slabs back (``_input_grad``); conv_transpose2d is
conv2d's adjoint on the same windows, its backward packing gy's columns once for gx and gW.

Everything goes through ``xp`` (NumPy or CuPy) and keeps the input's dtype.
"""
import numpy as np

from ..core import Function, get_array_module
from . import strided_winograd, winograd
from ._util import check_image, pair
from .windows import Windows

__all__ = ["conv2d", "conv_transpose2d"]


# ----------------------------------------------------------------------------- conv2d
def _check_bias(op, b, channels):
    if b is not None and b.shape != (channels,):
        raise ValueError(f"{op}: bias of shape {tuple(b.shape)} does not match {channels} output channels")


def _bias_grad(gy):
    return gy.sum(axis=0).reshape(gy.shape[1], -1).sum(axis=1)  # faster than sum(axis=(0, 2, 3))


def _input_grad(w, gy, W):
    """conv2d's input gradient ``col2im(W2.T @ gy)`` for the windows ``w`` and W (C_out, C, KH, KW).

    With stride 1 the same sum is a conv2d of gy, padded by K-1-P, with the kernel flipped and
    its channel axes swapped: packing those columns (one copy) beats adding KH*KW slabs back
    (KH*KW read-modify-write passes) on DeepConvNet's layers. Else col2im.
    """
    if w.SH == w.SW == 1 and w.PH < w.KH and w.PW < w.KW:
        padding = (w.KH - 1 - w.PH, w.KW - 1 - w.PW)
        full = Windows("conv2d", gy.shape, (w.KH, w.KW), (1, 1), padding, c_out=w.C)
        return full.correlate(gy, winograd.flipped(W).reshape(w.C, -1))
    return w.fold(gy, W.reshape(W.shape[0], -1))


def nhwc_output(W, x):
    """Whether an im2col conv2d gives its output channels-last (``Windows.correlate``): a 3x3
    kernel with enough output channels for a Winograd layer (which reads channels-last without
    a copy, and whose input gradient comes back channels-last) to be the likely next one."""
    return W.shape[2:] == (3, 3) and W.shape[0] >= winograd.MIN_CHANNELS and get_array_module(x) is np


class Conv2d(Function):
    """y = W * x + b (cross-correlation, as PyTorch): x (N, C, H, W), W (C_out, C, KH, KW).

    3x3 stride-1 kernels with >= 8 input channels go through Winograd F(4x4, 3x3)
    (``winograd.py``: forward and both gradients). Otherwise:
    Forward: im2col + GEMMs per sample chunk (``W2 @ col``, NCHW out) + bias.
    Backward: gW = sum gy @ col.T (columns rebuilt: measured faster than keeping the forward's,
    which are no longer in cache by then), gb = sum of gy, gx = col2im(W2.T @ gy)
    (see ``_input_grad``); gx is skipped when x needs no gradient (a first layer).
    """

    def __init__(self, stride, padding):
        self.stride, self.padding = stride, padding

    def forward(self, x, W, b=None):
        check_image("conv2d", x)
        check_image("conv2d", W, "weight")
        if x.shape[1] != W.shape[1]:
            raise ValueError(
                f"conv2d: input has {x.shape[1]} channels but weight {tuple(W.shape)} expects {W.shape[1]}"
            )
        _check_bias("conv2d", b, W.shape[0])
        self.x, self.W = x, W
        if winograd.applies(x, W, self.stride, self.padding):
            self.w = winograd.WinogradConv(x.shape, self.padding)
            return self.w.forward(x, W, b)
        if strided_winograd.applies(x.shape, W, self.stride, self.padding, x.dtype, get_array_module(x)):
            self.w = strided_winograd.StridedWinogradConv(x.shape, self.padding)
            return self.w.forward(x, W, b)
        self.w = Windows("conv2d", x.shape, W.shape[2:], self.stride, self.padding, c_out=W.shape[0])
        return self.w.correlate(x, W.reshape(W.shape[0], -1), b, channels_last=nhwc_output(W, x))

    def backward(self, gy):
        w, W = self.w, self.W
        gW = gb = None
        wants_gb = len(self.inputs) > 2 and self.needs_grad(2)
        if isinstance(w, winograd.WinogradConv):  # both in one pass; gb from the same chunks of gy
            gx, gW, gb = w.gradients(gy, W, self.needs_grad(0), self.needs_grad(1), wants_gb)
        else:
            gx = _input_grad(w, gy, W) if self.needs_grad(0) else None
            gW = w.weight_grad(self.x, gy).reshape(W.shape) if self.needs_grad(1) else None
        if wants_gb and gb is None:
            gb = _bias_grad(gy)
        return gx, gW, gb


class ConvTranspose2d(Function):
    """The adjoint of conv2d (PyTorch's conv_transpose2d): x (N, C_in, H, W), W (C_in, C_out, KH, KW).

    Output (N, C_out, (H-1)*stride - 2*padding + KH, ...). Seen from the conv2d (weight W) that
    maps the output image back onto x: forward is that conv's input gradient (col2im of
    W2.T @ x), backward its forward (gx) and its weight gradient (gW). With stride 1 the
    forward is itself a conv2d (of x padded by K-1-P, kernel ``winograd.flipped(W)``): a 3x3 one
    with >= 8 input channels runs as that conv through Winograd, forward and both gradients.
    """

    def __init__(self, stride, padding):
        self.stride, self.padding = stride, padding

    def forward(self, x, W, b=None):
        check_image("conv_transpose2d", x)
        check_image("conv_transpose2d", W, "weight")
        if x.shape[1] != W.shape[0]:
            raise ValueError(
                f"conv_transpose2d: input has {x.shape[1]} channels but weight {tuple(W.shape)} "
                f"expects {W.shape[0]}"
            )
        _check_bias("conv_transpose2d", b, W.shape[1])
        (KH, KW), (SH, SW), (PH, PW) = W.shape[2:], self.stride, self.padding
        N, _, H, W_ = x.shape
        out_shape = (N, W.shape[1], (H - 1) * SH - 2 * PH + KH, (W_ - 1) * SW - 2 * PW + KW)
        if out_shape[2] < 1 or out_shape[3] < 1:
            raise ValueError(
                f"conv_transpose2d: input {tuple(x.shape)} with weight {tuple(W.shape)}, stride "
                f"{self.stride} and padding {self.padding} gives an empty output {out_shape}"
            )
        self.x, self.W = x, W
        # Stride 1: the same sum is a conv2d of x padded by K-1-P with the flipped, channel-swapped
        # kernel (see _input_grad); a 3x3 one goes through Winograd, forward and both gradients.
        pad = (KH - 1 - PH, KW - 1 - PW)
        if (SH, SW) == (1, 1) and min(pad) >= 0 and winograd.applies(x, winograd.flipped(W), (1, 1), pad):
            self.w = winograd.WinogradConv(x.shape, pad)
            return self.w.forward(x, winograd.flipped(W), b)
        if strided_winograd.applies(out_shape, W, self.stride, self.padding, x.dtype, get_array_module(x)):
            self.w = strided_winograd.StridedWinogradConv(out_shape, self.padding)
            y = self.w.input_grad(x, W)
            if b is not None:
                y += b.reshape(-1, 1, 1)
            return y
        # the conv2d (weight W) that maps the output image back onto x
        self.w = Windows("conv_transpose2d", out_shape, (KH, KW), self.stride, self.padding, W.shape[0])
        y = _input_grad(self.w, x, W)
        if b is not None:
            y += b.reshape(-1, 1, 1)
        return y

    def backward(self, gy):
        w, W = self.w, self.W
        gx = gW = gb = None
        wants_gb = len(self.inputs) > 2 and self.needs_grad(2)
        if isinstance(w, strided_winograd.StridedWinogradConv):  # the conv2d it is the adjoint of
            if self.needs_grad(0):
                gx = w.forward(gy, W, keep=self.needs_grad(1))
            elif self.needs_grad(1):  # gW needs that conv's transformed gy, not its output
                w.keep_input(gy)
            if self.needs_grad(1):
                gW, _ = w.weight_grad(self.x)
        elif isinstance(w, winograd.WinogradConv):  # the equivalent conv2d's gradients
            gx, gWc, gb = w.gradients(gy, winograd.flipped(W), self.needs_grad(0), self.needs_grad(1), wants_gb)
            if gWc is not None:
                gW = get_array_module(gy).ascontiguousarray(winograd.flipped(gWc))
        elif self.needs_grad(0) and self.needs_grad(1):  # both from the same columns of gy
            gx, gW = w.correlate(gy, W.reshape(W.shape[0], -1), gy=self.x)
        elif self.needs_grad(0):
            gx = w.correlate(gy, W.reshape(W.shape[0], -1))
        elif self.needs_grad(1):
            gW = w.weight_grad(gy, self.x)
        gW = None if gW is None else gW.reshape(W.shape)
        if wants_gb and gb is None:
            gb = _bias_grad(gy)
        return gx, gW, gb


def conv2d(x, W, b=None, stride=1, padding=0):
    """2-D convolution: x (N, C_in, H, W), W (C_out, C_in, KH, KW), b (C_out,) -> (N, C_out, OH, OW)."""
    f = Conv2d(pair(stride, "stride", "conv2d", 1), pair(padding, "padding", "conv2d", 0))
    return f(x, W) if b is None else f(x, W, b)


def conv_transpose2d(x, W, b=None, stride=1, padding=0):
    """Transposed convolution: x (N, C_in, H, W), W (C_in, C_out, KH, KW) -> (N, C_out, OH, OW),
    OH = (H - 1) * stride - 2 * padding + KH."""
    op = "conv_transpose2d"
    f = ConvTranspose2d(pair(stride, "stride", op, 1), pair(padding, "padding", op, 0))
    return f(x, W) if b is None else f(x, W, b)

