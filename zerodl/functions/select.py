"""Element-wise selection: ``clip`` (the gradient passes inside the bounds) and ``where``."""
from ..core import Function, Tensor, as_tensor, get_array_module
from ._util import sum_to as _sum_to_raw

__all__ = ["clip", "where"]


class Clip(Function):
    """``clip(x, lo, hi)``; the gradient passes where ``lo <= x <= hi``. Bounds may be None."""

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def forward(self, x):
        self.x = x
        xp = get_array_module(x)
        if x.dtype.kind == "f":  # bounds in x's dtype: a NumPy float64 bound must not upcast float32
            self.lo, self.hi = (None if b is None else xp.asarray(b, dtype=x.dtype) for b in (self.lo, self.hi))
        return xp.clip(x, self.lo, self.hi)

    def backward(self, gy):
        x = self.x
        mask = True
        if self.lo is not None:
            mask = x >= self.lo
        if self.hi is not None:
            mask = mask & (x <= self.hi)
        return gy * mask


class Where(Function):
    """``where(cond, x, y)``: cond is a plain boolean array (not differentiable)."""

    def __init__(self, cond):
        self.cond = cond

    def forward(self, x, y):
        self.shapes = (x.shape, y.shape)
        xp = get_array_module(x)
        self.cond = xp.asarray(self.cond)
        try:
            return xp.where(self.cond, x, y)
        except ValueError:
            raise ValueError(
                f"where: cond {tuple(self.cond.shape)}, x {tuple(x.shape)} and y {tuple(y.shape)} "
                "cannot be broadcast together"
            ) from None

    def backward(self, gy):
        zero = gy.dtype.type(0)
        gx = _sum_to_raw(get_array_module(gy).where(self.cond, gy, zero), self.shapes[0]) if self.needs_grad(0) else None
        gyy = _sum_to_raw(get_array_module(gy).where(self.cond, zero, gy), self.shapes[1]) if self.needs_grad(1) else None
        return gx, gyy


def clip(x, lo, hi):
    """Limit ``x`` to ``[lo, hi]`` (either may be None); any shape -> the same shape."""
    lo, hi = (b.data if isinstance(b, Tensor) else b for b in (lo, hi))
    return Clip(lo, hi)(x)


def where(cond, x, y):
    cond = cond.data if isinstance(cond, Tensor) else cond
    like = x if isinstance(x, Tensor) else y if isinstance(y, Tensor) else None
    return Where(cond)(as_tensor(x, like), as_tensor(y, like))
