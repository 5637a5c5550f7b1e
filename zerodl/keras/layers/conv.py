"""Image layers, channels-last (N, H, W, C) as Keras: Conv2D, Conv2DTranspose, MaxPooling2D,
AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, UpSampling2D.

The kernels are stored as Keras stores them (Conv2D (kh, kw, in, out), Conv2DTranspose (kh, kw,
out, in)) and handed to zerodl's NCHW ops through transposed views: an NHWC tensor transposed
to NCHW and back is the same memory, so a Conv2D -> MaxPooling2D chain copies nothing extra.
"""
import numpy as np

from ... import functions as F
from ...core import Tensor
from .. import regularizers
from .base import Layer, get_activation

__all__ = ["Conv2D", "Conv2DTranspose", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D",
           "GlobalMaxPooling2D", "UpSampling2D"]


def _pair(v, what, layer):
    if isinstance(v, (int, np.integer)):
        return (int(v), int(v))
    v = tuple(int(s) for s in v)
    if len(v) != 2:
        raise ValueError(f"{layer}: {what} must be an int or a pair, got {v!r}")
    return v


def _nchw(x):
    return x.transpose(0, 3, 1, 2)


def _nhwc(x):
    return x.transpose(0, 2, 3, 1)


def _same_total(size, k, s):
    """Keras's (TF's) 'same': output ceil(size / s); the total padding along one axis."""
    return max((-(-size // s) - 1) * s + k - size, 0)


def _pad_bottom_right(x, extra_h, extra_w, value=0.0):
    """NHWC ``x`` with ``extra_h`` rows below and ``extra_w`` columns on the right filled with
    ``value`` (TF puts the odd pixel of 'same' padding there)."""
    if extra_h:
        x = F.concat([x, np.full((x.shape[0], extra_h) + tuple(x.shape[2:]), value, dtype=x.dtype)], axis=1)
    if extra_w:
        x = F.concat([x, np.full(tuple(x.shape[:2]) + (extra_w, x.shape[3]), value, dtype=x.dtype)], axis=2)
    return x


def _same(x, kernel, strides, value=0.0):
    """(x padded at the bottom/right by the odd pixel, symmetric padding left for the op)."""
    totals = [_same_total(x.shape[1 + i], kernel[i], strides[i]) for i in (0, 1)]
    return _pad_bottom_right(x, totals[0] % 2, totals[1] % 2, value), (totals[0] // 2, totals[1] // 2)


def _check_image(x, layer):
    if x.ndim != 4:
        raise ValueError(f"{layer}: expected images (N, H, W, C) (channels-last, as Keras), got shape {tuple(x.shape)}")


class Conv2D(Layer):
    """2-D convolution, ``filters`` kernels of ``kernel_size``; padding 'valid' or 'same'."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, input_shape=None, name=None, **kwargs):
        super().__init__(name=name, input_shape=input_shape, **kwargs)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        where = f"{type(self).__name__} {self.name}"
        if padding not in ("valid", "same"):
            raise ValueError(f"{where}: padding must be 'valid' or 'same', got {padding!r}")
        if data_format not in (None, "channels_last"):
            raise ValueError(f"{where}: only data_format='channels_last' (Keras's default) is supported")
        if _pair(dilation_rate, "dilation_rate", where) != (1, 1):
            raise ValueError(f"{where}: dilation_rate other than 1 is not supported")
        self.filters, self.kernel_size = int(filters), _pair(kernel_size, "kernel_size", where)
        self.strides, self.padding, self.use_bias = _pair(strides, "strides", where), padding, use_bias
        self.activation, self._act = get_activation(activation, where)
        self._inits = (kernel_initializer, bias_initializer)

    def _kernel_shape(self, channels):
        return self.kernel_size + (channels, self.filters)

    def build(self, input_shape):
        _check_image(np.empty([1 if s is None else s for s in input_shape]), f"{type(self).__name__} {self.name}")
        self.add_weight("kernel", self._kernel_shape(input_shape[-1]), self._inits[0])
        if self.use_bias:
            self.add_weight("bias", (self.filters,), self._inits[1])

    def pre_activation(self, x):
        _check_image(x, f"{type(self).__name__} {self.name}")
        pads = (0, 0)
        if self.padding == "same":
            x, pads = _same(x, self.kernel_size, self.strides)
        W = self.kernel.transpose(3, 2, 0, 1)  # (kh, kw, in, out) -> (out, in, kh, kw)
        y = F.conv2d(_nchw(x), W, self.bias if self.use_bias else None, stride=self.strides, padding=pads)
        return _nhwc(y)

    def call(self, x):
        y = self.pre_activation(x)
        return self._act(y) if self._act is not None else y


class Conv2DTranspose(Conv2D):
    """Transposed convolution; kernel (kh, kw, filters, in) as Keras. 'same' gives H * stride."""

    def _kernel_shape(self, channels):
        return self.kernel_size + (self.filters, channels)

    def pre_activation(self, x):
        _check_image(x, f"{type(self).__name__} {self.name}")
        W = self.kernel.transpose(3, 2, 0, 1)  # (kh, kw, out, in) -> (in, out, kh, kw)
        pads = (0, 0)
        if self.padding == "same":
            pads = []
            for k, s in zip(self.kernel_size, self.strides):
                if (k - s) % 2 or k < s:
                    raise ValueError(f"Conv2DTranspose {self.name}: padding='same' needs kernel - stride even "
                                     f"and >= 0 here (kernel {k}, stride {s})")
                pads.append((k - s) // 2)
        y = F.conv_transpose2d(_nchw(x), W, self.bias if self.use_bias else None, stride=self.strides,
                               padding=tuple(pads))
        return _nhwc(y)


class _Pool(Layer):
    op = None

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        where = f"{type(self).__name__} {self.name}"
        if padding not in ("valid", "same"):
            raise ValueError(f"{where}: padding must be 'valid' or 'same', got {padding!r}")
        self.pool_size = _pair(pool_size, "pool_size", where)
        self.strides = _pair(strides, "strides", where) if strides is not None else self.pool_size
        self.padding = padding

    def call(self, x):
        _check_image(x, f"{type(self).__name__} {self.name}")
        if self.padding == "valid":
            return _nhwc(type(self).op(_nchw(x), self.pool_size, stride=self.strides))
        average = isinstance(self, AveragePooling2D)
        xp, pads = _same(x, self.pool_size, self.strides, 0.0 if average else -np.inf)
        y = type(self).op(_nchw(xp), self.pool_size, stride=self.strides, padding=pads)
        if average:  # TF's 'same' average leaves the padding out of the count (F.avg_pool2d counts it)
            ones, _ = _same(Tensor._wrap(np.ones((1,) + tuple(x.shape[1:3]) + (1,), dtype=x.dtype)), self.pool_size,
                            self.strides)
            y = y / F.avg_pool2d(_nchw(ones).data, self.pool_size, stride=self.strides, padding=pads).data
        return _nhwc(y)


class MaxPooling2D(_Pool):
    op = staticmethod(F.max_pool2d)


class AveragePooling2D(_Pool):
    op = staticmethod(F.avg_pool2d)


class GlobalAveragePooling2D(Layer):
    def __init__(self, data_format=None, keepdims=False, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.keepdims = keepdims

    def call(self, x):
        _check_image(x, f"GlobalAveragePooling2D {self.name}")
        return x.mean(axis=(1, 2), keepdims=self.keepdims)


class GlobalMaxPooling2D(GlobalAveragePooling2D):
    def call(self, x):
        _check_image(x, f"GlobalMaxPooling2D {self.name}")
        return x.max(axis=(1, 2), keepdims=self.keepdims)


class UpSampling2D(Layer):
    """Upsampling by ``size`` (``F.interpolate``): 'nearest' repeats each pixel size[0] x size[1]
    times; 'bilinear' interpolates with half-pixel centres (Keras's and PyTorch's default)."""

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(f"UpSampling2D {self.name}: interpolation must be 'nearest' or 'bilinear', "
                             f"got {interpolation!r}")
        self.size, self.interpolation = _pair(size, "size", "UpSampling2D"), interpolation

    def call(self, x):
        _check_image(x, f"UpSampling2D {self.name}")
        return _nhwc(F.interpolate(_nchw(x), scale_factor=self.size, mode=self.interpolation))
