"""Index-valued and index-driven ops with PyTorch's names: argmax, argmin, gather, and the
``(values, indices)`` form of max/min along a dim."""
from collections import namedtuple

from ..core import Function, Tensor, get_array_module

__all__ = ["argmax", "argmin", "gather"]

# ``torch.return_types.max``: a tuple that unpacks as ``values, indices`` and names both.
MaxMin = namedtuple("MaxMin", "values indices")


def _raw(x):
    return x.data if isinstance(x, Tensor) else get_array_module(x).asarray(x)


def _check_dim(op, a, dim):
    if dim is None:
        return
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise TypeError(f"{op}: dim must be an int or None, got {dim!r}")
    if not -max(a.ndim, 1) <= dim < max(a.ndim, 1):
        raise ValueError(f"{op}: dim {dim} is out of range for a tensor of shape {tuple(a.shape)}")


def _arg(op, x, dim, keepdim):
    a = _raw(x)
    _check_dim(op, a, dim)
    if a.size == 0:
        raise ValueError(f"{op}: the tensor of shape {tuple(a.shape)} is empty")
    xp = get_array_module(a)
    i = getattr(xp, op)(a, axis=dim)
    if keepdim:
        i = xp.expand_dims(i, dim) if dim is not None else i.reshape((1,) * a.ndim)
    return Tensor._wrap(xp.asarray(i, dtype=xp.int64))


def argmax(x, dim=None, keepdim=False):
    """Index of the maximum over ``dim`` (None: of the flattened tensor), int64, as ``torch.argmax``;
    the first one among ties. Not differentiable."""
    return _arg("argmax", x, dim, keepdim)


def argmin(x, dim=None, keepdim=False):
    """Index of the minimum over ``dim`` (None: of the flattened tensor), int64, as ``torch.argmin``."""
    return _arg("argmin", x, dim, keepdim)


class Gather(Function):
    """``torch.gather(x, dim, index)``: ``out[i][j] = x[i][index[i][j]]`` for dim 1 (any ndim).

    Backward scatters ``gy`` back into the positions picked, adding where an index repeats."""

    def __init__(self, dim, index):
        self.dim, self.index = dim, index

    def forward(self, x):
        xp = get_array_module(x)
        idx = self.index
        if idx.ndim != x.ndim:
            raise ValueError(f"gather: index of shape {tuple(idx.shape)} needs as many dims as the input {tuple(x.shape)}")
        if idx.size and (int(idx.min()) < -x.shape[self.dim] or int(idx.max()) >= x.shape[self.dim]):
            raise IndexError(f"gather: an index is out of range for dim {self.dim} of size {x.shape[self.dim]}")
        self.in_shape = x.shape
        try:
            return xp.take_along_axis(x, idx, axis=self.dim)
        except (ValueError, IndexError):
            raise ValueError(f"gather: index of shape {tuple(idx.shape)} does not fit the input {tuple(x.shape)} "
                             f"outside dim {self.dim}") from None

    def backward(self, gy):
        xp = get_array_module(gy)
        gx = xp.zeros(self.in_shape, dtype=gy.dtype)
        idx = self.index
        # the open mesh of every axis, with the gathered axis replaced by the index: add.at sums repeats
        mesh = list(xp.ix_(*[xp.arange(s) for s in idx.shape]))
        mesh[self.dim] = idx
        xp.add.at(gx, tuple(mesh), gy)
        return gx


def gather(x, dim, index):
    """``torch.gather``: pick along ``dim`` with an int ``index`` of x's ndim. Differentiable in x."""
    a = x.data if isinstance(x, Tensor) else x
    ndim = a.ndim
    _check_dim("gather", a, dim)
    index = _raw(index)
    if index.dtype.kind not in "iu":
        raise TypeError(f"gather: index must hold integers, got dtype {index.dtype}")
    return Gather(dim % ndim, index)(x)


def extreme_with_indices(op, x, dim, keepdim):
    """``(values, indices)`` of the max/min along ``dim``, as ``torch.max(x, dim=)``; the gradient
    of the values goes to the index picked (the first extreme among ties), as PyTorch's."""
    a = _raw(x)
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{op}(dim=...) returns (values, indices) along one dim; got dim={dim!r} "
                        f"(use axis={tuple(dim)!r} for the values over several dims)")
    _check_dim(op, a, dim)
    idx = _arg("arg" + op, a, dim, True)
    values = gather(x, dim, idx)
    if not keepdim:
        values = values.reshape(tuple(s for i, s in enumerate(values.shape) if i != dim % a.ndim))
        idx = Tensor._wrap(idx.data.reshape(values.shape))
    return MaxMin(values, idx)
