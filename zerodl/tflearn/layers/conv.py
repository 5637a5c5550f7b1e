"""tflearn.layers.conv: conv_2d (padding 'same', weights uniform_scaling), max_pool_2d and
avg_pool_2d (strides = kernel_size, padding 'same')."""
from ...keras import layers
from .. import initializations
from ._util import act, weight_regularizer

__all__ = ["conv_2d", "max_pool_2d", "avg_pool_2d"]


def conv_2d(incoming, nb_filter, filter_size, strides=1, padding="same", activation="linear", bias=True,
            weights_init="uniform_scaling", bias_init="zeros", regularizer=None, weight_decay=0.001,
            trainable=True, restore=True, reuse=False, scope=None, name="Conv2D"):
    return layers.Conv2D(nb_filter, filter_size, strides=strides, padding=padding, activation=act(activation),
                         use_bias=bias, kernel_initializer=initializations.get(weights_init, "uniform_scaling"),
                         bias_initializer=initializations.get(bias_init, "zeros"),
                         kernel_regularizer=weight_regularizer(regularizer, weight_decay))(incoming)


def max_pool_2d(incoming, kernel_size, strides=None, padding="same", name="MaxPool2D"):
    return layers.MaxPooling2D(kernel_size, strides=strides, padding=padding)(incoming)


def avg_pool_2d(incoming, kernel_size, strides=None, padding="same", name="AvgPool2D"):
    return layers.AveragePooling2D(kernel_size, strides=strides, padding=padding)(incoming)


