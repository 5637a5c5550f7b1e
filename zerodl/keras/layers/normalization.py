"""BatchNormalization (over the last axis, for 2-D, 3-D (N, T, F) and 4-D (N, H, W, C) input)
and LayerNormalization, with Keras's weights (gamma, beta, moving_mean, moving_variance) and
defaults (momentum 0.99 = weight of the OLD statistics, epsilon 1e-3)."""
from ... import functions as F
from .base import Layer

__all__ = ["BatchNormalization", "LayerNormalization"]


class BatchNormalization(Layer):
    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        if axis not in (-1,):
            raise ValueError(f"BatchNormalization {self.name}: only axis=-1 (channels-last) is supported")
        self.axis, self.momentum, self.epsilon = axis, float(momentum), float(epsilon)
        self.center, self.scale = center, scale

    def build(self, input_shape):
        c = input_shape[-1]
        self.add_weight("gamma", (c,), "ones", trainable=self.scale)
        self.add_weight("beta", (c,), "zeros", trainable=self.center)
        self.add_weight("moving_mean", (c,), "zeros", trainable=False)
        self.add_weight("moving_variance", (c,), "ones", trainable=False)

    def call(self, x, training=None):
        train = bool(self.training if training is None else training) and self.trainable
        shape = x.shape
        x2 = x.reshape(-1, shape[-1]) if x.ndim != 2 else x  # every position is a sample of the channel
        # zerodl's momentum (PyTorch's) weighs the NEW batch statistics: 1 - Keras's.
        y = F.batch_norm(x2, self.gamma, self.beta, self.moving_mean, self.moving_variance, training=train,
                         momentum=1.0 - self.momentum, eps=self.epsilon)
        return y.reshape(shape) if x.ndim != 2 else y


class LayerNormalization(Layer):
    """``(x - mean) / sqrt(var + epsilon) * gamma + beta`` over the last axis."""

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        if axis not in (-1,):
            raise ValueError(f"LayerNormalization {self.name}: only axis=-1 is supported")
        self.axis, self.epsilon, self.center, self.scale = axis, float(epsilon), center, scale

    def build(self, input_shape):
        self.add_weight("gamma", (input_shape[-1],), "ones", trainable=self.scale)
        self.add_weight("beta", (input_shape[-1],), "zeros", trainable=self.center)

    def call(self, x):
        return F.layer_norm(x, (x.shape[-1],), self.gamma, self.beta, eps=self.epsilon)
