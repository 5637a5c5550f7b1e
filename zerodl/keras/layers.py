"""Keras layer names, each expanding into zerodl ``nn`` layers.

A Keras layer here is a small recipe: ``expand(shape)`` returns the zerodl modules it stands
for and the output shape (channels-first inside; the model converts channels-last input once
at the front). ``Dense(10, activation="softmax")`` becomes ``Linear`` then ``Softmax``, so the
fit loop can fuse the softmax with the cross entropy as Keras does.
"""
import numpy as np

from .. import nn

ACTIVATIONS = {
    None: None, "linear": None, "relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh,
    "softmax": nn.Softmax, "leaky_relu": nn.LeakyReLU, "gelu": nn.GELU,
}


def _activation(name):
    if callable(name) and not isinstance(name, str):
        return [name]
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {[k for k in ACTIVATIONS if k]}")
    cls = ACTIVATIONS[name]
    return [cls()] if cls else []


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


class Layer:
    """Base recipe. ``input_shape`` is without the batch axis, channels-last for images."""

    spatial = False  # True for layers that take images (N, H, W, C) in Keras
    images_in = False  # set by Sequential.add: the input is still images (after Conv2D, before Flatten)

    def __init__(self, input_shape=None, name=None):
        self.input_shape = tuple(input_shape) if input_shape is not None else None
        self.name = name

    def expand(self, shape):
        """(modules, output shape) for an input of ``shape`` (channels-first, or None if unknown)."""
        raise NotImplementedError


class Dense(Layer):
    """Fully connected: (N, in) -> (N, units), then the activation."""

    def __init__(self, units, activation=None, input_shape=None, use_bias=True, name=None):
        super().__init__(input_shape, name)
        self.units, self.activation, self.use_bias = units, activation, use_bias

    def expand(self, shape):
        in_features = int(shape[-1]) if shape else None
        if in_features is None:
            linear = nn.Linear(self.units, bias=self.use_bias) if self.use_bias else nn.Linear(None, self.units, bias=False)
        else:
            linear = nn.Linear(in_features, self.units, bias=self.use_bias)
        out = (tuple(shape[:-1]) + (self.units,)) if shape else None
        return [linear] + _activation(self.activation), out


class Conv2D(Layer):
    """2-D convolution: ``filters`` kernels of ``kernel_size``; padding 'valid' or 'same'."""

    spatial = True

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", activation=None,
                 input_shape=None, use_bias=True, name=None):
        super().__init__(input_shape, name)
        self.filters, self.kernel_size = filters, _pair(kernel_size)
        self.strides, self.padding, self.activation = _pair(strides), padding, activation
        self.use_bias = use_bias
        if padding not in ("valid", "same"):
            raise ValueError(f"Conv2D: padding must be 'valid' or 'same', got {padding!r}")

    def expand(self, shape):
        kh, kw = self.kernel_size
        if self.padding == "same":
            if kh % 2 == 0 or kw % 2 == 0 or self.strides != (1, 1):
                raise ValueError("Conv2D: padding='same' is supported for odd kernels with stride 1")
            pad = (kh // 2, kw // 2)
        else:
            pad = (0, 0)
        c = shape[0] if shape else None
        conv = nn.Conv2d(c, self.filters, self.kernel_size, stride=self.strides, padding=pad)
        out = None
        if shape:
            h = (shape[1] + 2 * pad[0] - kh) // self.strides[0] + 1
            w = (shape[2] + 2 * pad[1] - kw) // self.strides[1] + 1
            out = (self.filters, h, w)
        return [conv] + _activation(self.activation), out


class MaxPooling2D(Layer):
    spatial = True

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", input_shape=None, name=None):
        super().__init__(input_shape, name)
        if padding != "valid":
            raise ValueError("MaxPooling2D: only padding='valid' is supported")
        self.pool_size = _pair(pool_size)
        self.strides = _pair(strides) if strides is not None else self.pool_size

    def expand(self, shape):
        out = None
        if shape:
            out = (shape[0],) + tuple((s - k) // st + 1 for s, k, st in zip(shape[1:], self.pool_size, self.strides))
        return [nn.MaxPool2d(self.pool_size, stride=self.strides)], out


class Flatten(Layer):
    def expand(self, shape):
        return [nn.Flatten()], ((int(np.prod(shape)),) if shape else None)


class Dropout(Layer):
    def __init__(self, rate, input_shape=None, name=None):
        super().__init__(input_shape, name)
        self.rate = rate

    def expand(self, shape):
        return [nn.Dropout(self.rate)], shape


class Activation(Layer):
    def __init__(self, activation, input_shape=None, name=None):
        super().__init__(input_shape, name)
        self.activation = activation

    def expand(self, shape):
        return _activation(self.activation), shape


class BatchNormalization(Layer):
    """Batch norm over the channel axis (after Dense: features; after Conv2D: channels)."""

    def __init__(self, momentum=0.99, epsilon=1e-3, input_shape=None, name=None):
        super().__init__(input_shape, name)
        self.momentum, self.epsilon = momentum, epsilon

    def expand(self, shape):
        # Unknown shape (no input_shape given): per channel while the data are still images
        # (``images_in``, set by Sequential.add), the size inferred at the first call.
        images = len(shape) == 3 if shape else self.images_in
        size = (shape[0] if images else shape[-1]) if shape else None
        cls = nn.BatchNorm2d if images else nn.BatchNorm1d
        # Keras's momentum is the weight of the old statistics; PyTorch's (ours) of the new.
        return [cls(size, momentum=1 - self.momentum, eps=self.epsilon)], shape


class LSTM(Layer):
    """(N, T, F) -> (N, units), or (N, T, units) with ``return_sequences=True``."""

    def __init__(self, units, return_sequences=False, input_shape=None, name=None):
        super().__init__(input_shape, name)
        self.units, self.return_sequences = units, return_sequences

    def expand(self, shape):
        in_size = shape[-1] if shape else None
        layer = nn.LSTM(in_size, self.units, return_sequences=self.return_sequences)
        out = None
        if shape:
            out = (shape[0], self.units) if self.return_sequences else (self.units,)
        return [layer], out
