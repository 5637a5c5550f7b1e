"""tflearn.layers.core: input_data, fully_connected, dropout, activation, reshape, flatten.

``fully_connected``: activation 'linear', weights truncated_normal(stddev 0.02), zero bias;
input of more than 2 dims is flattened first, as tflearn does. ``dropout(incoming,
keep_prob)``: tflearn gives the probability to KEEP.
"""
from ... import keras
from ...keras import layers
from .. import initializations
from ._util import act, weight_regularizer

__all__ = ["input_data", "fully_connected", "dropout", "activation", "reshape", "flatten"]


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
    return layers.Dense(n_units, activation=act(activation), use_bias=bias,
                        kernel_initializer=initializations.get(weights_init, "truncated_normal"),
                        bias_initializer=initializations.get(bias_init, "zeros"),
                        kernel_regularizer=weight_regularizer(regularizer, weight_decay), trainable=trainable)(incoming)


def dropout(incoming, keep_prob, noise_shape=None, name="Dropout"):
    return layers.Dropout(1.0 - float(keep_prob))(incoming)


def activation(incoming, activation="linear", name="activation"):
    return layers.Activation(act(activation))(incoming)


def reshape(incoming, new_shape, name="Reshape"):
    return layers.Reshape(tuple(new_shape)[1:])(incoming)


def flatten(incoming, name="Flatten"):
    return layers.Flatten()(incoming)


