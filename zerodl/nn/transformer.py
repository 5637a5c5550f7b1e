"""The Transformer (Vaswani et al. 2017): encoder and decoder layers, and a small seq2seq model.

``TransformerEncoderLayer`` / ``TransformerDecoderLayer`` take PyTorch's arguments and masks
(``batch_first=True`` here); ``Seq2seqTransformer`` is an encoder-decoder over token ids with
the decoding protocol of ``zerodl.nn.seq2seq`` (``greedy_decode``, ``beam_search``).
"""
import math

import numpy as np

from .. import functions as F
from ..core import Tensor
from . import init
from .attention import MultiheadAttention
from .container import ModuleList
from .dropout import Dropout
from .embedding import Embedding
from .linear import Linear
from ._checks import positive_int
from .module import Module
from .normalization import LayerNorm
from .positional import SinusoidalPositionalEncoding

__all__ = ["TransformerEncoderLayer", "TransformerDecoderLayer", "Seq2seqTransformer", "causal_mask"]

_ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}


def causal_mask(T):
    """(T, T) boolean, True above the diagonal: step i may not attend to the later steps j > i
    (PyTorch's ``nn.Transformer.generate_square_subsequent_mask`` as a boolean mask)."""
    return np.triu(np.ones((T, T), dtype=bool), k=1)


class _FeedForward(Module):
    """``linear2(dropout(activation(linear1(x))))``: d_model -> dim_feedforward -> d_model."""

    def __init__(self, d_model, dim_feedforward, dropout, activation):
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(f"Transformer: activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
        self.activation = activation
        self.linear1 = Linear(d_model, dim_feedforward)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model)
        for lin in (self.linear1, self.linear2):  # PyTorch's Linear default, U(+-1/sqrt(fan_in))
            bound = 1.0 / math.sqrt(lin.in_features)
            init.uniform_(lin.W, -bound, bound)

    def forward(self, x):
        return self.linear2(self.dropout(_ACTIVATIONS[self.activation](self.linear1(x))))


class _Layer(Module):
    """Residual blocks ``x + dropout(block(x))``, LayerNorm after (post-norm, the paper's and
    PyTorch's default) or before the block (``norm_first=True``)."""

    def _residual(self, x, norm, dropout, block):
        if self.norm_first:
            return x + dropout(block(norm(x)))
        return norm(x + dropout(block(x)))


class TransformerEncoderLayer(_Layer):
    """Self-attention then a feed-forward block, each residual with LayerNorm (PyTorch's layer).

    ``TransformerEncoderLayer(d_model, nhead, dim_feedforward=2048, dropout=0.1,
    activation="relu", layer_norm_eps=1e-5, batch_first=True, norm_first=False)``.
    ``forward(src (N, S, E), src_mask=None, src_key_padding_mask=None) -> (N, S, E)``; masks
    as ``MultiheadAttention``'s (boolean, True = not allowed / padded).
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=True, norm_first=False):
        super().__init__()
        if not batch_first:
            raise ValueError("TransformerEncoderLayer: only batch_first=True (input (N, S, E)) is supported")
        self.norm_first = bool(norm_first)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout)
        self.ff = _FeedForward(d_model, positive_int(dim_feedforward, "dim_feedforward", "Transformer"),
                               dropout, activation)
        self.norm1, self.norm2 = LayerNorm(d_model, layer_norm_eps), LayerNorm(d_model, layer_norm_eps)
        self.dropout1, self.dropout2 = Dropout(dropout), Dropout(dropout)

    def forward(self, src, src_mask=None, src_key_padding_mask=None):
        def sa(x):
            return self.self_attn(x, x, x, key_padding_mask=src_key_padding_mask, attn_mask=src_mask,
                                  need_weights=False)[0]

        x = self._residual(src, self.norm1, self.dropout1, sa)
        return self._residual(x, self.norm2, self.dropout2, self.ff)


class TransformerDecoderLayer(_Layer):
    """Masked self-attention, attention over the encoder's memory, then a feed-forward block.

    ``TransformerDecoderLayer(d_model, nhead, dim_feedforward=2048, dropout=0.1,
    activation="relu", layer_norm_eps=1e-5, batch_first=True, norm_first=False)``.
    ``forward(tgt (N, T, E), memory (N, S, E), tgt_mask=None, memory_mask=None,
    tgt_key_padding_mask=None, memory_key_padding_mask=None, tgt_is_causal=False) -> (N, T, E)``.
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=True, norm_first=False):
        super().__init__()
        if not batch_first:
            raise ValueError("TransformerDecoderLayer: only batch_first=True (input (N, T, E)) is supported")
        self.norm_first = bool(norm_first)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout)
        self.cross_attn = MultiheadAttention(d_model, nhead, dropout=dropout)
        self.ff = _FeedForward(d_model, positive_int(dim_feedforward, "dim_feedforward", "Transformer"),
                               dropout, activation)
        self.norm1, self.norm2, self.norm3 = (LayerNorm(d_model, layer_norm_eps) for _ in range(3))
        self.dropout1, self.dropout2, self.dropout3 = Dropout(dropout), Dropout(dropout), Dropout(dropout)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False):
        def sa(x):
            return self.self_attn(x, x, x, key_padding_mask=tgt_key_padding_mask, attn_mask=tgt_mask,
                                  is_causal=tgt_is_causal, need_weights=False)[0]

        def ca(x):
            return self.cross_attn(x, memory, memory, key_padding_mask=memory_key_padding_mask,
                                   attn_mask=memory_mask, need_weights=False)[0]

        x = self._residual(tgt, self.norm1, self.dropout1, sa)
        x = self._residual(x, self.norm2, self.dropout2, ca)
        return self._residual(x, self.norm3, self.dropout3, self.ff)


class Seq2seqTransformer(Module):
    """A small encoder-decoder Transformer over token ids (source and target share a vocabulary).

    ``Seq2seqTransformer(vocab_size, d_model=64, nhead=4, num_encoder_layers=2,
    num_decoder_layers=2, dim_feedforward=256, dropout=0.1, max_len=128, pad_id=None,
    norm_first=True)``. Tokens are embedded (N(0, 1/d_model), times sqrt(d_model)) plus the
    sinusoidal positional encoding; the decoder's self-attention is causal; with ``pad_id``
    the source's trailing pad tokens are masked out of every attention over it.
    With ``norm_first`` (pre-norm) a final LayerNorm follows each stack.

    Shapes: ``forward(xs (N, S) ids, ts_in (N, T) ids) -> scores (N, T, V)``;
    ``loss(xs, ts)`` is the teacher-forcing cross entropy against ``ts[:, 1:]``.
    """

    def __init__(self, vocab_size, d_model=64, nhead=4, num_encoder_layers=2, num_decoder_layers=2,
                 dim_feedforward=256, dropout=0.1, max_len=128, pad_id=None, norm_first=True):
        super().__init__()
        V, d = positive_int(vocab_size, "vocab_size", "Seq2seqTransformer"), d_model
        self.pad_id, self.norm_first = pad_id, bool(norm_first)
        self.src_embed, self.tgt_embed = Embedding(V, d), Embedding(V, d)
        for emb in (self.src_embed, self.tgt_embed):
            init.normal_(emb.W, std=float(d ** -0.5))
        self.pos = SinusoidalPositionalEncoding(d, max_len, dropout, scale=math.sqrt(d))
        kw = dict(dim_feedforward=dim_feedforward, dropout=dropout, norm_first=norm_first)
        self.encoder = ModuleList([TransformerEncoderLayer(d, nhead, **kw) for _ in range(num_encoder_layers)])
        self.decoder = ModuleList([TransformerDecoderLayer(d, nhead, **kw) for _ in range(num_decoder_layers)])
        if self.norm_first:
            self.encoder_norm, self.decoder_norm = LayerNorm(d), LayerNorm(d)
        self.out = Linear(d, V)

    def source_padding_mask(self, xs):
        """(N, S) boolean, True at the trailing ``pad_id`` tokens of each source (None without pad_id)."""
        if self.pad_id is None:
            return None
        xs = np.asarray(xs.data if isinstance(xs, Tensor) else xs)
        real = xs != self.pad_id
        length = xs.shape[1] - np.argmax(real[:, ::-1], axis=1)
        length[~real.any(axis=1)] = 1  # an all-pad source keeps one key
        return np.arange(xs.shape[1])[None, :] >= length[:, None]

    def encode(self, xs):
        """xs (N, S) -> (memory (N, S, d), source padding mask (N, S) or None)."""
        kpm = self.source_padding_mask(xs)
        h = self.pos(self.src_embed(xs))
        for layer in self.encoder:
            h = layer(h, src_key_padding_mask=kpm)
        if self.norm_first:
            h = self.encoder_norm(h)
        return h, kpm

    def decode(self, ts_in, memory):
        """ts_in (N, T) ids, memory from ``encode`` -> scores (N, T, V) (causal)."""
        mem, kpm = memory
        h = self.pos(self.tgt_embed(ts_in))
        mask = causal_mask(h.shape[1])
        for layer in self.decoder:
            h = layer(h, mem, tgt_mask=mask, memory_key_padding_mask=kpm)
        if self.norm_first:
            h = self.decoder_norm(h)
        return self.out(h)

    def initial_state(self, memory):
        return np.zeros((memory[0].shape[0], 0), dtype=np.int64)  # the tokens fed so far

    def decode_step(self, ids, state, memory):
        """Append ``ids`` (N,) to the prefix and rerun the decoder over it (no key-value cache)."""
        prefix = np.concatenate([state, np.asarray(ids, dtype=np.int64)[:, None]], axis=1)
        return self.decode(prefix, memory)[:, -1], prefix

    def forward(self, xs, ts_in):
        return self.decode(ts_in, self.encode(xs))

    def loss(self, xs, ts):
        return F.softmax_cross_entropy(self(xs, ts[:, :-1]), ts[:, 1:])
