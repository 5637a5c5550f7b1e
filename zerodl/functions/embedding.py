"""Embedding lookup: rows of a (V, D) table picked by integer ids; and the row-sparse gradient.

A lookup touches few of the V rows (a batch of word2vec uses a few thousand of 10,000 words),
so with ``sparse=True`` the table's gradient is a :class:`RowSparseGrad` (the used rows and
their gradients) instead of a (V, D) array that is mostly zeros: nothing of size V*D is
allocated, filled or read. It behaves as the dense array it stands for wherever NumPy meets
it, so optimizers, clipping and gradient accumulation need no special case:

- ``param.data -= lr * g`` (plain SGD) and ``buf += g`` update only the touched rows, in place;
- ``dense + g`` / ``g + g`` (two lookups of one table, or tied weights) add rows to a copy of
  the dense array / concatenate the rows;
- ``g * c`` scales the rows (gradient clipping); any other NumPy operation (Adam's moments,
  ``np.asarray(g)``) first expands it to the dense array, giving exactly the dense result.
"""
import numpy as np

from ..core import Function, Tensor, get_array_module

__all__ = ["embedding", "RowSparseGrad"]


def _sum_rows(ids, g2):
    """``(rows, sums)``: the distinct ``ids`` (sorted) and the sum of ``g2``'s rows for each.

    Sorting and ``add.reduceat`` over the runs of equal ids: faster than ``np.add.at`` and
    exact in the ids' order.
    """
    order = np.argsort(ids, kind="stable")
    s = ids[order]
    starts = np.flatnonzero(np.concatenate(([True], s[1:] != s[:-1]))) if s.size else s
    if starts.size == s.size:  # no repeats
        return s, g2[order]
    return s[starts], np.add.reduceat(g2[order], starts, axis=0)


def _scatter_add_rows(gy2, ids, V):
    """``out[ids[i]] += gy2[i]`` into a zero (V, D) array (the dense gradient)."""
    xp = get_array_module(gy2)
    out = xp.zeros((V, gy2.shape[1]), dtype=gy2.dtype)
    if ids.size == 0:
        return out
    if xp is not np:
        xp.add.at(out, ids, gy2)
        return out
    rows, sums = _sum_rows(ids, gy2)
    out[rows] = sums
    return out


class RowSparseGrad:
    """The gradient of a (V, D) table that is zero but on some rows: its dense value is
    ``zeros(shape)`` with ``values[i]`` added to row ``rows[i]`` (rows may repeat).

    ``rows`` int (K,), ``values`` (K, D), ``shape`` (V, D). ``to_dense()`` (or
    ``np.asarray(g)``) gives the (V, D) array; ``coalesce()`` the distinct rows and their sums.
    """

    __slots__ = ("rows", "values", "shape", "_coalesced")
    base = None  # not a view (autograd stores a leaf's gradient as it is)
    ndim = 2

    def __init__(self, rows, values, shape):
        if values.ndim != 2 or rows.shape != values.shape[:1] or tuple(shape)[1:] != values.shape[1:]:
            raise ValueError(f"RowSparseGrad: rows {rows.shape} and values {values.shape} do not fit shape {shape}")
        self.rows, self.values, self.shape = rows, values, tuple(shape)
        self._coalesced = None

    dtype = property(lambda self: self.values.dtype)
    size = property(lambda self: self.shape[0] * self.shape[1])

    def __repr__(self):
        return f"RowSparseGrad(shape={self.shape}, rows={self.rows.size}, dtype={self.dtype})"

    def coalesce(self):
        """``(rows, sums)``: distinct rows, sorted, with the summed values (cached)."""
        if self._coalesced is None:
            self._coalesced = _sum_rows(self.rows, self.values)
        return self._coalesced

    def to_dense(self, dtype=None):
        out = np.zeros(self.shape, dtype=self.dtype if dtype is None else dtype)
        rows, sums = self.coalesce()
        out[rows] = sums
        return out

    def __array__(self, dtype=None, copy=None):
        return self.to_dense(dtype)

    def astype(self, dtype, copy=True):
        """The dense array in ``dtype`` (what code that asks for a copy of a gradient needs)."""
        return self.to_dense(dtype)

    def ravel(self):
        return self.to_dense().ravel()

    def copy(self):
        return RowSparseGrad(self.rows.copy(), self.values.copy(), self.shape)

    def _add_into(self, out, sign=1.0):
        """``out += sign * self`` in place, touching only the used rows."""
        rows, sums = self.coalesce()
        if sign == 1.0:
            out[rows] += sums
        else:
            out[rows] -= sums
        return out

    # ----- arithmetic -----------------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        if method == "__call__" and ufunc in (np.add, np.subtract) and len(inputs) == 2 and not kwargs:
            a, b = inputs
            dense = a if isinstance(b, RowSparseGrad) else b
            sparse = b if dense is a else a
            if (isinstance(dense, np.ndarray) and dense.shape == self.shape and not isinstance(dense, RowSparseGrad)
                    and (ufunc is np.add or sparse is b)):
                target = out[0] if out else dense.copy()
                if target is not dense:
                    np.copyto(target, dense)
                return sparse._add_into(target, -1.0 if ufunc is np.subtract else 1.0)
        inputs = [x.to_dense() if isinstance(x, RowSparseGrad) else x for x in inputs]
        if out is not None:
            kwargs["out"] = out
        return getattr(ufunc, method)(*inputs, **kwargs)

    def __add__(self, other):
        if isinstance(other, RowSparseGrad):
            if other.shape != self.shape:
                raise ValueError(f"RowSparseGrad: cannot add shapes {self.shape} and {other.shape}")
            return RowSparseGrad(np.concatenate([self.rows, other.rows]),
                                 np.concatenate([self.values, other.values.astype(self.dtype, copy=False)]),
                                 self.shape)
        return np.add(self, other)

    __radd__ = __add__

    def __mul__(self, c):
        if np.ndim(c) == 0:
            return RowSparseGrad(self.rows, self.values * c, self.shape)
        return np.multiply(self, c)

    __rmul__ = __mul__

    def __neg__(self):
        return RowSparseGrad(self.rows, -self.values, self.shape)

    def __abs__(self):
        rows, sums = self.coalesce()
        return RowSparseGrad(rows, np.abs(sums), self.shape)

    def max(self):
        rows, sums = self.coalesce()
        m = sums.max() if sums.size else self.dtype.type(0)
        return m if rows.size == self.shape[0] else max(m, self.dtype.type(0))


class Embedding(Function):
    """``y = W[ids]``: ids of any shape, W (V, D) -> (*ids.shape, D).

    Backward: ``dW[ids[i]] += gy[i]`` (rows of repeated ids add up), as a dense (V, D) array,
    or with ``sparse=True`` (and W a leaf) as a :class:`RowSparseGrad`.
    """

    def __init__(self, ids, sparse=False):
        self.ids = ids
        self.sparse = sparse

    def forward(self, W):
        xp = get_array_module(W)
        ids = self.ids
        if W.ndim != 2:
            raise ValueError(f"embedding: the table must be 2-D (V, D), got shape {tuple(W.shape)}")
        if ids.dtype.kind not in "iu":
            raise TypeError(f"embedding: ids must be integers, got dtype {ids.dtype}")
        V = W.shape[0]
        if ids.size:
            lo, hi = int(ids.min()), int(ids.max())
            if lo < 0 or hi >= V:
                bad = lo if lo < 0 else hi
                raise IndexError(f"embedding: id {bad} is out of range for a table of V={V} rows")
        self.V = V
        return xp.take(W, ids, axis=0)

    def backward(self, gy):
        D = gy.shape[-1]
        ids, g2 = self.ids.reshape(-1), gy.reshape(-1, D)
        if self.sparse and type(gy) is np.ndarray and self.inputs[0].creator is None:
            return RowSparseGrad(ids, g2, (self.V, D))
        return _scatter_add_rows(g2, ids, self.V)


def embedding(ids, W, sparse=False):
    """Look up rows of ``W`` (V, D): ids (int array or tensor, any shape) -> (*ids.shape, D).

    ``sparse=True``: W's gradient is a :class:`RowSparseGrad` (NumPy arrays; a dense array
    on CuPy or when W is itself computed), as PyTorch's ``sparse=True``.
    """
    if isinstance(ids, Tensor):
        ids = ids.data
    xp = get_array_module(W.data if isinstance(W, Tensor) else W)
    return Embedding(xp.asarray(ids), bool(sparse))(W)
