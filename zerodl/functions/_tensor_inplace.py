"""In-place operators and methods (``+= -= *= /=``, ``add_ sub_ mul_ div_ zero_ fill_ copy_
clamp_``): they change ``t.data`` itself and return ``t``, as PyTorch's.

So ``with zd.no_grad(): p -= lr * p.grad`` updates the parameter (a ``Parameter`` stays the same
object, and an optimizer's state, keyed by it, survives). They are allowed under ``no_grad()``
and on tensors that need no gradient; on a tensor that requires grad while the graph is being
recorded they raise, as PyTorch does, since the graph would silently compute wrong gradients.
One case records the graph instead: ``acc += w * 2`` with ``acc`` needing no grad and the
value needing one (grad mode on) makes ``acc`` the new tensor ``acc + w * 2``, so gradients
reach ``w`` as in PyTorch (the methods ``add_`` ... raise there: they cannot rebind).
"""
import numpy as np

from ..core import Tensor, get_array_module, is_grad_enabled
from . import arithmetic as A


def _check(op, t):
    """Refuse an in-place change that would corrupt a recorded graph; make ``t.data`` writable
    (a 0-d result may be held as a NumPy scalar)."""
    if isinstance(t.data, np.generic):
        t.data = np.asarray(t.data)
    if t.requires_grad and is_grad_enabled():
        what = ("a leaf tensor that requires grad" if t.creator is None
                else "a tensor that requires grad and is part of the graph")
        raise RuntimeError(
            f"{op}: {what} cannot be changed in place while gradients are recorded (the graph would "
            "give wrong gradients); wrap the update in `with zd.no_grad():`, or use the out-of-place "
            "form (t = t + x)"
        )


def _value(other, t):
    """``other`` as an array (or number) in ``t``'s array module."""
    if isinstance(other, Tensor):
        other = other.data
    elif not isinstance(other, (int, float, bool, np.generic)):
        other = get_array_module(t.data).asarray(other)
    return other


def _recording(other):
    """Whether ``other`` would need the graph that an in-place write cannot record."""
    return isinstance(other, Tensor) and other.requires_grad and is_grad_enabled()


def _apply(op, t, ufunc, other, alpha=1):
    _check(op, t)
    if _recording(other):
        raise RuntimeError(
            f"{op}: the value requires grad, and an in-place write would drop it from the graph; "
            "use the out-of-place form (t = t + x), or wrap the update in `with zd.no_grad():`"
        )
    other = _value(other, t) if alpha == 1 else _value(other, t) * alpha
    try:
        getattr(get_array_module(t.data), ufunc)(t.data, other, out=t.data, casting="same_kind")
    except ValueError as e:
        shape = getattr(other, "shape", ())
        if "read-only" in str(e):
            raise ValueError(f"{op}: the tensor's data (shape {tuple(t.shape)}) is a read-only array") from None
        raise ValueError(
            f"{op}: a value of shape {tuple(shape)} cannot be applied in place to a tensor of shape "
            f"{tuple(t.shape)} (it must broadcast to the tensor's shape)"
        ) from None
    except TypeError as e:  # numpy's UFuncTypeError: float into int data, ...
        dtype = getattr(other, "dtype", type(other).__name__)
        raise TypeError(f"{op}: cannot write {dtype} values in place into a tensor of dtype {t.dtype} ({e})") from None
    return t


def _operator(op, ufunc, cls):
    def method(self, other):
        if _recording(other) and not self.requires_grad:
            return cls()(self, other)  # a new node; ``a += b`` rebinds a to it
        return _apply(op, self, ufunc, other)

    return method


def add_(self, other, alpha=1):
    """``self += alpha * other`` in place."""
    return _apply("add_", self, "add", other, alpha)


def sub_(self, other, alpha=1):
    """``self -= alpha * other`` in place."""
    return _apply("sub_", self, "subtract", other, alpha)


def mul_(self, other):
    return _apply("mul_", self, "multiply", other)


def div_(self, other):
    return _apply("div_", self, "true_divide", other)


def _fill(op, t, value):
    _check(op, t)
    t.data[...] = _value(value, t)
    return t


def zero_(self):
    """Set every element to 0, in place."""
    return _fill("zero_", self, 0)


def fill_(self, value):
    """Set every element to ``value``, in place."""
    return _fill("fill_", self, value)


def copy_(self, src):
    """Copy ``src``'s values into this tensor (broadcast to its shape, cast to its dtype)."""
    _check("copy_", self)
    if _recording(src):
        raise RuntimeError("copy_: the source requires grad, and an in-place copy would drop it from the graph; "
                           "use the source itself, or copy under `with zd.no_grad():`")
    src = _value(src, self)
    xp = get_array_module(self.data)
    try:
        xp.copyto(self.data, xp.asarray(src), casting="unsafe")
    except ValueError:
        raise ValueError(f"copy_: a source of shape {tuple(np.shape(src))} cannot be copied into a tensor of "
                         f"shape {tuple(self.shape)}") from None
    return self


def clamp_(self, min=None, max=None):  # noqa: A002 - PyTorch's names
    """Limit the values to ``[min, max]`` in place (either may be None)."""
    _check("clamp_", self)
    if min is None and max is None:
        raise ValueError("clamp_: give min, max or both")
    xp = get_array_module(self.data)
    lo, hi = (None if b is None else _value(b, self) for b in (min, max))
    xp.clip(self.data, lo, hi, out=self.data)
    return self


def install(T):
    T.__iadd__ = _operator("+=", "add", A.Add)
    T.__isub__ = _operator("-=", "subtract", A.Sub)
    T.__imul__ = _operator("*=", "multiply", A.Mul)
    T.__itruediv__ = _operator("/=", "true_divide", A.Div)
    for f in (add_, sub_, mul_, div_, zero_, fill_, copy_, clamp_):
        f.__qualname__ = f"Tensor.{f.__name__}"
        setattr(T, f.__name__, f)
