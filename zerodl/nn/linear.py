"""Fully connected layer (the book's Affine) and Flatten."""
import math

import numpy as np

from .. import functions as F
from ..core.backend import get_array_module
from . import init
from ._checks import as_input, positive_int, shape_str
from .module import Module
from .parameter import Parameter

__all__ = ["Linear", "Flatten"]


class Linear(Module):
    """``y = x @ W + b`` (the book's Affine layer, fused in ``F.linear``).

    ``Linear(in_features, out_features, bias=True)``, or ``Linear(out_features)`` to infer
    ``in_features`` from the first input (parameters are created then: build the model, or run
    one batch, before making the optimizer).

    Parameters: ``W`` of shape (in_features, out_features) (the book's and Keras's layout, the
    transpose of PyTorch's ``weight``), He-normal initialised (``std = sqrt(2 / in_features)``,
    for ReLU networks); ``b`` of shape (out_features,), zeros (None with ``bias=False``).

    Shapes: input (N, in_features) or (N, ..., in_features); output (N, ..., out_features).
    """

    def __init__(self, in_features, out_features=None, bias=True):
        super().__init__()
        if out_features is None:
            in_features, out_features = None, in_features
        self.out_features = positive_int(out_features, "out_features", "Linear")
        self.in_features = None if in_features is None else positive_int(in_features, "in_features", "Linear")
        self.use_bias = bool(bias)
        self.register_parameter("W", None)
        self.register_parameter("b", None)
        if self.in_features is not None:
            self._build(self.in_features, np)

    def _build(self, in_features, xp):
        self.in_features = in_features
        W = init.he_normal_(np.empty((in_features, self.out_features), dtype=self._dtype))
        self.W = Parameter(xp.asarray(W), dtype=self._dtype)
        if self.use_bias:
            self.b = Parameter(xp.zeros(self.out_features, dtype=self._dtype), dtype=self._dtype)

    def _build_from_state(self, state, prefix):
        if self.W is None and prefix + "W" in state:
            self._build(int(np.shape(state[prefix + "W"])[0]), np)

    def _tag(self):
        return f"Linear({self.in_features if self.in_features is not None else '?'} -> {self.out_features})"

    def forward(self, x):
        W = self.W
        if W is None:
            x = as_input(x)
            if x.ndim == 0:
                raise ValueError(f"{self._tag()}: expected input of shape (N, in_features), got a scalar")
            self._build(int(x.shape[-1]), get_array_module(x))
            W = self.W
        shape = getattr(x, "shape", None)
        if shape is None:
            x = as_input(x)
            shape = x.shape
        if not shape or shape[-1] != W.shape[0]:
            raise ValueError(
                f"{self._tag()}: expected input with {W.shape[0]} features, got shape {shape_str(shape)}"
            )
        return F.linear(x, W, self.b)

    def get_config(self):
        if type(self).__init__ is not Linear.__init__:  # a subclass with its own arguments
            return super().get_config()
        return {"in_features": self.in_features, "out_features": self.out_features, "bias": self.use_bias}

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.use_bias}"


class Flatten(Module):
    """Flatten the axes ``start_dim..end_dim`` into one, as PyTorch's ``nn.Flatten``: by default
    every axis but the batch axis, input (N, d1, d2, ...) -> output (N, d1*d2*...)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)

    def forward(self, x):
        x = as_input(x)
        nd = x.ndim
        start = self.start_dim + nd if self.start_dim < 0 else self.start_dim
        end = self.end_dim + nd if self.end_dim < 0 else self.end_dim
        if not 0 <= start <= end < nd:
            raise ValueError(f"Flatten(start_dim={self.start_dim}, end_dim={self.end_dim}): "
                             f"out of range for input of shape {shape_str(x.shape)}")
        s = x.shape
        return F.reshape(x, s[:start] + (math.prod(s[start:end + 1]),) + s[end + 1:])
