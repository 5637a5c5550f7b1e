"""The book's ``im2col`` / ``col2im`` as differentiable ops, in the book's layout: a row per
output position, (N*OH*OW, C*KH*KW) with columns ordered (C, KH, KW). ``conv2d`` itself packs
its columns differently (see ``conv.py``) on the same ``Windows``.
"""
from ..core import Function, get_array_module
from .conv import Windows, check_image, pair

__all__ = ["im2col", "col2im"]


def _im2col_book(w, x):
    """The book's layout: (N*OH*OW, C*KH*KW), a row per output position."""
    view = w.view(w.pad(x)).transpose(0, 4, 5, 1, 2, 3)
    return view.reshape(w.N * w.OH * w.OW, w.CKK)


def _col2im_book(w, col):
    xp = get_array_module(col)
    buf = xp.zeros((w.N, w.C, w.Hp, w.Wp), dtype=col.dtype)
    w.col2im_add(col.reshape(w.N, w.OH, w.OW, w.C, w.KH, w.KW).transpose(0, 3, 4, 5, 1, 2), buf)
    return w.crop(buf)


class Im2col(Function):
    """(N, C, H, W) -> (N*OH*OW, C*KH*KW); backward is col2im."""

    def __init__(self, kernel, stride, padding):
        self.args = kernel, stride, padding

    def forward(self, x):
        check_image("im2col", x)
        self.w = Windows("im2col", x.shape, *self.args)
        return _im2col_book(self.w, x)

    def backward(self, gcol):
        return _col2im_book(self.w, gcol)


class Col2im(Function):
    """(N*OH*OW, C*KH*KW) -> (N, C, H, W), adding overlapping windows; backward is im2col."""

    def __init__(self, x_shape, kernel, stride, padding):
        self.w = Windows("col2im", x_shape, kernel, stride, padding)

    def forward(self, col):
        w = self.w
        if col.shape != (w.N * w.OH * w.OW, w.CKK):
            raise ValueError(
                f"col2im: expected columns of shape {(w.N * w.OH * w.OW, w.CKK)} for an image of "
                f"shape {(w.N, w.C, w.H, w.W)}, got {tuple(col.shape)}"
            )
        return _col2im_book(w, col)

    def backward(self, gy):
        return _im2col_book(self.w, gy)


def im2col(x, KH, KW, stride=1, padding=0):
    """Every KH x KW window of x (N, C, H, W) as a row: (N*OH*OW, C*KH*KW), columns ordered (C, KH, KW)."""
    kernel = pair((KH, KW), "kernel size", "im2col", 1)
    return Im2col(kernel, pair(stride, "stride", "im2col", 1), pair(padding, "padding", "im2col", 0))(x)


def col2im(col, x_shape, KH, KW, stride=1, padding=0):
    """The adjoint of ``im2col``: add each row's window back into an image of ``x_shape``."""
    if len(x_shape) != 4:
        raise ValueError(f"col2im: x_shape must be (N, C, H, W), got {tuple(x_shape)}")
    kernel = pair((KH, KW), "kernel size", "col2im", 1)
    stride, padding = pair(stride, "stride", "col2im", 1), pair(padding, "padding", "col2im", 0)
    return Col2im(tuple(x_shape), kernel, stride, padding)(col)
