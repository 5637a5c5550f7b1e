"""Pooling layers (NCHW), over ``F.max_pool2d`` / ``F.avg_pool2d``. No parameters."""
from .. import functions as F
from .conv import _hyper, _pair
from ._checks import as_input, shape_str
from .module import Module

__all__ = ["MaxPool2d", "AvgPool2d"]


class _Pool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        name = type(self).__name__
        k = _pair(kernel_size, "kernel_size", name)
        s = k if stride is None else _pair(stride, "stride", name)
        p = _pair(padding, "padding", name)
        if min(k) <= 0 or min(s) <= 0 or min(p) < 0:
            raise ValueError(f"{name}: kernel_size and stride must be positive, padding non-negative")
        self.kernel_size, self.stride, self.padding = _hyper(k), _hyper(s), _hyper(p)

    def _check(self, x):
        x = as_input(x)
        if x.ndim != 4:
            raise ValueError(
                f"{type(self).__name__}(kernel_size={self.kernel_size}): expected input of shape "
                f"(N, C, H, W), got shape {shape_str(x.shape)}"
            )
        return x

    def get_config(self):
        if type(self).__init__ is not _Pool2d.__init__:  # a subclass with its own arguments
            return super().get_config()

        def j(v):
            return list(v) if isinstance(v, tuple) else v

        return {"kernel_size": j(self.kernel_size), "stride": j(self.stride), "padding": j(self.padding)}

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """Max over each ``kernel_size`` window; ``stride`` defaults to ``kernel_size``.

    Shapes: input (N, C, H, W); output (N, C, OH, OW), ``OH = (H + 2*padding - KH) // stride + 1``.
    """

    def forward(self, x):
        x = self._check(x)
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding)


class AvgPool2d(_Pool2d):
    """Mean over each ``kernel_size`` window; ``stride`` defaults to ``kernel_size``.

    Shapes: input (N, C, H, W); output (N, C, OH, OW), ``OH = (H + 2*padding - KH) // stride + 1``.
    """

    def forward(self, x):
        x = self._check(x)
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding)
