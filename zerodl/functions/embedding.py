"""Embedding lookup: rows of a (V, D) table picked by integer ids."""
import numpy as np

from ..core import Function, Tensor, get_array_module

__all__ = ["embedding"]


def _scatter_add_rows(gy2, ids, V):
    """``out[ids[i]] += gy2[i]`` into a zero (V, D) array.

    NumPy: sort the ids, sum each run of equal ids with ``add.reduceat`` and write each sum
    once: faster than ``np.add.at`` (docs/benchmarks.md), and exact in the ids' order.
    """
    xp = get_array_module(gy2)
    out = xp.zeros((V, gy2.shape[1]), dtype=gy2.dtype)
    if ids.size == 0:
        return out
    if xp is not np:
        xp.add.at(out, ids, gy2)
        return out
    order = np.argsort(ids, kind="stable")
    s = ids[order]
    starts = np.flatnonzero(np.concatenate(([True], s[1:] != s[:-1])))
    if starts.size == s.size:  # no repeats: a plain scatter
        out[s] = gy2[order]
    else:
        out[s[starts]] = np.add.reduceat(gy2[order], starts, axis=0)
    return out


class Embedding(Function):
    """``y = W[ids]``: ids of any shape, W (V, D) -> (*ids.shape, D).

    Backward scatters ``gy`` back into a zero (V, D) table, adding where an id repeats.
    """

    def __init__(self, ids):
        self.ids = ids

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
        return _scatter_add_rows(gy.reshape(-1, D), self.ids.reshape(-1), self.V)


def embedding(ids, W):
    """Look up rows of ``W`` (V, D): ids (int array or tensor, any shape) -> (*ids.shape, D)."""
    if isinstance(ids, Tensor):
        ids = ids.data
    xp = get_array_module(W.data if isinstance(W, Tensor) else W)
    return Embedding(xp.asarray(ids))(W)
