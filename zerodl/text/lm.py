"""Recurrent language models: the book's ``BetterRnnlm`` and its training by truncated BPTT.

    model = RNNLM(len(vocab), embed_dim=200, hidden_size=200, num_layers=2, dropout=0.5)
    opt = optim.SGD(model.parameters(), lr=20.0)
    for epoch in range(E):
        train_epoch(model, StreamBatches(train_ids, 20, 35), opt, clip=0.25)
        print(perplexity(model, StreamBatches(valid_ids, 10, 35)))

Perplexity is ``exp`` of the mean cross entropy per predicted token (natural log).
"""
import math

import numpy as np

from .. import functions as F
from .. import nn
from ..core import no_grad
from ..optim import clip_grad_norm_

__all__ = ["RNNLM", "train_epoch", "perplexity"]


class RNNLM(nn.Module):
    """Embedding -> Dropout -> LSTM/GRU (``num_layers``, dropout between layers) -> Dropout ->
    Linear to the vocabulary, whose weight is the embedding table when ``tie_weights``
    (Press & Wolf; needs ``embed_dim == hidden_size``).

    Shapes: ids int (N, T) -> logits (N, T, V). ``forward(ids, state=None)``; the recurrent
    layer's last state is ``model.rnn.state`` (carry it to the next chunk for truncated BPTT,
    after ``model.rnn.detach_state()``). ``cell``: ``"lstm"`` or ``"gru"``. The embedding is
    initialised U(-0.1, 0.1) and the output bias to zero (PyTorch's word_language_model).
    """

    def __init__(self, vocab_size, embed_dim=200, hidden_size=200, num_layers=2, dropout=0.5,
                 cell="lstm", tie_weights=True):
        super().__init__()
        cells = {"lstm": nn.LSTM, "gru": nn.GRU}
        if cell not in cells:
            raise ValueError(f"RNNLM: cell must be 'lstm' or 'gru', got {cell!r}")
        if tie_weights and embed_dim != hidden_size:
            raise ValueError(
                f"RNNLM: tie_weights needs embed_dim == hidden_size, got {embed_dim} and {hidden_size}")
        self.vocab_size, self.tie_weights = int(vocab_size), bool(tie_weights)
        self.embed = nn.Embedding(vocab_size, embed_dim)
        nn.init.uniform_(self.embed.W, -0.1, 0.1)
        self.drop = nn.Dropout(dropout)
        self.rnn = cells[cell](embed_dim, hidden_size, num_layers=num_layers, dropout=dropout,
                               return_sequences=True)
        if not tie_weights:
            self.out_W = nn.Parameter(
                nn.init.uniform_(np.empty((hidden_size, vocab_size), dtype=self._dtype), -0.1, 0.1))
        self.out_b = nn.Parameter(np.zeros(vocab_size, dtype=self._dtype))

    def forward(self, ids, state=None):
        h = self.drop(self.rnn(self.drop(self.embed(ids)), state))
        N, T, H = h.shape
        W = F.transpose(self.embed.W) if self.tie_weights else self.out_W
        return F.linear(h.reshape(N * T, H), W, self.out_b).reshape(N, T, self.vocab_size)


def _carry(model):
    """The recurrent state cut from the graph (truncated BPTT)."""
    return model.rnn.detach_state()


def train_epoch(model, batches, optimizer, clip=0.25, on_batch=None):
    """One pass of truncated BPTT over ``batches`` (``(x, t)`` int (N, T) chunks of the same
    streams, as ``data.text.StreamBatches`` gives); the state is carried between chunks and
    cut from the graph. Gradients are clipped to total norm ``clip`` (None: no clipping).
    Returns the training perplexity of the epoch."""
    model.train()
    state, total, count = None, 0.0, 0
    for i, (x, t) in enumerate(batches):
        logits = model(x, state)
        loss = F.softmax_cross_entropy(logits.reshape(-1, model.vocab_size), t.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        if clip is not None:
            clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        state = _carry(model)
        total += float(loss.data) * t.size
        count += t.size
        if on_batch is not None:
            on_batch(i, math.exp(total / count))
    return math.exp(total / count)


def perplexity(model, batches):
    """``exp`` of the mean cross entropy per token over ``batches`` (state carried, eval mode)."""
    model.eval()
    state, total, count = None, 0.0, 0
    with no_grad():
        for x, t in batches:
            logits = model(x, state)
            loss = F.softmax_cross_entropy(logits.reshape(-1, model.vocab_size), t.reshape(-1))
            state = model.rnn.state
            total += float(loss.data) * t.size
            count += t.size
    model.train()
    return math.exp(total / count)
