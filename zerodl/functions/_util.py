"""Raw-array helpers shared by the ops (no graph here): modules of ``functions`` import these
from here, never each other's private names."""
import math

import numpy as np
from numpy.exceptions import AxisError

from ..core import Config, get_array_module
from ..core.kernels import fast_module as _fast_module
from ..core.threads import get_num_threads, map_chunks


def fast_module(name):
    """The Numba kernel module ``name`` when numba is installed and the environment variable
    ``ZERODL_NUMBA`` is not ``0``, else None (the NumPy code then does the same work).

    ``name`` is a module of ``zerodl.functions`` (``"_fast_winograd"``) or a path under zerodl
    (``"optim._fast_adam"``); see ``core.kernels``.
    """
    return _fast_module(name if "." in name else f"functions.{name}")


def pair(v, name, op, minimum):
    """``v`` (an int or an (h, w) pair) as a pair of ints ``>= minimum``."""
    both = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
    if len(both) != 2 or not all(isinstance(p, int) and p >= minimum for p in both):
        raise ValueError(f"{op}: {name} must be an int >= {minimum} or a pair of them, got {v!r}")
    return both


def check_image(op, x, what="input"):
    if x.ndim != 4:
        raise ValueError(f"{op}: expected {what} of shape (N, C, H, W), got {tuple(x.shape)}")


# Below this many elements an op runs in one piece: the pool's hand-off would cost more.
POOL_MIN_ELEMENTS = 1 << 18


def fixed_pieces(n, elements, min_elements, max_pieces=8):
    """Slices of range(n) into p nearly equal pieces for an op whose n rows hold ``elements``
    elements in all: p is the largest power of two <= min(n, max_pieces) with at least
    ``min_elements`` elements a piece (a power of two, so that 2 or 4 threads share them
    evenly). It depends on the shape only: ops that add up their pieces' partial results in
    the pieces' order give the same bits with any thread count."""
    p = 1
    while 2 * p <= min(n, max_pieces) and elements // (2 * p) >= min_elements:
        p *= 2
    return [slice(i * n // p, (i + 1) * n // p) for i in range(p)]


def contiguous(a):
    """a as a C-contiguous array (a itself when it is one); the copy of a large NumPy array in
    pieces of its first axis on zerodl's thread pool (see ``over_batch``)."""
    xp = get_array_module(a)
    if a.flags.c_contiguous or type(a) is not np.ndarray:
        return xp.ascontiguousarray(a)
    out = np.empty(a.shape, dtype=a.dtype)
    over_batch(lambda s: np.copyto(out[s], a[s]), a)
    return out


def over_batch(fn, x):
    """``fn(s)`` for slices ``s`` of x's first axis that together cover it: in
    ``get_num_threads()`` pieces on zerodl's thread pool when x is a large NumPy array (NumPy's
    copies and ufuncs release the GIL), else once with ``slice(None)``. ``fn`` writes its
    piece's results into arrays allocated beforehand."""
    n = get_num_threads()
    if n < 2 or x.ndim == 0 or x.shape[0] < 2 or x.size < POOL_MIN_ELEMENTS or type(x) is not np.ndarray:
        fn(slice(None))
        return
    step = -(-x.shape[0] // min(n, x.shape[0]))
    map_chunks(fn, [slice(i, i + step) for i in range(0, x.shape[0], step)])


# softmax_rows' blocks of rows: small enough that its four passes find the block in cache.
SOFTMAX_BLOCK_BYTES = 1 << 19


def softmax_rows(x2):
    """The softmax of every row of a 2-D float array x2 (R, C), stable: ``(p, m, z)`` with
    m (R, 1) the row maxima, z (R, 1) = sum(exp(x2 - m)) and p = exp(x2 - m) / z (R, C).

    On NumPy arrays the rows go in blocks of about ``SOFTMAX_BLOCK_BYTES``, so that the four
    passes (max, subtract and exp, sum, divide) read a block still in cache rather than the
    whole array four times, and the blocks are shared out on zerodl's thread pool. Every row is
    computed as a whole-array softmax would compute it: the results do not depend on the blocks.
    """
    xp = get_array_module(x2)
    R, C = x2.shape
    p = xp.empty_like(x2)
    m, z = xp.empty((R, 1), dtype=x2.dtype), xp.empty((R, 1), dtype=x2.dtype)

    def block(s):
        ps, ms, zs = p[s], m[s], z[s]
        x2[s].max(axis=1, keepdims=True, out=ms)
        xp.subtract(x2[s], ms, out=ps)
        xp.exp(ps, out=ps)
        ps.sum(axis=1, keepdims=True, out=zs)
        ps /= zs

    if type(x2) is np.ndarray and R > 1 and C:
        rows = max(1, SOFTMAX_BLOCK_BYTES // (C * x2.itemsize))
        map_chunks(block, [slice(i, i + rows) for i in range(0, R, rows)])
    else:
        block(slice(None))
    return p, m, z


def fast_array(*arrays):
    """Whether the kernels may run on these arrays: C-contiguous NumPy float32/float64 of one dtype."""
    a = arrays[0]
    return (type(a) is np.ndarray and a.dtype in (np.float32, np.float64)
            and all(type(b) is np.ndarray and b.dtype == a.dtype and b.flags.c_contiguous for b in arrays))


def floating(x):
    """Integer or boolean input computes in the default floating dtype."""
    return x if x.dtype.kind == "f" else x.astype(Config.default_dtype)


def array(a):
    """NumPy ufuncs return scalars for 0-d arrays; in-place ``out=`` (and ``.data``) want arrays."""
    return a if a.ndim else get_array_module(a).asarray(a)


# Lower clamp for sigmoid's input: exp(-x) stays finite and 1 / (1 + exp(-x)) a normal number.
_SIGMOID_LO = {np.dtype(np.float32): -85.0, np.dtype(np.float64): -705.0}


def sigmoid(x):
    """``1 / (1 + exp(-x))`` on a floating array, without overflow and without masks.

    x is clamped below at -85 (float32) / -705 (float64), where the sigmoid is already below
    the smallest normal number, so ``exp(-x)`` never overflows; elsewhere the formula is
    used as it is, accurate to an ulp or two in both tails (sigmoid(-40) = 4.2e-18, not 0).
    (No masked form such as ``np.where(x < 0, ...)``: it is slower on random signs.)
    """
    xp = get_array_module(x)
    lo = _SIGMOID_LO.get(x.dtype)
    if lo is None:
        lo = 4 - math.log(float(xp.finfo(x.dtype).max))
    y = array(xp.maximum(x, lo))
    xp.negative(y, out=y)
    xp.exp(y, out=y)
    y += 1
    return xp.reciprocal(y, out=y)


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
