"""Reductions and shape ops: sum, mean, max, min, reshape, transpose, permute, broadcast,
indexing, concat / cat, stack (clip and where are in ``select.py``)."""
from ..core import Function, Tensor, get_array_module
from ._util import expand_reduced, normalize_axis, raise_axis_error, sum_to as _sum_to_raw
from .indexing import extreme_with_indices as _extreme_with_indices


class Sum(Function):
    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.in_shape = x.shape
        try:
            return x.sum(axis=self.axis, keepdims=self.keepdims)
        except (ValueError, IndexError) as e:  # NumPy's AxisError is both
            raise_axis_error("sum", self.axis, x.shape, e)

    def backward(self, gy):
        xp = get_array_module(gy)
        g = expand_reduced(gy, self.in_shape, self.axis, self.keepdims)
        return xp.broadcast_to(g, self.in_shape)


class Mean(Function):
    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.in_shape = x.shape
        try:
            y = x.mean(axis=self.axis, keepdims=self.keepdims)
        except (ValueError, IndexError) as e:
            raise_axis_error("mean", self.axis, x.shape, e)
        self.count = 1
        for a in normalize_axis(self.axis, x.ndim):
            self.count *= x.shape[a]
        return y

    def backward(self, gy):
        xp = get_array_module(gy)
        g = expand_reduced(gy, self.in_shape, self.axis, self.keepdims) / self.count
        return xp.broadcast_to(g, self.in_shape).astype(gy.dtype, copy=False)


class _Extreme(Function):
    """max/min over ``axis``; ties share the gradient equally (as ``torch.amax``)."""

    reduce = None

    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.x = x
        try:
            self.y = getattr(x, self.reduce)(axis=self.axis, keepdims=True)
        except (ValueError, IndexError) as e:
            raise_axis_error(self.reduce, self.axis, x.shape, e)
        if self.keepdims:
            return self.y
        reduced = normalize_axis(self.axis, x.ndim)
        return self.y.reshape([s for i, s in enumerate(self.y.shape) if i not in reduced])

    def backward(self, gy):
        mask = self.x == self.y
        count = mask.sum(axis=self.axis, keepdims=True)
        g = expand_reduced(gy, self.x.shape, self.axis, self.keepdims)
        return mask * (g / count.astype(g.dtype))


class Max(_Extreme):
    reduce = "max"


class Min(_Extreme):
    reduce = "min"


class Reshape(Function):
    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.in_shape = x.shape
        try:
            return x.reshape(self.shape)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape {tuple(x.shape)} into {tuple(self.shape)}") from None

    def backward(self, gy):
        return gy.reshape(self.in_shape)


class Transpose(Function):
    def __init__(self, axes=None):
        self.axes = axes

    def forward(self, x):
        if self.axes is not None and len(self.axes) != x.ndim:
            raise ValueError(f"transpose: axes {self.axes} do not match an input of shape {tuple(x.shape)}")
        return x.transpose(self.axes)

    def backward(self, gy):
        if self.axes is None:
            return gy.transpose()
        inverse = [0] * gy.ndim
        for i, a in enumerate(self.axes):
            inverse[a % gy.ndim] = i
        return gy.transpose(inverse)


class BroadcastTo(Function):
    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        self.in_shape = x.shape
        try:
            return get_array_module(x).broadcast_to(x, self.shape)
        except ValueError:
            raise ValueError(f"broadcast_to: cannot broadcast {tuple(x.shape)} to {self.shape}") from None

    def backward(self, gy):
        return _sum_to_raw(gy, self.in_shape)


class SumTo(Function):
    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        self.in_shape = x.shape
        shape, lead = self.shape, x.ndim - len(self.shape)
        if lead < 0 or any(s not in (1, d) for s, d in zip(shape, x.shape[lead:])):
            raise ValueError(f"sum_to: cannot sum {tuple(x.shape)} down to {shape} (it must broadcast back to the input)")
        return _sum_to_raw(x, shape)

    def backward(self, gy):
        return get_array_module(gy).broadcast_to(gy, self.in_shape)


def _is_basic_index(index):
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, slice)) or i is None or i is Ellipsis for i in items)


class GetItem(Function):
    """``x[index]``; backward scatters ``gy`` back, adding where an index repeats."""

    def __init__(self, index):
        self.index = index

    def forward(self, x):
        self.in_shape, self.dtype = x.shape, x.dtype
        try:
            return x[self.index]
        except IndexError as e:
            raise IndexError(f"getitem: {e} (tensor of shape {tuple(x.shape)})") from None

    def backward(self, gy):
        xp = get_array_module(gy)
        gx = xp.zeros(self.in_shape, dtype=gy.dtype)
        if _is_basic_index(self.index):
            gx[self.index] = gy
        else:
            xp.add.at(gx, self.index, gy)
        return gx


class Concat(Function):
    def __init__(self, axis=0):
        self.axis = axis

    def forward(self, *xs):
        if not xs:
            raise ValueError("concat: expected at least one tensor")
        xp = get_array_module(xs[0])
        self.sizes = [x.shape[self.axis] for x in xs]
        try:
            return xp.concatenate(xs, axis=self.axis)
        except ValueError:
            shapes = ", ".join(str(tuple(x.shape)) for x in xs)
            raise ValueError(f"concat: cannot join shapes {shapes} along axis {self.axis}") from None

    def backward(self, gy):
        xp = get_array_module(gy)
        splits = xp.cumsum(xp.asarray(self.sizes[:-1])).tolist()
        return tuple(xp.split(gy, splits, axis=self.axis))


class Stack(Function):
    def __init__(self, axis=0):
        self.axis = axis

    def forward(self, *xs):
        if not xs:
            raise ValueError("stack: expected at least one tensor")
        xp = get_array_module(xs[0])
        try:
            return xp.stack(xs, axis=self.axis)
        except ValueError:
            shapes = ", ".join(str(tuple(x.shape)) for x in xs)
            raise ValueError(f"stack: all inputs must have the same shape, got {shapes}") from None

    def backward(self, gy):
        xp = get_array_module(gy)
        n = gy.shape[self.axis]
        return tuple(xp.take(gy, i, axis=self.axis) for i in range(n))


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def _axis_arg(op, axis, dim, default=None):
    """``axis`` or PyTorch's ``dim`` (one of them; both only when they agree)."""
    if dim is None:
        return axis
    if axis is not default and axis != dim:
        raise TypeError(f"{op}: got axis={axis!r} and dim={dim!r}; pass one of them")
    return tuple(dim) if isinstance(dim, list) else dim


def _keep_arg(op, keepdims, keepdim):
    if keepdim is None:
        return keepdims
    if keepdims and not keepdim:
        raise TypeError(f"{op}: got keepdims={keepdims!r} and keepdim={keepdim!r}; pass one of them")
    return bool(keepdim)


def sum(x, axis=None, keepdims=False, *, dim=None, keepdim=None):  # noqa: A001 - the API's name
    """Sum over ``axis`` (None: all; int or tuple, negative allowed); ``keepdims`` keeps them as size 1.
    PyTorch's ``dim=`` / ``keepdim=`` are the same arguments."""
    return Sum(_axis_arg("sum", axis, dim), _keep_arg("sum", keepdims, keepdim))(x)


def mean(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Mean over ``axis`` (None: all; int or tuple, negative allowed); ``keepdims`` keeps them as size 1.
    PyTorch's ``dim=`` / ``keepdim=`` are the same arguments."""
    return Mean(_axis_arg("mean", axis, dim), _keep_arg("mean", keepdims, keepdim))(x)


def max(x, axis=None, keepdims=False, *, dim=None, keepdim=None):  # noqa: A001
    """Maximum over ``axis``; the gradient goes to the maxima (shared equally between ties).

    With PyTorch's ``dim=`` (an int) it returns ``(values, indices)`` as ``torch.max(x, dim=)``,
    the gradient going to the index picked (the first maximum)."""
    if dim is not None:
        from_dim = _axis_arg("max", axis, dim)
        return _extreme_with_indices("max", x, from_dim, _keep_arg("max", keepdims, keepdim))
    return Max(axis, _keep_arg("max", keepdims, keepdim))(x)


def min(x, axis=None, keepdims=False, *, dim=None, keepdim=None):  # noqa: A001
    """Minimum over ``axis``; the gradient goes to the minima (shared equally between ties).

    With PyTorch's ``dim=`` (an int) it returns ``(values, indices)`` as ``torch.min(x, dim=)``."""
    if dim is not None:
        from_dim = _axis_arg("min", axis, dim)
        return _extreme_with_indices("min", x, from_dim, _keep_arg("min", keepdims, keepdim))
    return Min(axis, _keep_arg("min", keepdims, keepdim))(x)


def reshape(x, *shape):
    """``x`` with a new shape of the same size: ``reshape(x, 2, -1)`` or ``reshape(x, (2, -1))``."""
    shape = _shape_arg(shape)
    if isinstance(x, Tensor) and x.shape == shape:
        return x
    return Reshape(shape)(x)


def transpose(x, *axes):
    """Reverse the axes (no arguments), swap two dims as PyTorch (``transpose(x, 0, 1)``, any
    ndim), or permute them as NumPy (all of the axes of a tensor with 3 or more dims, or a tuple:
    ``transpose(x, 0, 2, 1)``)."""
    if not axes or axes[0] is None:
        return Transpose(None)(x)
    ndim = x.ndim if hasattr(x, "ndim") else get_array_module(x).ndim(x)
    if len(axes) == 2 and not isinstance(axes[0], (tuple, list)):
        return Transpose(_swap("transpose", ndim, *axes, x))(x)
    return Transpose(_shape_arg(axes))(x)


def _swap(op, ndim, d0, d1, x):
    """The permutation that swaps dims ``d0`` and ``d1`` of an ``ndim``-dim tensor."""
    for d in (d0, d1):
        if isinstance(d, bool) or not isinstance(d, int) or not -ndim <= d < ndim:
            raise ValueError(f"{op}: dim {d!r} is out of range for a tensor of shape {tuple(x.shape)}")
    perm = list(range(ndim))
    perm[d0], perm[d1] = perm[d1], perm[d0]
    return tuple(perm)


def permute(x, *dims):
    """Reorder the dims (``permute(x, 2, 0, 1)`` or ``permute(x, (2, 0, 1))``, as ``torch.permute``)."""
    dims = _shape_arg(dims)
    ndim = x.ndim if hasattr(x, "ndim") else get_array_module(x).ndim(x)
    ok = all(isinstance(d, int) and -ndim <= d < ndim for d in dims)
    if len(dims) != ndim or not ok or sorted(d % ndim for d in dims) != list(range(ndim)):
        raise ValueError(f"permute: dims {dims} are not a permutation of the {ndim} dims of a tensor of shape {tuple(x.shape)}")
    return Transpose(dims)(x)


def broadcast_to(x, shape):
    """``x`` broadcast to ``shape`` (NumPy rules); backward sums over the broadcast axes."""
    if isinstance(x, Tensor) and x.shape == tuple(shape):
        return x
    return BroadcastTo(shape)(x)


def sum_to(x, shape):
    """Sum ``x`` down to ``shape`` (the inverse of ``broadcast_to``): (2, 3, 4) -> (3, 1)."""
    if isinstance(x, Tensor) and x.shape == tuple(shape):
        return x
    return SumTo(shape)(x)


def getitem(x, index):
    """``x[index]``: basic or integer-array indexing; backward adds where an index repeats."""
    if isinstance(index, Tensor):
        index = index.data
    elif isinstance(index, tuple):
        index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
    elif isinstance(index, list):
        index = get_array_module(getattr(x, "data", x)).asarray(index)
    return GetItem(index)(x)


def concat(xs, axis=0, dim=None):
    """Join tensors along an existing axis (``torch.cat``; ``dim`` is ``axis``)."""
    return Concat(_axis_arg("concat", axis, dim, 0))(*_tensor_list("concat", xs))


def cat(tensors, dim=0):
    """``torch.cat``: join tensors along the existing axis ``dim``."""
    return Concat(dim)(*_tensor_list("cat", tensors))


def stack(xs, axis=0, dim=None):
    """Join same-shaped tensors along a new axis (``torch.stack``; ``dim`` is ``axis``)."""
    return Stack(_axis_arg("stack", axis, dim, 0))(*_tensor_list("stack", xs))


def stack_dim(tensors, dim=0):
    """``torch.stack`` (``zd.stack``): join same-shaped tensors along the new axis ``dim``."""
    return Stack(dim)(*_tensor_list("stack", tensors))


def _tensor_list(op, xs):
    if isinstance(xs, Tensor) or hasattr(xs, "shape"):
        raise TypeError(f"{op}: expected a list or tuple of tensors, got a single {type(xs).__name__} of shape {tuple(xs.shape)}")
    return list(xs)
