"""Give ``Tensor`` its operators and methods, each a call into this package's ops.

Methods take NumPy's argument names and PyTorch's (``axis=``/``dim=``, ``keepdims=``/``keepdim=``);
each is a named function (``Tensor.sum``), so a wrong argument is reported under the method's
name, never a lambda's.
"""
import numpy as np

from ..core import Tensor, as_tensor
from . import activations as Act
from . import arithmetic as A
from . import indexing as I
from . import select as Sel
from . import shape as S
from ._tensor_inplace import install as _install_inplace


def _binary(cls):
    def op(self, other):
        return cls()(self, other if isinstance(other, Tensor) else as_tensor(other, self))

    return op


def _reflected(cls):
    def op(self, other):
        return cls()(as_tensor(other, self), self)

    return op


def reshape(self, *shape):
    """``t.reshape(2, -1)`` or ``t.reshape((2, -1))``."""
    return S.reshape(self, *shape)


def view(self, *shape):
    """PyTorch's ``view``: the same as ``reshape`` here (the data is re-viewed when NumPy can)."""
    try:
        return S.reshape(self, *shape)
    except ValueError as e:
        raise ValueError(str(e).replace("reshape:", "view:", 1)) from None


def view_as(self, other):
    return S.reshape(self, other.shape)


def transpose(self, *axes):
    """No arguments: reverse the dims; two dims: swap them (PyTorch, any ndim); all the dims of a
    tensor with 3 or more, or a tuple: permute them (NumPy)."""
    return S.transpose(self, *axes)


def permute(self, *dims):
    """Reorder the dims: ``t.permute(0, 2, 1)``."""
    return S.permute(self, *dims)


def t(self):
    """The transpose of a tensor of at most 2 dims (``torch.Tensor.t``)."""
    if self.ndim > 2:
        raise ValueError(f"t: expects a tensor of at most 2 dims, got shape {tuple(self.shape)}; use transpose(d0, d1)")
    return S.transpose(self) if self.ndim == 2 else self


def _dim(op, self, d, extra=0):
    n = self.ndim + extra
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or not -max(n, 1) <= d < max(n, 1):
        raise ValueError(f"{op}: dim {d!r} is out of range for a tensor of shape {tuple(self.shape)}")
    return int(d) % max(n, 1)


def unsqueeze(self, dim):
    """Insert a dim of size 1 at ``dim`` (``-1`` appends)."""
    d = _dim("unsqueeze", self, dim, extra=1)
    shape = list(self.shape)
    shape.insert(d, 1)
    return S.reshape(self, tuple(shape))


def squeeze(self, dim=None):
    """Drop the dims of size 1 (only ``dim`` when given; a dim of another size is left, as PyTorch)."""
    if dim is None:
        return S.reshape(self, tuple(s for s in self.shape if s != 1))
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    drop = {_dim("squeeze", self, d) for d in dims}
    return S.reshape(self, tuple(s for i, s in enumerate(self.shape) if not (i in drop and s == 1)))


def flatten(self, start_dim=0, end_dim=-1):
    """Merge dims ``start_dim..end_dim`` into one (``torch.flatten``)."""
    if self.ndim == 0:
        return S.reshape(self, (1,))
    a, b = _dim("flatten", self, start_dim), _dim("flatten", self, end_dim)
    if a > b:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} (shape {tuple(self.shape)})")
    shape = self.shape
    return S.reshape(self, shape[:a] + (-1 if 0 not in shape[a:b + 1] else 0,) + shape[b + 1:])


def _reduction(name, f):
    def method(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return f(self, axis, keepdims, dim=dim, keepdim=keepdim)

    method.__name__ = name
    method.__qualname__ = f"Tensor.{name}"
    method.__doc__ = f"``F.{name}`` of this tensor: ``axis``/``dim`` and ``keepdims``/``keepdim``."
    return method


def argmax(self, dim=None, keepdim=False):
    """Index of the maximum along ``dim`` (of the flattened tensor when None), int64."""
    return I.argmax(self, dim, keepdim)


def argmin(self, dim=None, keepdim=False):
    """Index of the minimum along ``dim`` (of the flattened tensor when None), int64."""
    return I.argmin(self, dim, keepdim)


def gather(self, dim, index):
    return I.gather(self, dim, index)


def numel(self):
    """The number of elements (an int)."""
    return int(self.data.size)


def dim(self):
    """The number of dims (PyTorch's ``t.dim()``; ``t.ndim`` too)."""
    return self.data.ndim


def clone(self):
    """A copy that stays in the graph: gradients flow back to ``self``."""
    return A.Clone()(self)


def _cast(name, dtype):
    def method(self):
        if self.data.dtype == dtype:
            return self
        if dtype.kind == "f" and self.data.dtype.kind == "f":
            return A.Cast(dtype)(self)  # differentiable, as PyTorch's
        return Tensor._wrap(self.data.astype(dtype))

    method.__name__ = name
    method.__qualname__ = f"Tensor.{name}"
    method.__doc__ = f"This tensor as {dtype} (``self`` when it already is)."
    return method


def clamp(self, min=None, max=None):  # noqa: A002 - PyTorch's names
    """``clip(self, min, max)`` (either may be None)."""
    return Sel.clip(self, min, max)


def clip(self, lo=None, hi=None):
    return Sel.clip(self, lo, hi)


def abs(self):  # noqa: A001
    return A.abs(self)


def exp(self):
    return A.exp(self)


def log(self):
    return A.log(self)


def sqrt(self):
    return A.sqrt(self)


def pow(self, c):  # noqa: A001
    return A.pow(self, c if isinstance(c, Tensor) else as_tensor(c, self))


def matmul(self, other):
    return A.matmul(self, other)


def sigmoid(self):
    return Act.sigmoid(self)


def tanh(self):
    return Act.tanh(self)


def relu(self):
    return Act.relu(self)


def softmax(self, dim=-1):
    return Act.softmax(self, dim)


def log_softmax(self, dim=-1):
    return Act.log_softmax(self, dim)


_METHODS = (reshape, view, view_as, transpose, permute, t, unsqueeze, squeeze, flatten, argmax, argmin,
            gather, numel, dim, clone, clamp, clip, abs, exp, log, sqrt, pow, matmul, sigmoid, tanh, relu,
            softmax, log_softmax)


def install():
    T = Tensor
    T.__array_ufunc__ = None  # ndarray (op) Tensor defers to Tensor's reflected operator
    T.__add__ = _binary(A.Add)
    T.__radd__ = _reflected(A.Add)
    T.__sub__ = _binary(A.Sub)
    T.__rsub__ = _reflected(A.Sub)
    T.__mul__ = _binary(A.Mul)
    T.__rmul__ = _reflected(A.Mul)
    T.__truediv__ = _binary(A.Div)
    T.__rtruediv__ = _reflected(A.Div)
    T.__pow__ = _binary(A.Pow)
    T.__rpow__ = _reflected(A.Pow)
    T.__matmul__ = _binary(A.MatMul)
    T.__rmatmul__ = _reflected(A.MatMul)
    T.__neg__ = lambda self: A.Neg()(self)
    T.__pos__ = lambda self: self
    T.__abs__ = abs
    T.__getitem__ = S.getitem
    for f in _METHODS:
        f.__qualname__ = f"Tensor.{f.__name__}"
        setattr(T, f.__name__, f)
    T.T = property(lambda self: S.transpose(self))
    for name, f in (("sum", S.sum), ("mean", S.mean), ("max", S.max), ("min", S.min)):
        setattr(T, name, _reduction(name, f))
    for name, dtype in (("float", np.float32), ("double", np.float64), ("half", np.float16),
                        ("long", np.int64), ("int", np.int32), ("bool", np.bool_)):
        setattr(T, name, _cast(name, np.dtype(dtype)))
    _install_inplace(T)
