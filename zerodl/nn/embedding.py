"""Embedding layer: a lookup table of vectors (the book's word2vec Embedding)."""
import numpy as np

from .. import functions as F
from ..core import Tensor
from . import init
from ._checks import as_input
from .module import Module
from .parameter import Parameter

__all__ = ["Embedding"]


class Embedding(Module):
    """Row ``ids`` of a (num_embeddings, embedding_dim) table.

    Parameter ``W`` of shape (num_embeddings, embedding_dim), initialised N(0, 0.01**2) as the
    book's word2vec does (PyTorch uses N(0, 1); re-initialise with ``nn.init.normal_(emb.W)``
    for that). Its gradient adds up the rows of repeated ids. With ``sparse=True`` (PyTorch's
    name) ``W.grad`` is a ``F.RowSparseGrad`` holding only the rows that were looked up:
    nothing of size (num_embeddings, embedding_dim) is filled or scanned by the backward pass or
    by plain SGD (optimizers with per-element state, such as Adam, expand it to the dense array
    and give the dense result).

    Shapes: input ids, integers in [0, num_embeddings), any shape S (typically (N,) or (N, T));
    output S + (embedding_dim,), e.g. (N, T, D). Float arrays of whole numbers (from a generic
    loader) are accepted as ids; an id out of range raises ``IndexError`` naming the layer.
    """

    def __init__(self, num_embeddings, embedding_dim, sparse=False):
        super().__init__()
        for what, v in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
                raise ValueError(f"Embedding: {what} must be a positive integer, got {v!r}")
        self.num_embeddings = int(num_embeddings)
        self.embedding_dim = int(embedding_dim)
        self.sparse = bool(sparse)
        W = init.normal_(np.empty((self.num_embeddings, self.embedding_dim), dtype=self._dtype), std=0.01)
        self.W = Parameter(W, dtype=self._dtype)

    def _tag(self):
        return f"Embedding({self.num_embeddings}, {self.embedding_dim})"

    def forward(self, ids):
        raw = ids.data if isinstance(ids, Tensor) else as_input(ids)
        if raw.dtype.kind not in "iu":
            if raw.dtype.kind == "f" and raw.size and (raw == raw.astype(np.int64)).all():
                raw = raw.astype(np.int64)  # float ids from a generic loader: accept whole numbers
            else:
                raise TypeError(f"{self._tag()}: expected integer ids, got dtype {raw.dtype}")
        if raw.size:
            lo, hi = int(raw.min()), int(raw.max())
            if lo < 0 or hi >= self.num_embeddings:
                bad = lo if lo < 0 else hi
                raise IndexError(
                    f"{self._tag()}: id {bad} is out of range [0, {self.num_embeddings}) "
                    f"(ids of shape {tuple(raw.shape)})"
                )
        return F.embedding(raw, self.W, sparse=self.sparse)

    def _input_dtype(self):
        return np.int64

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}" + (", sparse=True" if self.sparse else "")
