"""Positional encodings for attention models: fixed sinusoids or a learned table, added to (N, T, D)."""
import numpy as np

from .. import functions as F
from ..core import as_tensor
from ..core.backend import get_array_module
from . import init
from ._checks import as_input, positive_int, shape_str
from .module import Module
from .parameter import Parameter

__all__ = ["sinusoidal_encoding", "SinusoidalPositionalEncoding", "LearnedPositionalEncoding"]


def sinusoidal_encoding(length, dim, dtype=np.float32, base=10000.0):
    """The (length, dim) table of Vaswani et al. (2017), as a NumPy array::

        PE[t, 2i]   = sin(t / base**(2i / dim))
        PE[t, 2i+1] = cos(t / base**(2i / dim))
    """
    t = np.arange(length, dtype=np.float64)[:, None]
    freq = base ** (-np.arange(0, dim, 2, dtype=np.float64) / dim)
    pe = np.zeros((length, dim))
    pe[:, 0::2] = np.sin(t * freq)
    pe[:, 1::2] = np.cos(t * freq[: dim // 2])
    return pe.astype(dtype)


def _check_input(layer, x, dim, max_len):
    if x.ndim != 3 or x.shape[-1] != dim:
        raise ValueError(f"{layer}: expected input of shape (N, T, {dim}), got shape {shape_str(x.shape)}")
    if x.shape[1] > max_len:
        raise ValueError(f"{layer}: the sequence has {x.shape[1]} steps, more than max_len={max_len}")


class SinusoidalPositionalEncoding(Module):
    """``y = x * scale + PE[:T]`` with the fixed sinusoid table (``sinusoidal_encoding``), then dropout.

    ``SinusoidalPositionalEncoding(d_model, max_len=5000, dropout=0.0, scale=1.0)``; the
    Transformer paper multiplies token embeddings by ``sqrt(d_model)`` first (``scale=``).
    No parameters; the table is rebuilt, not saved. Shapes: input (N, T, d_model), T <= max_len;
    output the same.
    """

    def __init__(self, d_model, max_len=5000, dropout=0.0, scale=1.0):
        super().__init__()
        self.d_model = positive_int(d_model, "d_model", "SinusoidalPositionalEncoding")
        self.max_len = positive_int(max_len, "max_len", "SinusoidalPositionalEncoding")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"SinusoidalPositionalEncoding: dropout must be in [0, 1), got {dropout!r}")
        self.dropout, self.scale = float(dropout), float(scale)
        self._tables = {}

    def table(self, T, like):
        """PE[:T] in ``like``'s dtype and array module (cached per dtype)."""
        key = like.dtype
        pe = self._tables.get(key)
        if pe is None:
            pe = get_array_module(like).asarray(sinusoidal_encoding(self.max_len, self.d_model, like.dtype))
            self._tables[key] = pe
        return pe[:T]

    def forward(self, x):
        x = as_tensor(as_input(x))
        _check_input("SinusoidalPositionalEncoding", x, self.d_model, self.max_len)
        y = (x * self.scale if self.scale != 1.0 else x) + self.table(x.shape[1], x.data)
        return F.dropout(y, self.dropout, training=self.training)

    def extra_repr(self):
        return f"{self.d_model}, max_len={self.max_len}, dropout={self.dropout}, scale={self.scale}"


class LearnedPositionalEncoding(Module):
    """``y = x * scale + W[:T]`` with a learned (max_len, d_model) table ``W`` (BERT/GPT style), then dropout.

    ``LearnedPositionalEncoding(max_len, d_model, dropout=0.0, scale=1.0)``; ``W`` starts as
    N(0, 0.02**2). Shapes: input (N, T, d_model), T <= max_len; output the same.
    """

    def __init__(self, max_len, d_model, dropout=0.0, scale=1.0):
        super().__init__()
        self.max_len = positive_int(max_len, "max_len", "LearnedPositionalEncoding")
        self.d_model = positive_int(d_model, "d_model", "LearnedPositionalEncoding")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"LearnedPositionalEncoding: dropout must be in [0, 1), got {dropout!r}")
        self.dropout, self.scale = float(dropout), float(scale)
        dt = self._dtype
        self.W = Parameter(init.normal_(np.empty((self.max_len, self.d_model), dtype=dt), std=0.02), dtype=dt)

    def forward(self, x):
        x = as_tensor(as_input(x))
        _check_input("LearnedPositionalEncoding", x, self.d_model, self.max_len)
        y = (x * self.scale if self.scale != 1.0 else x) + self.W[: x.shape[1]]
        return F.dropout(y, self.dropout, training=self.training)

    def extra_repr(self):
        return f"{self.max_len}, {self.d_model}, dropout={self.dropout}, scale={self.scale}"
