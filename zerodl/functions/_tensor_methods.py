"""Give ``Tensor`` its operators and methods, each a call into this package's ops."""
from ..core import Tensor, as_tensor
from . import arithmetic as A
from . import shape as S


def _binary(cls):
    def op(self, other):
        return cls()(self, other if isinstance(other, Tensor) else as_tensor(other, self))

    return op


def _reflected(cls):
    def op(self, other):
        return cls()(as_tensor(other, self), self)

    return op


def _reshape(self, *shape):
    return S.reshape(self, *shape)


def _transpose(self, *axes):
    return S.transpose(self, *axes)


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
    T.__getitem__ = S.getitem
    T.reshape = _reshape
    T.transpose = _transpose
    T.T = property(lambda self: S.transpose(self))
    T.sum = lambda self, axis=None, keepdims=False: S.sum(self, axis, keepdims)
    T.mean = lambda self, axis=None, keepdims=False: S.mean(self, axis, keepdims)
    T.max = lambda self, axis=None, keepdims=False: S.max(self, axis, keepdims)
    T.min = lambda self, axis=None, keepdims=False: S.min(self, axis, keepdims)
    T.exp = lambda self: A.exp(self)
    T.log = lambda self: A.log(self)
    T.sqrt = lambda self: A.sqrt(self)
    T.clip = lambda self, lo, hi: S.clip(self, lo, hi)
