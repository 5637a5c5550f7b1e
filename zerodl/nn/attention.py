"""Multi-head attention (Vaswani et al. 2017), over ``F.scaled_dot_product_attention``."""
import math

import numpy as np

from .. import functions as F
from ..core import Tensor
from ..core.backend import get_array_module
from . import init
from .linear import Linear
from ._checks import as_input, positive_int, shape_str
from .module import Module
from .parameter import Parameter

__all__ = ["MultiheadAttention"]


def _bool_mask(mask, what):
    raw = mask.data if isinstance(mask, Tensor) else mask
    raw = raw if hasattr(raw, "dtype") else np.asarray(raw)
    if raw.dtype != bool:
        raise TypeError(
            f"MultiheadAttention: {what} must be boolean (True = not allowed, as PyTorch's), got dtype "
            f"{raw.dtype}"
        )
    return raw


class MultiheadAttention(Module):
    """``MultiheadAttention(embed_dim, num_heads, dropout=0.0, bias=True, batch_first=True)``.

    With E = embed_dim, h = num_heads and d = E / h::

        Q = query @ Wq + bq,  K = key @ Wk + bk,  V = value @ Wv + bv      (each split into h heads of d)
        head_i = softmax(Q_i K_i^T / sqrt(d), masked) @ V_i                  (F.scaled_dot_product_attention)
        out = concat(head_1, ..., head_h) @ Wo + bo

    ``forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False) -> (out, weights)``, PyTorch's call:

    - query (N, L, E), key and value (N, S, E) (``batch_first=False``: (L, N, E) and (S, N, E));
      out (N, L, E) (or (L, N, E)).
    - ``key_padding_mask`` (N, S), boolean, True at padded keys, which are ignored.
    - ``attn_mask`` (L, S) or (N * h, L, S), boolean, True where query i may NOT attend to key
      j (PyTorch's MultiheadAttention convention; ``F.scaled_dot_product_attention``'s
      ``mask`` is the opposite, True = allowed). ``is_causal=True`` without ``attn_mask``
      masks every key after the query's position.
    - weights: (N, L, S) averaged over heads, (N, h, L, S) with ``average_attn_weights=False``,
      None with ``need_weights=False``; taken before dropout.

    Parameters: ``in_proj_W`` (E, 3E) = [Wq | Wk | Wv] (PyTorch's ``in_proj_weight.T``),
    Xavier-uniform; ``in_proj_b`` (3E,), zeros; ``out_proj`` a ``Linear(E, E)`` (W uniform in
    +-1/sqrt(E), bias zero, as PyTorch). ``dropout`` drops attention weights in training.
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, batch_first=True):
        super().__init__()
        self.embed_dim = positive_int(embed_dim, "embed_dim", "MultiheadAttention")
        self.num_heads = positive_int(num_heads, "num_heads", "MultiheadAttention")
        if self.embed_dim % self.num_heads:
            raise ValueError(
                f"MultiheadAttention: embed_dim {embed_dim} is not divisible by num_heads {num_heads}"
            )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"MultiheadAttention: dropout must be in [0, 1), got {dropout!r}")
        self.dropout, self.use_bias, self.batch_first = float(dropout), bool(bias), bool(batch_first)
        E, dt = self.embed_dim, self._dtype
        self.in_proj_W = Parameter(init.xavier_uniform_(np.empty((E, 3 * E), dtype=dt)), dtype=dt)
        self.register_parameter("in_proj_b", None)
        if self.use_bias:
            self.in_proj_b = Parameter(np.zeros(3 * E, dtype=dt), dtype=dt)
        self.out_proj = Linear(E, E, bias=self.use_bias)
        bound = 1.0 / math.sqrt(E)
        init.uniform_(self.out_proj.W, -bound, bound)

    def _tag(self):
        return f"MultiheadAttention({self.embed_dim}, num_heads={self.num_heads})"

    def _project(self, x, part):
        """x (N, T, E) -> the heads of its projection(s) ``part`` (a slice of the 3 blocks)."""
        E = self.embed_dim
        W = self.in_proj_W[:, part[0] * E:part[1] * E]
        b = None if self.in_proj_b is None else self.in_proj_b[part[0] * E:part[1] * E]
        return F.linear(x, W, b)

    def _heads(self, y, N, T):
        """(N, T, E) -> (N, h, T, d)."""
        h = self.num_heads
        return y.reshape(N, T, h, self.embed_dim // h).transpose(0, 2, 1, 3)

    def _check(self, query, key, value):
        E = self.embed_dim
        for name, t in (("query", query), ("key", key), ("value", value)):
            if t.ndim != 3 or t.shape[-1] != E:
                layout = "(N, T, E)" if self.batch_first else "(T, N, E)"
                raise ValueError(
                    f"{self._tag()}: {name} must have shape {layout} with E={E}, got shape {shape_str(t.shape)}"
                )
        b = 0 if self.batch_first else 1
        if key.shape[:2] != value.shape[:2] or query.shape[b] != key.shape[b]:
            raise ValueError(
                f"{self._tag()}: query {shape_str(query.shape)}, key {shape_str(key.shape)} and value "
                f"{shape_str(value.shape)} must share the batch size, and key and value the length"
            )

    def _allowed(self, key_padding_mask, attn_mask, is_causal, N, L, S):
        """The combined boolean mask, True = allowed, broadcastable to (N, h, L, S), or None."""
        h, allowed = self.num_heads, None
        if key_padding_mask is not None:
            kpm = _bool_mask(key_padding_mask, "key_padding_mask")
            if tuple(kpm.shape) != (N, S):
                raise ValueError(f"{self._tag()}: key_padding_mask must have shape (N, S) = ({N}, {S}), "
                                 f"got {shape_str(kpm.shape)}")
            allowed = ~kpm[:, None, None, :]
        if attn_mask is None and is_causal:
            xp = get_array_module(allowed) if allowed is not None else np
            attn_mask = xp.triu(xp.ones((L, S), dtype=bool), k=1)
        if attn_mask is not None:
            am = _bool_mask(attn_mask, "attn_mask")
            if tuple(am.shape) == (N * h, L, S):
                am = am.reshape(N, h, L, S)
            elif tuple(am.shape) != (L, S):
                raise ValueError(f"{self._tag()}: attn_mask must have shape (L, S) = ({L}, {S}) or "
                                 f"(N * num_heads, L, S) = ({N * h}, {L}, {S}), got {shape_str(am.shape)}")
            allowed = ~am if allowed is None else allowed & ~am
        return allowed

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        query, key, value = as_input(query), as_input(key), as_input(value)
        self._check(query, key, value)
        if not self.batch_first:
            same = (query is key, key is value)
            query, key, value = (F.transpose(t, 1, 0, 2) for t in (query, key, value))
            key = query if same[0] else key
            value = key if same[1] else value
        N, L, _ = query.shape
        S = key.shape[1]
        if query is key and key is value:  # self-attention: one GEMM for Q, K and V
            q, k, v = (self._heads(y, N, L) for y in _split3(self._project(query, (0, 3)), self.embed_dim))
        elif key is value:  # encoder-decoder attention: one GEMM for K and V
            q = self._heads(self._project(query, (0, 1)), N, L)
            kv = self._project(key, (1, 3))
            k, v = self._heads(kv[..., :self.embed_dim], N, S), self._heads(kv[..., self.embed_dim:], N, S)
        else:
            q = self._heads(self._project(query, (0, 1)), N, L)
            k = self._heads(self._project(key, (1, 2)), N, S)
            v = self._heads(self._project(value, (2, 3)), N, S)
        mask = self._allowed(key_padding_mask, attn_mask, is_causal, N, L, S)
        p = self.dropout if self.training else 0.0
        o, w = F.scaled_dot_product_attention(q, k, v, mask=mask, dropout_p=p, return_weights=True)
        out = self.out_proj(o.transpose(0, 2, 1, 3).reshape(N, L, self.embed_dim))
        if not self.batch_first:
            out = F.transpose(out, 1, 0, 2)
        if not need_weights:
            return out, None
        return out, (w.mean(axis=1) if average_attn_weights else w)

    def get_config(self):
        return {"embed_dim": self.embed_dim, "num_heads": self.num_heads, "dropout": self.dropout,
                "bias": self.use_bias, "batch_first": self.batch_first}

    def extra_repr(self):
        return f"{self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}, batch_first={self.batch_first}"


def _split3(y, E):
    return y[..., :E], y[..., E:2 * E], y[..., 2 * E:]
