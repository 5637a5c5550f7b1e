"""tflearn.layers.normalization: batch_normalization (decay 0.9, epsilon 1e-5) and
local_response_normalization (TF's LRN: depth_radius 5, bias 1, alpha 1e-4, beta 0.75)."""
import numpy as np

from ... import functions as F
from ...keras import layers

__all__ = ["batch_normalization", "local_response_normalization", "LocalResponseNormalization"]


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
