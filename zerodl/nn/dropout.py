"""Dropout layer (inverted dropout, as PyTorch and Keras)."""
from .. import functions as F
from ..core import Tensor, as_tensor
from .module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    """Zero each element with probability ``p`` in training and scale the rest by ``1/(1-p)``.

    In evaluation mode (``model.eval()``) it is the identity. Draws come from
    ``zerodl.core.get_rng()`` (``zd.manual_seed`` makes them reproducible).

    Shapes: any -> the same.
    """

    def __init__(self, p=0.5):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1), got {p!r}")
        self.p = float(p)

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x if isinstance(x, Tensor) else as_tensor(x)
        return F.dropout(x, p=self.p, training=True)

    def extra_repr(self):
        return f"p={self.p}"
