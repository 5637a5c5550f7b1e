"""Core Keras layers: InputLayer / Input, Dense, Activation, Dropout, Flatten, Reshape, Rescaling,
Embedding, and the merges Add, Multiply, Concatenate. Channels-last, weights as Keras lays them."""
import numpy as np

from ... import functions as F
from ...core import Tensor
from .. import regularizers
from .base import KerasTensor, Layer, Node, get_activation, unique_name

__all__ = ["InputLayer", "Input", "Dense", "Activation", "Dropout", "Flatten", "Reshape", "Rescaling",
           "Embedding", "Add", "Multiply", "Concatenate", "Softmax", "ReLU", "Identity"]


class InputLayer(Layer):
    """The layer behind ``keras.Input``: no weights; its output is the model's input."""

    def __init__(self, shape=None, batch_size=None, dtype=None, name=None, input_shape=None, **kwargs):
        super().__init__(name=name or unique_name("input_layer"), **kwargs)
        shape = shape if shape is not None else input_shape
        if shape is None:
            raise ValueError("InputLayer: give shape=(...) (without the batch axis)")
        self.shape = (batch_size,) + tuple(shape)
        self.input_dtype = str(np.dtype(dtype)) if dtype is not None else "float32"
        self.built = True
        self.output = KerasTensor(self.shape, self.input_dtype, name=self.name)
        self.output.node = Node(self, [], [self.output], False)
        self._inbound_nodes.append(self.output.node)
        self._out_shape = self.shape

    def call(self, inputs):
        return inputs


def Input(shape=None, batch_size=None, dtype=None, name=None, batch_shape=None):  # noqa: N802 - Keras's name
    """A symbolic input ``KerasTensor`` of ``(batch_size,) + shape`` for the functional API."""
    if batch_shape is not None:
        batch_size, shape = batch_shape[0], tuple(batch_shape[1:])
    if shape is None:
        raise ValueError("keras.Input: shape is required, e.g. keras.Input(shape=(784,))")
    if isinstance(shape, int):
        shape = (shape,)
    return InputLayer(shape=tuple(shape), batch_size=batch_size, dtype=dtype, name=name).output


class Dense(Layer):
    """``activation(inputs @ kernel + bias)``; kernel (in, units), over the last axis (any rank)."""

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, input_shape=None, name=None, **kwargs):
        super().__init__(name=name, input_shape=input_shape, **kwargs)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        if not isinstance(units, (int, np.integer)) or units < 1:
            raise ValueError(f"Dense: units must be a positive int, got {units!r}")
        self.units, self.use_bias = int(units), use_bias
        self.activation, self._act = get_activation(activation, f"Dense {self.name}")
        self._inits = (kernel_initializer, bias_initializer)

    def build(self, input_shape):
        self.add_weight("kernel", (input_shape[-1], self.units), self._inits[0])
        if self.use_bias:
            self.add_weight("bias", (self.units,), self._inits[1])

    def pre_activation(self, x):
        if x.shape[-1] != self.kernel.shape[0]:
            raise ValueError(f"Dense {self.name}: expected input with {self.kernel.shape[0]} features on the last "
                             f"axis, got shape {tuple(x.shape)}")
        return F.linear(x, self.kernel, self.bias if self.use_bias else None)

    def call(self, x):
        y = self.pre_activation(x)
        return self._act(y) if self._act is not None else y


class Activation(Layer):
    def __init__(self, activation, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.activation, self._act = get_activation(activation, f"Activation {self.name}")

    def pre_activation(self, x):
        return x

    def call(self, x):
        return self._act(x) if self._act is not None else x


class Softmax(Layer):
    def __init__(self, axis=-1, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.axis = axis
        self.activation = "softmax" if axis in (-1,) else "softmax_axis"

    def pre_activation(self, x):
        return x

    def call(self, x):
        return F.softmax(x, axis=self.axis)


class ReLU(Layer):
    def call(self, x):
        return F.relu(x)


class Identity(Layer):
    def call(self, x):
        return x


class Dropout(Layer):
    """Inverted dropout of ``rate`` in training; the identity at inference."""

    def __init__(self, rate, noise_shape=None, seed=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        if not 0 <= rate < 1:
            raise ValueError(f"Dropout: rate must be in [0, 1), got {rate!r}")
        self.rate = float(rate)

    def call(self, x, training=None):
        train = self.training if training is None else training
        return F.dropout(x, p=self.rate, training=bool(train)) if self.rate and train else x


class Flatten(Layer):
    """(N, d1, d2, ...) -> (N, d1*d2*...), in channels-last order as Keras."""

    def call(self, x):
        return x.reshape(x.shape[0], -1)


class Reshape(Layer):
    def __init__(self, target_shape, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.target_shape = tuple(int(s) for s in target_shape)

    def call(self, x):
        n = int(np.prod(x.shape[1:]))
        known = int(np.prod([s for s in self.target_shape if s != -1]))
        if (-1 not in self.target_shape and known != n) or (-1 in self.target_shape and n % max(known, 1)):
            raise ValueError(f"Reshape {self.name}: cannot reshape input of shape {tuple(x.shape)} "
                             f"to (batch,) + {self.target_shape}")
        return x.reshape((x.shape[0],) + self.target_shape)


class Rescaling(Layer):
    """``inputs * scale + offset`` (e.g. ``Rescaling(1./255)``)."""

    def __init__(self, scale, offset=0.0, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.scale, self.offset = float(scale), float(offset)

    def call(self, x):
        y = x * self.scale
        return y + self.offset if self.offset else y


class Embedding(Layer):
    """Integer ids (N, ...) -> (N, ..., output_dim); ``embeddings`` (input_dim, output_dim),
    initialised uniform(-0.05, 0.05) as Keras."""

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", mask_zero=False,
                 input_length=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self._init = embeddings_initializer

    def build(self, input_shape):
        self.add_weight("embeddings", (self.input_dim, self.output_dim), self._init)

    def call(self, ids):
        arr = ids.data if isinstance(ids, Tensor) else np.asarray(ids)
        ids = arr.astype(np.int64) if not np.issubdtype(arr.dtype, np.integer) else arr
        return F.embedding(ids, self.embeddings)


class _Merge(Layer):
    def _check(self, xs):
        if not isinstance(xs, (list, tuple)) or len(xs) < 2:
            raise ValueError(f"{type(self).__name__} {self.name}: expects a list of at least 2 inputs")
        return xs


class Add(_Merge):
    def call(self, xs):
        xs = self._check(xs)
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Multiply(_Merge):
    def call(self, xs):
        xs = self._check(xs)
        out = xs[0]
        for x in xs[1:]:
            out = out * x
        return out


class Concatenate(_Merge):
    def __init__(self, axis=-1, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.axis = axis

    def call(self, xs):
        return F.concat(list(self._check(xs)), axis=self.axis)
