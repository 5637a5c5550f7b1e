"""Raw-array helpers shared by the ops (no graph here)."""
from numpy.exceptions import AxisError


def sum_to(g, shape):
    """Sum ``g`` down to ``shape``: undo NumPy broadcasting in backward.

    (2, 3, 4) -> (3, 1): sums the leading axis away, then axis 2 keeping it.
    """
    if g.shape == tuple(shape):
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape) if s == 1 and g.shape[i + lead] != 1)
    y = g.sum(axis=axes, keepdims=True) if axes else g
    if lead:
        y = y.reshape(y.shape[lead:])
    return y


def normalize_axis(axis, ndim):
    """``axis`` (None, int or tuple) as a sorted tuple of non-negative ints."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    return tuple(sorted(a % ndim for a in axis))


def expand_reduced(g, in_shape, axis, keepdims):
    """Reshape the gradient of a reduction so it broadcasts against the input again."""
    if keepdims or axis is None and g.ndim == 0:
        return g if g.ndim == len(in_shape) else g.reshape((1,) * len(in_shape))
    shape = list(in_shape)
    for a in normalize_axis(axis, len(in_shape)):
        shape[a] = 1
    return g.reshape(shape)


def raise_axis_error(op, axis, shape, error):
    """Re-raise ``error`` (from a reduction over ``axis``) naming ``op`` and the input's shape
    when the axis is out of range or repeated; other errors are re-raised as they are."""
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    n = len(shape)
    if any(not -n <= a < n for a in axes):
        raise AxisError(f"{op}: axis {axis} is out of range for an input of shape {tuple(shape)}") from None
    if len({a % n for a in axes}) != len(axes):
        raise ValueError(f"{op}: axis {axis} names an axis twice (input of shape {tuple(shape)})") from None
    raise error
