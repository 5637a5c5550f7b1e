"""Convolution layers (NCHW), over ``F.conv2d`` / ``F.conv_transpose2d`` (im2col + one GEMM)."""
import numpy as np

from .. import functions as F
from ..core.backend import get_array_module
from . import init
from ._checks import as_input, positive_int, shape_str
from .functional import pad
from .module import Module
from .parameter import Parameter

__all__ = ["Conv2d", "ConvTranspose2d"]


def _pair(value, what, layer):
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ValueError(f"{layer}: {what} must be an int or a pair, got {value!r}")
        a, b = value
    else:
        a = b = value
    for v in (a, b):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise ValueError(f"{layer}: {what} must be an int or a pair of ints, got {value!r}")
    return int(a), int(b)


def _hyper(value):
    """An int where both entries agree (the common case), else the pair."""
    return value[0] if value[0] == value[1] else value


def _same_padding(kernel_size, stride, layer):
    """PyTorch's padding="same" (stride 1): ``(symmetric (ph, pw), extra)``, ``extra`` the one more
    row / column an even kernel needs at the bottom / right, as ``F.pad`` amounts (or None)."""
    if stride != (1, 1):
        raise ValueError(f"{layer}: padding='same' needs stride 1 (as PyTorch), got stride {stride}")
    totals = [k - 1 for k in kernel_size]
    extra = (0, totals[1] % 2, 0, totals[0] % 2)
    return (totals[0] // 2, totals[1] // 2), (extra if any(extra) else None)


class _ConvNd(Module):
    _in_axis = 1  # the axis of W that holds C_in
    _string_padding = False  # whether padding="same"/"valid" is accepted

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        super().__init__()
        name = type(self).__name__
        self.in_channels = None if in_channels is None else positive_int(in_channels, "in_channels", name)
        self.out_channels = positive_int(out_channels, "out_channels", name)
        self.kernel_size = _pair(kernel_size, "kernel_size", name)
        if min(self.kernel_size) <= 0:
            raise ValueError(f"{name}: kernel_size must be positive, got {kernel_size!r}")
        st = _pair(stride, "stride", name)
        self._extra_pad = None
        if isinstance(padding, str) and self._string_padding:
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: padding must be an int, a pair, 'same' or 'valid', got {padding!r}")
            pd = (0, 0) if padding == "valid" else None
            if pd is None:
                pd, self._extra_pad = _same_padding(self.kernel_size, st, name)
        else:
            pd = _pair(padding, "padding", name)
        if min(st) <= 0 or min(pd) < 0:
            raise ValueError(f"{name}: stride must be positive and padding non-negative, got {stride!r}, {padding!r}")
        self.stride, self._pad = _hyper(st), _hyper(pd)
        self.padding = padding if isinstance(padding, str) else self._pad
        self.use_bias = bool(bias)
        self.register_parameter("W", None)
        self.register_parameter("b", None)
        if self.in_channels is not None:
            self._build(self.in_channels, np)

    def _weight_shape(self, in_channels):
        raise NotImplementedError

    def _init_weight(self, W):
        raise NotImplementedError

    def _build(self, in_channels, xp):
        self.in_channels = in_channels
        W = self._init_weight(np.empty(self._weight_shape(in_channels), dtype=self._dtype))
        self.W = Parameter(xp.asarray(W), dtype=self._dtype)
        if self.use_bias:
            self.b = Parameter(xp.zeros(self.out_channels, dtype=self._dtype), dtype=self._dtype)

    def _build_from_state(self, state, prefix):
        if self.W is None and prefix + "W" in state:
            shape = np.shape(state[prefix + "W"])
            self._build(int(shape[self._in_axis]), np)

    def _tag(self):
        c_in = self.in_channels if self.in_channels is not None else "?"
        return f"{type(self).__name__}({c_in} -> {self.out_channels}, kernel_size={self.kernel_size})"

    def _check(self, x):
        x = as_input(x)
        if x.ndim != 4:
            raise ValueError(
                f"{self._tag()}: expected input of shape (N, C, H, W), got shape {shape_str(x.shape)}"
            )
        if self.W is None:
            self._build(int(x.shape[1]), get_array_module(x))
        elif x.shape[1] != self.in_channels:
            raise ValueError(
                f"{self._tag()}: expected input with {self.in_channels} channels (N, {self.in_channels}, H, W), "
                f"got shape {shape_str(x.shape)}"
            )
        return x

    def get_config(self):
        if type(self).__init__ is not _ConvNd.__init__:  # a subclass with its own arguments
            return super().get_config()
        return {
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "kernel_size": list(self.kernel_size),
            "stride": list(self.stride) if isinstance(self.stride, tuple) else self.stride,
            "padding": list(self.padding) if isinstance(self.padding, tuple) else self.padding,
            "bias": self.use_bias,
        }

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != 0:
            s += f", padding={self.padding!r}"
        if not self.use_bias:
            s += ", bias=False"
        return s


class Conv2d(_ConvNd):
    """2-D convolution (cross-correlation, as every framework), NCHW.

    ``Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True)``;
    ``in_channels=None`` infers it from the first input. ``kernel_size``, ``stride`` and
    ``padding`` are ints or (h, w) pairs; ``padding="same"`` (stride 1) keeps H and W, an
    even kernel padding one more at the bottom / right as PyTorch, and ``"valid"`` is 0.

    Parameters: ``W`` of shape (C_out, C_in, KH, KW), He-normal initialised
    (``std = sqrt(2 / (C_in*KH*KW))``); ``b`` of shape (C_out,), zeros.

    Shapes: input (N, C_in, H, W); output (N, C_out, OH, OW) with
    ``OH = (H + 2*padding - KH) // stride + 1`` (likewise OW).
    """

    _string_padding = True

    def _weight_shape(self, in_channels):
        return (self.out_channels, in_channels) + self.kernel_size

    def _init_weight(self, W):
        return init.he_normal_(W)

    def forward(self, x):
        x = self._check(x)
        if self._extra_pad is not None:
            x = pad(x, self._extra_pad)
        return F.conv2d(x, self.W, self.b, stride=self.stride, padding=self._pad)


class ConvTranspose2d(_ConvNd):
    """Transposed 2-D convolution (the gradient of Conv2d with respect to its input), NCHW.

    ``ConvTranspose2d(in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True)``;
    ``in_channels=None`` infers it from the first input.

    Parameters: ``W`` of shape (C_in, C_out, KH, KW) (PyTorch's layout), He-normal initialised
    with ``std = sqrt(2 / (C_in*KH*KW))``; ``b`` of shape (C_out,), zeros.

    Shapes: input (N, C_in, H, W); output (N, C_out, OH, OW) with
    ``OH = (H - 1)*stride - 2*padding + KH`` (likewise OW).
    """

    _in_axis = 0

    def _weight_shape(self, in_channels):
        return (in_channels, self.out_channels) + self.kernel_size

    def _init_weight(self, W):
        # In the conv layout (dim 0 = "out") fan_out = C_in*KH*KW: the fan-in of this layer.
        return init.he_normal_(W, mode="fan_out")

    def forward(self, x):
        x = self._check(x)
        return F.conv_transpose2d(x, self.W, self.b, stride=self.stride, padding=self._pad)
