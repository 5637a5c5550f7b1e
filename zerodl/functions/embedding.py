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

__all__ = ["embedding", "embedding_dot", "RowSparseGrad"]


_LONG_RUN = 16  # runs at least this long are summed as one block each


def _sum_rows(ids, g2, presorted=False):
    """``(rows, sums)``: the distinct ``ids`` (ascending) and the sum of ``g2``'s rows for each.

    After a stable sort the rows of one id form a run. The runs, longest first, are summed by
    rank: the first rows of all runs, plus the second rows of the runs longer than 1, plus the
    third rows of those longer than 2 ... -- a few slice additions, where ``add.reduceat`` or
    ``add.at`` pay a call per run or per row. The few runs of ``_LONG_RUN`` rows or more (the
    most frequent words) are summed one block at a time. ``presorted``: ``ids`` already ascend.
    """
    if presorted:
        s, g = ids, g2
    else:
        order = np.argsort(ids, kind="stable")
        s, g = ids[order], g2[order]
    if s.size == 0:
        return s, g
    starts = np.flatnonzero(np.concatenate(([True], s[1:] != s[:-1])))
    if starts.size == s.size:  # no repeats
        return s, g
    lens = np.diff(np.append(starts, s.size))
    by_len = np.argsort(-lens, kind="stable")
    st, ln = starts[by_len], lens[by_len]
    sums = g[st]
    n_long = int(np.count_nonzero(ln >= _LONG_RUN))
    for j in range(n_long):
        sums[j] = g[st[j]:st[j] + ln[j]].sum(axis=0)
    neg = -ln  # ascending, for searchsorted
    for r in range(1, int(ln[n_long]) if n_long < ln.size else 1):
        n = int(np.searchsorted(neg, -r, side="left"))  # runs longer than r
        sums[n_long:n] += g[st[n_long:n] + r]
    out = np.empty_like(sums)
    out[by_len] = sums
    return s[starts], out


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
    ``zeros(shape)`` with ``scale * values[i]`` added to row ``rows[i]`` (rows may repeat).

    ``rows`` int (K,), ``values`` (K, D), ``shape`` (V, D); ``presorted``: ``rows`` ascend.
    ``to_dense()`` (or ``np.asarray(g)``) gives the (V, D) array; ``coalesce()`` the distinct
    rows and their sums. Multiplying by a number only changes ``scale`` (no pass over values).
    """

    __slots__ = ("rows", "values", "shape", "scale", "presorted", "_coalesced")
    base = None  # not a view (autograd stores a leaf's gradient as it is)
    ndim = 2

    def __init__(self, rows, values, shape, scale=1.0, presorted=False):
        if values.ndim != 2 or rows.shape != values.shape[:1] or tuple(shape)[1:] != values.shape[1:]:
            raise ValueError(f"RowSparseGrad: rows {rows.shape} and values {values.shape} do not fit shape {shape}")
        self.rows, self.values, self.shape = rows, values, tuple(shape)
        self.scale, self.presorted = scale, presorted
        self._coalesced = None

    dtype = property(lambda self: self.values.dtype)
    size = property(lambda self: self.shape[0] * self.shape[1])

    def __repr__(self):
        return f"RowSparseGrad(shape={self.shape}, rows={self.rows.size}, dtype={self.dtype})"

    def _unscaled(self):
        if self._coalesced is None:
            self._coalesced = _sum_rows(self.rows, self.values, self.presorted)
        return self._coalesced

    def _with(self, scale):
        g = RowSparseGrad(self.rows, self.values, self.shape, scale, self.presorted)
        g._coalesced = self._coalesced  # the sums do not depend on the scale
        return g

    def coalesce(self):
        """``(rows, sums)``: distinct rows, ascending, with their summed (scaled) values."""
        rows, sums = self._unscaled()
        return rows, (sums if self.scale == 1.0 else sums * self.dtype.type(self.scale))

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
        return RowSparseGrad(self.rows.copy(), self.values.copy(), self.shape, self.scale, self.presorted)

    def _add_into(self, out, sign=1.0):
        """``out += sign * self`` in place, touching only the used rows."""
        rows, sums = self._unscaled()
        coef = sign * self.scale
        out[rows] += sums if coef == 1.0 else sums * out.dtype.type(coef)
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
            parts = [g.values if g.scale == 1.0 else g.values * g.dtype.type(g.scale) for g in (self, other)]
            return RowSparseGrad(np.concatenate([self.rows, other.rows]),
                                 np.concatenate([parts[0], parts[1].astype(self.dtype, copy=False)]), self.shape)
        return np.add(self, other)

    __radd__ = __add__

    def __mul__(self, c):
        if np.ndim(c) == 0:
            return self._with(self.scale * float(c))
        return np.multiply(self, c)

    __rmul__ = __mul__

    def __neg__(self):
        return self._with(-self.scale)

    def __abs__(self):
        rows, sums = self.coalesce()
        return RowSparseGrad(rows, np.abs(sums), self.shape, presorted=True)

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


class EmbeddingDot(Function):
    """The book's ``EmbeddingDot``: ``s[n, k] = h[n] . W[ids[n, k]]``.

    h (N, D), W (V, D), ids int (N, K) -> s (N, K). With ``R = W[ids]`` (N, K, D)::

        dh[n]         = sum_k ds[n, k] * R[n, k]
        dW[ids[n, k]] += ds[n, k] * h[n]            (rows of repeated ids add up)

    Both products are batched matmuls over n: (N, K, D) @ (N, D, 1) forward, (N, 1, K) @ (N, K, D)
    and (N, K, 1) @ (N, 1, D) backward.
    """

    def __init__(self, ids, sparse=False):
        self.ids = ids
        self.sparse = sparse

    def forward(self, h, W):
        ids = self.ids
        if h.ndim != 2 or W.ndim != 2 or ids.ndim != 2 or h.shape[1] != W.shape[1] or ids.shape[0] != h.shape[0]:
            raise ValueError(
                f"embedding_dot: expected h (N, D), W (V, D), ids (N, K); got h {tuple(h.shape)}, "
                f"W {tuple(W.shape)}, ids {tuple(ids.shape)}")
        if ids.dtype.kind not in "iu":
            raise TypeError(f"embedding_dot: ids must be integers, got dtype {ids.dtype}")
        V = W.shape[0]
        if ids.size and (int(ids.min()) < 0 or int(ids.max()) >= V):
            raise IndexError(f"embedding_dot: ids must be in [0, {V}), got {int(ids.min())}..{int(ids.max())}")
        xp = get_array_module(W)
        self.h, self.R, self.V = h, xp.take(W, ids, axis=0), V
        return xp.matmul(self.R, h[:, :, None])[:, :, 0]

    def backward(self, gs):
        gh = gW = None
        if self.needs_grad(0):
            gh = get_array_module(gs).matmul(gs[:, None, :], self.R)[:, 0]
        if self.needs_grad(1):
            D = self.h.shape[1]
            ids = self.ids.reshape(-1)
            if self.sparse and type(gs) is np.ndarray and self.inputs[1].creator is None:
                # rows built directly in id order: the sums need no second gather
                order = np.argsort(ids, kind="stable")
                g_rows = gs.reshape(-1)[order][:, None] * self.h[order // self.ids.shape[1]]
                gW = RowSparseGrad(ids[order], g_rows, (self.V, D), presorted=True)
            else:
                g_rows = (gs[:, :, None] * self.h[:, None, :]).reshape(-1, D)
                gW = _scatter_add_rows(g_rows, ids, self.V)
        return gh, gW


def embedding_dot(h, ids, W, sparse=False):
    """Scores ``h[n] . W[ids[n, k]]``: h (N, D), ids int (N, K), W (V, D) -> (N, K).

    word2vec's output side (the book's ``EmbeddingDot``): only the K rows of each example are
    read; ``sparse=True`` makes W's gradient a :class:`RowSparseGrad`, as in :func:`embedding`.
    """
    if isinstance(ids, Tensor):
        ids = ids.data
    xp = get_array_module(W.data if isinstance(W, Tensor) else W)
    return EmbeddingDot(xp.asarray(ids), bool(sparse))(h, W)
