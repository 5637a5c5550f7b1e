"""tflearn's layer functions, each adding a ``zerodl.keras`` layer to the graph (``incoming`` is
the symbolic tensor from ``input_data`` or the previous layer), with tflearn's defaults:

- ``fully_connected``: activation 'linear', weights truncated_normal(stddev 0.02), zero bias;
  input of more than 2 dims is flattened first, as tflearn does.
- ``conv_2d``: padding 'same', weights uniform_scaling (U(+-sqrt(3 / fan_in))); ``max_pool_2d``:
  strides = kernel_size, padding 'same'.
- ``lstm`` / ``gru``: activation tanh, inner_activation sigmoid, glorot_uniform weights (TF's
  default for tflearn's cells), zero bias, LSTM forget bias 1.0; ``simple_rnn``: sigmoid.
  ``dropout`` (tflearn's keep probabilities) applies to the inputs.
- ``dropout(incoming, keep_prob)``: tflearn gives the probability to KEEP.
- ``regularizer='L2'`` with ``weight_decay`` adds ``weight_decay * sum(W**2) / 2`` (tf.nn.l2_loss).
"""
import math

import numpy as np

from .. import functions as F
from .. import keras
from ..core.random import get_rng
from ..keras import initializers, layers

__all__ = ["input_data", "fully_connected", "dropout", "lstm", "gru", "simple_rnn", "conv_2d", "max_pool_2d",
           "avg_pool_2d", "flatten", "embedding", "batch_normalization", "local_response_normalization",
           "activation", "reshape"]


class TruncatedNormal(initializers.Initializer):
    name = "truncated_normal"

    def __init__(self, stddev=0.02):
        self.stddev = stddev

    def draw(self, shape):
        out = get_rng().normal(0.0, self.stddev, shape)
        bad = np.abs(out) > 2 * self.stddev
        while bad.any():
            out[bad] = get_rng().normal(0.0, self.stddev, int(bad.sum()))
            bad = np.abs(out) > 2 * self.stddev
        return out


class UniformScaling(initializers.Initializer):
    name = "uniform_scaling"

    def __init__(self, factor=1.0):
        self.factor = factor

    def draw(self, shape):
        fan_in = int(np.prod(shape[:-1]))
        limit = math.sqrt(3.0 / fan_in) * self.factor
        return get_rng().uniform(-limit, limit, shape)


_INITS = {"truncated_normal": TruncatedNormal, "uniform_scaling": UniformScaling, "zeros": initializers.Zeros,
          "normal": lambda: initializers.RandomNormal(stddev=0.02), "xavier": initializers.GlorotUniform,
          "uniform": initializers.RandomUniform}


def _init(spec, default):
    spec = default if spec is None else spec
    if isinstance(spec, str) and spec in _INITS:
        return _INITS[spec]()
    return initializers.get(spec)


def _act(name):
    return None if name in (None, "linear") else name


def _regularizer(reg, weight_decay):
    if reg is None:
        return None
    if str(reg).upper() == "L2":
        return keras.regularizers.L2(weight_decay / 2.0)
    if str(reg).upper() == "L1":
        return keras.regularizers.L1(weight_decay)
    raise ValueError(f"tflearn: unknown regularizer {reg!r}; choose 'L2' or 'L1'")


def input_data(shape=None, placeholder=None, dtype=None, data_preprocessing=None, data_augmentation=None,
               name="InputData"):
    """A symbolic input of ``shape`` ([None, ...], the batch first as in tflearn)."""
    if shape is None:
        raise ValueError("tflearn.input_data: give shape=[None, ...]")
    shape = list(shape)
    if shape[0] is not None:
        shape = [None] + shape
    return keras.Input(shape=tuple(shape[1:]), name=name if name != "InputData" else None)


def fully_connected(incoming, n_units, activation="linear", bias=True, weights_init="truncated_normal",
                    bias_init="zeros", regularizer=None, weight_decay=0.001, trainable=True, restore=True,
                    reuse=False, scope=None, name="FullyConnected"):
    if len(incoming.shape) > 2:
        incoming = layers.Flatten()(incoming)
    return layers.Dense(n_units, activation=_act(activation), use_bias=bias,
                        kernel_initializer=_init(weights_init, "truncated_normal"), bias_initializer=_init(bias_init, "zeros"),
                        kernel_regularizer=_regularizer(regularizer, weight_decay), trainable=trainable)(incoming)


def dropout(incoming, keep_prob, noise_shape=None, name="Dropout"):
    return layers.Dropout(1.0 - float(keep_prob))(incoming)


def activation(incoming, activation="linear", name="activation"):
    return layers.Activation(_act(activation))(incoming)


def reshape(incoming, new_shape, name="Reshape"):
    return layers.Reshape(tuple(new_shape)[1:])(incoming)


def _rnn(cls, incoming, n_units, activation, inner_activation, dropout, bias, weights_init, return_seq, **extra):
    keep = dropout if isinstance(dropout, (tuple, list)) else (dropout, None)
    rate = 0.0 if keep[0] is None else 1.0 - float(keep[0])
    kwargs = {"recurrent_activation": inner_activation} if inner_activation is not None else {}
    layer = cls(n_units, activation=activation, use_bias=bias, dropout=rate, return_sequences=return_seq,
                kernel_initializer=_init(weights_init, "xavier"), recurrent_initializer=_init(weights_init, "xavier"),
                **kwargs, **extra)
    out = layer(incoming)
    if keep[1] is not None:  # tflearn's output keep probability
        out = layers.Dropout(1.0 - float(keep[1]))(out)
    return out


def lstm(incoming, n_units, activation="tanh", inner_activation="sigmoid", dropout=None, bias=True,
         weights_init=None, forget_bias=1.0, return_seq=False, return_state=False, initial_state=None,
         dynamic=False, trainable=True, restore=True, reuse=False, scope=None, name="LSTM"):
    out = _rnn(layers.LSTM, incoming, n_units, activation, inner_activation, dropout, bias, weights_init,
               return_seq, unit_forget_bias=False)
    layer = out.node.layer if isinstance(out.node.layer, layers.LSTM) else out.node.inputs[0].node.layer
    if bias:
        layer.bias.data[n_units:2 * n_units] = float(forget_bias)  # tflearn adds forget_bias to the f gate
    return out


def gru(incoming, n_units, activation="tanh", inner_activation="sigmoid", dropout=None, bias=True,
        weights_init=None, return_seq=False, return_state=False, initial_state=None, dynamic=False,
        trainable=True, restore=True, reuse=False, scope=None, name="GRU"):
    return _rnn(layers.GRU, incoming, n_units, activation, inner_activation, dropout, bias, weights_init, return_seq)


def simple_rnn(incoming, n_units, activation="sigmoid", dropout=None, bias=True, weights_init=None,
               return_seq=False, return_state=False, initial_state=None, dynamic=False, trainable=True,
               restore=True, reuse=False, scope=None, name="SimpleRNN"):
    return _rnn(layers.SimpleRNN, incoming, n_units, activation, None, dropout, bias, weights_init, return_seq)


def conv_2d(incoming, nb_filter, filter_size, strides=1, padding="same", activation="linear", bias=True,
            weights_init="uniform_scaling", bias_init="zeros", regularizer=None, weight_decay=0.001,
            trainable=True, restore=True, reuse=False, scope=None, name="Conv2D"):
    return layers.Conv2D(nb_filter, filter_size, strides=strides, padding=padding, activation=_act(activation),
                         use_bias=bias, kernel_initializer=_init(weights_init, "uniform_scaling"),
                         bias_initializer=_init(bias_init, "zeros"),
                         kernel_regularizer=_regularizer(regularizer, weight_decay))(incoming)


def max_pool_2d(incoming, kernel_size, strides=None, padding="same", name="MaxPool2D"):
    return layers.MaxPooling2D(kernel_size, strides=strides, padding=padding)(incoming)


def avg_pool_2d(incoming, kernel_size, strides=None, padding="same", name="AvgPool2D"):
    return layers.AveragePooling2D(kernel_size, strides=strides, padding=padding)(incoming)


def flatten(incoming, name="Flatten"):
    return layers.Flatten()(incoming)


def embedding(incoming, input_dim, output_dim, validate_indices=False, weights_init="truncated_normal",
              trainable=True, restore=True, reuse=False, scope=None, name="Embedding"):
    return layers.Embedding(input_dim, output_dim, embeddings_initializer=_init(weights_init, "truncated_normal"))(
        incoming)


def batch_normalization(incoming, beta=0.0, gamma=1.0, epsilon=1e-5, decay=0.9, stddev=0.002, trainable=True,
                        restore=True, reuse=False, scope=None, name="BatchNormalization"):
    out = layers.BatchNormalization(momentum=decay, epsilon=epsilon)(incoming)
    layer = out.node.layer
    layer.gamma.data[...] = gamma
    layer.beta.data[...] = beta
    return out


class LocalResponseNormalization(layers.Layer):
    """``x / (bias + alpha * sum of x**2 over 2r+1 neighbouring channels) ** beta`` (TF's LRN)."""

    def __init__(self, depth_radius=5, bias=1.0, alpha=0.0001, beta=0.75, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.depth_radius, self.lrn_bias, self.alpha, self.beta = int(depth_radius), bias, alpha, beta

    def call(self, x):
        r, C = self.depth_radius, x.shape[-1]
        sq = x * x
        zeros = np.zeros(x.shape[:-1] + (r,), dtype=sq.dtype)
        padded = F.concat([zeros, sq, zeros], axis=-1)
        total = padded[..., 0:C]
        for k in range(1, 2 * r + 1):
            total = total + padded[..., k:k + C]
        return x * (total * self.alpha + self.lrn_bias) ** (-self.beta)


def local_response_normalization(incoming, depth_radius=5, bias=1.0, alpha=0.0001, beta=0.75,
                                 name="LocalResponseNormalization"):
    return LocalResponseNormalization(depth_radius, bias, alpha, beta)(incoming)
