"""Activation layers: thin modules over ``zerodl.functions``. Input and output have the same shape."""
from .. import functions as F
from ..core import Tensor, as_tensor
from .module import Module

__all__ = ["ReLU", "Sigmoid", "Tanh", "LeakyReLU", "GELU", "Softmax", "LogSoftmax", "Identity"]


class ReLU(Module):
    """``max(x, 0)``. Shapes: any -> the same."""

    def forward(self, x):
        return F.relu(x)


class Sigmoid(Module):
    """``1 / (1 + exp(-x))``. Shapes: any -> the same."""

    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    """``tanh(x)``. Shapes: any -> the same."""

    def forward(self, x):
        return F.tanh(x)


class LeakyReLU(Module):
    """``x if x > 0 else negative_slope * x``. Shapes: any -> the same."""

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = float(negative_slope)

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class GELU(Module):
    """Gaussian error linear unit (``F.gelu``). Shapes: any -> the same."""

    def forward(self, x):
        return F.gelu(x)


def _dim(layer, dim, axis):
    """PyTorch's ``dim`` or NumPy's ``axis`` (the older name, still read from saved configs)."""
    if axis is not None and dim != -1 and axis != dim:
        raise TypeError(f"{layer}: got dim={dim!r} and axis={axis!r}; pass one of them")
    return int(dim if axis is None else axis)


class Softmax(Module):
    """Softmax along ``dim`` (default the last; ``axis=`` is the same). Shapes: any -> the same."""

    def __init__(self, dim=-1, axis=None):
        super().__init__()
        self.dim = _dim("Softmax", dim, axis)

    def forward(self, x):
        return F.softmax(x, axis=self.dim)

    def get_config(self):
        return {"dim": self.dim}

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """``log(softmax(x))`` along ``dim``, computed stably (``axis=`` is the same). Shapes: any -> the same."""

    def __init__(self, dim=-1, axis=None):
        super().__init__()
        self.dim = _dim("LogSoftmax", dim, axis)

    def forward(self, x):
        return F.log_softmax(x, axis=self.dim)

    def get_config(self):
        return {"dim": self.dim}

    def extra_repr(self):
        return f"dim={self.dim}"


class Identity(Module):
    """Returns its input unchanged (a placeholder layer). Shapes: any -> the same."""

    def forward(self, x):
        return x if isinstance(x, Tensor) else as_tensor(x)
