"""Encoder-decoder models of "Deep Learning from Scratch 2" (chapters 7-8), and decoding.

``Seq2seq(vocab_size, wordvec_size=16, hidden_size=128, decoder="plain")`` with ``decoder``:

- ``"plain"``: the book's Seq2seq. The encoder's last hidden state h (N, H) starts the
  decoder LSTM (cell state zero); scores = Linear(decoder hs).
- ``"peeky"``: the book's PeekySeq2seq: h is also concatenated to the decoder's input at
  every step and to its output before the Linear layer.
- ``"attention"``: the book's AttentionSeq2seq. The decoder also sees every encoder state
  hs_enc (N, Tx, H): ``c_t = softmax(hs_enc @ h_t) @ hs_enc`` (a plain dot product, as the
  book: ``F.scaled_dot_product_attention(dec_hs, enc_hs, enc_hs, scale=1.0)``), and
  scores = Linear(concat(c_t, h_t)).

Training uses teacher forcing: ``model(xs, ts[:, :-1])`` gives scores (N, Ty-1, V) for the
targets ``ts[:, 1:]`` (``model.loss(xs, ts)``). ``greedy_decode`` and ``beam_search`` work
on any model with the decoding protocol below (``Seq2seq`` and ``Seq2seqTransformer``)::

    memory = model.encode(xs)                       # what the decoder attends to / starts from
    state = model.initial_state(memory)
    logits, state = model.decode_step(ids, state, memory)   # ids (N,) -> logits (N, V)

States and memories are tensors or tuples of them, batch first, so beams are rows.
"""
import numpy as np

from .. import functions as F
from ..core import Tensor
from . import init
from .attention import MultiheadAttention
from .embedding import Embedding
from .linear import Linear
from .module import Module
from .recurrent import LSTM

__all__ = ["Seq2seq", "greedy_decode", "beam_search", "exact_match"]

_DECODERS = ("plain", "peeky", "attention")


def _book_init(module):
    """The book's initialisation: weights N(0, 1/fan_in) (Xavier), biases 0 (embeddings keep N(0, 0.01))."""
    for name, p in module.named_parameters():
        if p.ndim == 2 and not name.endswith("embed.W"):
            init.normal_(p, std=float(1.0 / np.sqrt(p.shape[0])))
        elif p.ndim == 1:
            init.zeros_(p)


class Seq2seq(Module):
    """LSTM encoder-decoder (plain, peeky or with attention); see the module docstring.

    ``Seq2seq(vocab_size, wordvec_size=16, hidden_size=128, decoder="plain", peeky=False)``;
    ``decoder="peeky"`` is ``"plain"`` with ``peeky=True``; ``decoder="attention",
    peeky=True`` also peeks (the encoder's h joins the decoder's input and the output layer's).
    Beyond the book: ``attention_heads=k`` replaces the plain dot-product attention by an
    ``nn.MultiheadAttention(H, k)`` (learned projections, k heads), and ``out_hidden=m`` puts a
    tanh layer of m units before the output layer.

    Shapes: ``forward(xs (N, Tx) ids, ts_in (N, Ty) ids) -> scores (N, Ty, V)``.
    Parameters: ``encoder_embed``, ``encoder`` (LSTM D -> H), ``decoder_embed``, ``decoder``
    (LSTM D -> H, or D + H -> H when peeky), ``mha`` (with ``attention_heads``), ``out_hidden``
    (with ``out_hidden``), ``out`` (Linear H, plus H when peeky, plus H with attention, or m,
    -> V). Initialised as the book (Xavier-normal weights, zero biases).
    """

    def __init__(self, vocab_size, wordvec_size=16, hidden_size=128, decoder="plain", peeky=False,
                 attention_heads=None, out_hidden=None):
        super().__init__()
        if decoder not in _DECODERS:
            raise ValueError(f"Seq2seq: decoder must be one of {_DECODERS}, got {decoder!r}")
        V, D, H = vocab_size, wordvec_size, hidden_size
        self.peeky = bool(peeky) or decoder == "peeky"
        self.attention = decoder == "attention"
        self.hidden_size = H
        self.encoder_embed = Embedding(V, D)
        self.encoder = LSTM(D, H, return_sequences=True)
        self.decoder_embed = Embedding(V, D)
        self.decoder = LSTM(D + H if self.peeky else D, H, return_sequences=True)
        self.mha = MultiheadAttention(H, attention_heads) if self.attention and attention_heads else None
        width = H * (1 + self.peeky + self.attention)
        self.out_hidden = Linear(width, out_hidden) if out_hidden else None
        self.out = Linear(out_hidden or width, V)
        _book_init(self)

    # ----- decoding protocol ---------------------------------------------------------------
    def encode(self, xs):
        """xs (N, Tx) -> the encoder states hs (N, Tx, H) (the last one, hs[:, -1], starts the decoder)."""
        return self.encoder(self.encoder_embed(xs))

    def initial_state(self, memory):
        h = memory[:, -1]
        return h, Tensor._wrap(h.data * 0)

    def _run_decoder(self, ids, state, memory):
        """The decoder LSTM over ids (N, T): (its states (N, T, H), the peeked h (N, T, H) or None)."""
        e = self.decoder_embed(ids)
        peek = None
        if self.peeky:
            N, T = e.shape[:2]
            peek = F.broadcast_to(memory[:, -1][:, None, :], (N, T, self.hidden_size))
            e = F.concat([e, peek], axis=-1)
        return self.decoder(e, state), peek

    def _attend(self, hs, memory, return_weights=False):
        """Context vectors (N, T, H) of the decoder states over the encoder states (and the weights)."""
        if self.mha is not None:
            context, w = self.mha(hs, memory, memory, need_weights=return_weights)
            return (context, w) if return_weights else context
        return F.scaled_dot_product_attention(hs, memory, memory, scale=1.0, return_weights=return_weights)

    def decode(self, ids, state, memory):
        """ids (N, T) -> (scores (N, T, V), the LSTM's last (h, c))."""
        hs, peek = self._run_decoder(ids, state, memory)
        parts = [hs]
        if self.attention:
            parts.insert(0, self._attend(hs, memory))
        if peek is not None:
            parts.append(peek)
        y = parts[0] if len(parts) == 1 else F.concat(parts, axis=-1)
        if self.out_hidden is not None:
            y = F.tanh(self.out_hidden(y))
        h, c = self.decoder.state
        return self.out(y), (h[0], c[0])

    def decode_step(self, ids, state, memory):
        scores, state = self.decode(np.asarray(ids)[:, None], state, memory)
        return scores[:, 0], state

    def attention_weights(self, xs, ts_in):
        """The attention maps (N, Ty, Tx) of the attention decoder under teacher forcing."""
        if not self.attention:
            raise ValueError("Seq2seq: attention_weights needs decoder='attention'")
        memory = self.encode(xs)
        hs, _ = self._run_decoder(ts_in, self.initial_state(memory), memory)
        return self._attend(hs, memory, return_weights=True)[1]

    # ----- training --------------------------------------------------------------------------
    def forward(self, xs, ts_in):
        memory = self.encode(xs)
        return self.decode(ts_in, self.initial_state(memory), memory)[0]

    def loss(self, xs, ts):
        """Teacher forcing: mean cross entropy of ``self(xs, ts[:, :-1])`` against ``ts[:, 1:]``."""
        return F.softmax_cross_entropy(self(xs, ts[:, :-1]), ts[:, 1:])

    def extra_repr(self):
        kind = "attention" if self.attention else "plain"
        return f"decoder={kind!r}, peeky={self.peeky}, hidden_size={self.hidden_size}"


# ----- decoding -----------------------------------------------------------------------------
def _take(obj, index):
    """Rows ``index`` of a tensor / array, or of every entry of a tuple of them."""
    if obj is None:
        return None
    if isinstance(obj, tuple):
        return tuple(_take(o, index) for o in obj)
    data = obj.data if isinstance(obj, Tensor) else obj
    return Tensor._wrap(data[index]) if isinstance(obj, Tensor) else data[index]


def greedy_decode(model, xs, start_id, length):
    """Feed back the most likely token ``length`` times: xs (N, Tx) -> ids (N, length) (int64)."""
    with model.switch_mode():  # eval, no graph; every sub-module's own mode back afterwards
        memory = model.encode(xs)
        state = model.initial_state(memory)
        ids = np.full(len(xs), start_id, dtype=np.int64)
        out = []
        for _ in range(length):
            logits, state = model.decode_step(ids, state, memory)
            ids = np.asarray(logits.data.argmax(axis=-1), dtype=np.int64)
            out.append(ids)
    return np.stack(out, axis=1)


def beam_search(model, xs, start_id, length, beam_width=3):
    """Keep the ``beam_width`` most likely prefixes (sum of log-probabilities) at every step.

    xs (N, Tx) -> ids (N, length) (int64), the best of the final beams; ``beam_width=1`` is
    greedy decoding. Beams are extra rows: the work is that of a batch of N * beam_width.
    """
    if beam_width < 1:
        raise ValueError(f"beam_search: beam_width must be >= 1, got {beam_width}")
    N, B = len(xs), int(beam_width)
    with model.switch_mode():  # eval, no graph; every sub-module's own mode back afterwards
        rows = np.repeat(np.arange(N), B)  # row n * B + b is beam b of sample n
        memory = _take(model.encode(xs), rows)
        state = model.initial_state(memory)
        ids = np.full(N * B, start_id, dtype=np.int64)
        score = np.full((N, B), -np.inf)
        score[:, 0] = 0.0  # all beams start equal: keep one so that the first step does not repeat it
        seqs = np.zeros((N, B, 0), dtype=np.int64)
        for _ in range(length):
            logits, state = model.decode_step(ids, state, memory)
            logp = F.log_softmax(logits).data.astype(np.float64).reshape(N, B, -1)
            V = logp.shape[-1]
            total = (score[:, :, None] + logp).reshape(N, -1)
            best = np.argsort(-total, axis=1, kind="stable")[:, :B]  # (N, B) in B * V
            beam, tok = np.divmod(best, V)
            score = np.take_along_axis(total, best, axis=1)
            seqs = np.concatenate([np.take_along_axis(seqs, beam[:, :, None], axis=1), tok[:, :, None]], axis=2)
            src = (np.arange(N)[:, None] * B + beam).reshape(-1)
            state = _take(state, src)
            ids = tok.reshape(-1).astype(np.int64)
    return seqs[:, 0]


def exact_match(model, xs, ts, batch_size=1000, beam_width=1):
    """Fraction of questions whose whole decoded answer equals ``ts[:, 1:]`` (``ts[:, 0]`` is the start id).

    Returns ``(accuracy, predictions (N, Ty - 1))``; greedy with ``beam_width=1``.
    """
    preds = []
    for i in range(0, len(xs), batch_size):
        x, t = xs[i:i + batch_size], ts[i:i + batch_size]
        if beam_width == 1:
            preds.append(greedy_decode(model, x, int(t[0, 0]), ts.shape[1] - 1))
        else:
            preds.append(beam_search(model, x, int(t[0, 0]), ts.shape[1] - 1, beam_width))
    pred = np.concatenate(preds)
    return float(np.mean(np.all(pred == ts[:, 1:], axis=1))), pred
