"""Resizing images: ``F.interpolate`` (nearest and bilinear), as PyTorch's ``align_corners=False``.

Resampling is separable and linear: along each spatial axis the output is a fixed matrix
times the input, so for (N, C, H, W) images::

    y[n, c] = A @ x[n, c] @ B.T          A: (OH, H), B: (OW, W)
    gx[n, c] = A.T @ gy[n, c] @ B         (the backward pass: the transposed maps)

Row ``o`` of an axis matrix (output index ``o``, input length ``n``, ``scale`` = output/input):

- ``nearest``: a single 1 at ``min(floor(o / scale), n - 1)``;
- ``bilinear`` (``align_corners=False``): source position ``s = max((o + 0.5) / scale - 0.5, 0)``,
  weight ``1 - (s - floor(s))`` at ``floor(s)`` and ``s - floor(s)`` at ``min(floor(s) + 1, n - 1)``;
  with ``align_corners=True``, ``s = o * (n - 1) / (out - 1)``.

Nearest upsampling by whole factors (the usual ``nn.Upsample(scale_factor=2)``) skips the
matrices: every pixel is repeated into an ``sh x sw`` block (a broadcast), and its gradient is
the sum over the block.
"""
import math

import numpy as np

from ..core import Function, get_array_module

__all__ = ["interpolate"]

_MODES = ("nearest", "bilinear")


def _axis_matrix(n_in, n_out, scale, mode, align_corners):
    """The (n_out, n_in) float64 NumPy matrix resampling one axis (see the module docstring)."""
    dst = np.arange(n_out)
    m = np.zeros((n_out, n_in))
    if mode == "nearest":
        m[dst, np.minimum(np.floor(dst / scale).astype(np.int64), n_in - 1)] = 1.0
        return m
    if align_corners:
        src = dst * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros(n_out)
    else:
        src = np.maximum((dst + 0.5) / scale - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    frac = src - i0
    np.add.at(m, (dst, i0), 1.0 - frac)
    np.add.at(m, (dst, i1), frac)
    return m


class Interpolate(Function):
    """Resize the trailing spatial axes of (N, C, L) or (N, C, H, W) by per-axis scales."""

    def __init__(self, out_sizes, scales, mode, align_corners):
        self.out_sizes, self.scales = out_sizes, scales
        self.mode, self.align_corners = mode, align_corners

    def forward(self, x):
        xp = get_array_module(x)
        self.in_shape = x.shape
        spatial = x.shape[2:]
        self.repeat = None
        if self.mode == "nearest" and all(o == n * s and float(s).is_integer()
                                          for o, n, s in zip(self.out_sizes, spatial, self.scales)):
            self.repeat = tuple(int(s) for s in self.scales)
            return self._repeat(xp, x)
        self.mats = [xp.asarray(_axis_matrix(n, o, s, self.mode, self.align_corners), dtype=x.dtype)
                     for n, o, s in zip(spatial, self.out_sizes, self.scales)]
        return self._apply(x, self.mats, transpose=False)

    def backward(self, gy):
        if self.repeat is not None:
            n, c = self.in_shape[:2]
            blocks = [d for pair in zip(self.in_shape[2:], self.repeat) for d in pair]
            axes = tuple(range(3, 3 + 2 * len(self.repeat), 2))
            return gy.reshape(n, c, *blocks).sum(axis=axes)
        return self._apply(gy, self.mats, transpose=True)

    def _repeat(self, xp, x):
        n, c = x.shape[:2]
        expanded, blocks = (n, c), [n, c]
        for size, r in zip(x.shape[2:], self.repeat):
            expanded += (size, 1)
            blocks += [size, r]
        return xp.broadcast_to(x.reshape(expanded), tuple(blocks)).reshape(
            (n, c) + tuple(s * r for s, r in zip(x.shape[2:], self.repeat)))

    @staticmethod
    def _apply(x, mats, transpose):
        """``x`` times each axis matrix along its axis (``M`` forward, ``M.T`` backward)."""
        last = mats[-1]
        n_lead = x.shape[:-1]
        # The last axis: one GEMM over every row of every image.
        y = (x.reshape(-1, x.shape[-1]) @ (last if transpose else last.T)).reshape(n_lead + (-1,))
        if len(mats) == 2:  # the H axis: a batched (OH, H) @ (H, OW) per image and channel
            y = (mats[0].T if transpose else mats[0]) @ y
        return y


def _scale_pair(value, nd, op):
    vals = tuple(value) if isinstance(value, (list, tuple)) else (value,) * nd
    if len(vals) != nd:
        raise ValueError(f"{op}: expected {nd} values for {nd} spatial axes, got {value!r}")
    return vals


def interpolate(x, scale_factor=None, mode="nearest", size=None, align_corners=None):
    """Resize images: ``x`` of shape (N, C, H, W) (or (N, C, L) for ``nearest``).

    ``scale_factor``: a number or one per spatial axis; the output size is
    ``floor(H * scale_factor)``. Or ``size``: the output size (an int or one per axis); then
    the scale is ``size / H``. ``mode``: ``"nearest"`` or ``"bilinear"``;
    ``align_corners`` (bilinear only): PyTorch's meaning, False by default.
    Returns (N, C, OH, OW). Differentiable with respect to ``x``.
    """
    op = "interpolate"
    if mode not in _MODES:
        raise ValueError(f"{op}: mode must be one of {_MODES}, got {mode!r}")
    shape = x.shape
    if len(shape) not in (3, 4) or (mode == "bilinear" and len(shape) != 4):
        want = "(N, C, H, W)" if mode == "bilinear" else "(N, C, L) or (N, C, H, W)"
        raise ValueError(f"{op}: mode {mode!r} expects input of shape {want}, got shape {tuple(shape)}")
    if align_corners is not None and mode == "nearest":
        raise ValueError(f"{op}: align_corners only applies to mode 'bilinear'")
    if (scale_factor is None) == (size is None):
        raise ValueError(f"{op}: give exactly one of scale_factor and size")
    spatial = tuple(shape[2:])
    nd = len(spatial)
    if size is not None:
        out = tuple(int(s) for s in _scale_pair(size, nd, op))
        if min(out) <= 0:
            raise ValueError(f"{op}: size must be positive, got {size!r}")
        scales = tuple(o / n for o, n in zip(out, spatial))
    else:
        scales = tuple(float(s) for s in _scale_pair(scale_factor, nd, op))
        if not all(s > 0 and math.isfinite(s) for s in scales):
            raise ValueError(f"{op}: scale_factor must be positive, got {scale_factor!r}")
        out = tuple(int(math.floor(n * s)) for n, s in zip(spatial, scales))
        if min(out) <= 0:
            raise ValueError(f"{op}: scale_factor {scale_factor!r} gives an empty output for input "
                             f"of shape {tuple(shape)}")
    return Interpolate(out, scales, mode, bool(align_corners))(x)
