"""W4: LSTM language-model training, the PTB example's recipe at small scale.

Embedding(10,000, 100) - LSTM(100 -> 100) over 35 time steps - Linear(100 -> 10,000),
batch 20, softmax cross entropy over all time steps (mean over the 700 tokens),
SGD(lr 20) with gradient-norm clipping at 0.25, truncated BPTT: the LSTM state is carried
from batch to batch and detached.  Data: a fixed synthetic corpus of seeded random token
ids, cut into 20 streams as PTB's batchify does.  Timed per ``--lstm-batches`` batches.
"""
from __future__ import annotations

import numpy as np

from bench.data import make_corpus
from bench.workloads.base import Options, Workload, linear_flops

VOCAB, EMBED, HIDDEN, STEPS, BATCH = 10_000, 100, 100, 35, 20
LR, CLIP = 20.0, 0.25


class Corpus:
    """PTB-style batches: stream matrix (BATCH, L); batch i is columns [i*T, (i+1)*T) and
    its targets are the same columns shifted by one."""

    def __init__(self, n_batches: int, seed: int):
        length = BATCH * (STEPS * n_batches + 1)
        self.streams = make_corpus(VOCAB, length, seed).reshape(BATCH, -1)
        self.n_batches = n_batches

    def batches(self):
        i = 0
        while True:
            a = (i % self.n_batches) * STEPS
            yield self.streams[:, a:a + STEPS], self.streams[:, a + 1:a + STEPS + 1]
            i += 1


def _zerodl(corpus, opts):
    import zerodl as zd
    import zerodl.functions as F
    import zerodl.nn as nn
    import zerodl.optim as optim

    class LanguageModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(VOCAB, EMBED)
            self.lstm = nn.LSTM(EMBED, HIDDEN, return_sequences=True)
            self.fc = nn.Linear(HIDDEN, VOCAB)

        def forward(self, ids, state=None):
            h = self.lstm(self.embed(ids), state)  # (N, T, H)
            return self.fc(h.reshape(-1, HIDDEN))  # (N*T, V)

    zd.manual_seed(opts.seed)
    model = LanguageModel()
    params = list(model.parameters())
    optimizer = optim.SGD(params, lr=LR)
    batches = corpus.batches()
    state = None

    def run(n):
        nonlocal state
        for _ in range(n):
            x, t = next(batches)
            loss = F.softmax_cross_entropy(model(x, state), t.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            optim.clip_grad_norm_(params, CLIP)
            optimizer.step()
            model.lstm.detach_state()
            state = model.lstm.state
        return loss.item()

    return run


def _torch(corpus, opts):
    import torch
    import torch.nn.functional as F
    from torch import nn

    class LanguageModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(VOCAB, EMBED)
            self.lstm = nn.LSTM(EMBED, HIDDEN, batch_first=True)
            self.fc = nn.Linear(HIDDEN, VOCAB)

        def forward(self, ids, state=None):
            h, state = self.lstm(self.embed(ids), state)
            return self.fc(h.reshape(-1, HIDDEN)), state

    torch.manual_seed(opts.seed)
    model = LanguageModel()
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    batches = ((torch.from_numpy(x), torch.from_numpy(np.ascontiguousarray(t)))
               for x, t in corpus.batches())
    state = None

    def run(n):
        nonlocal state
        for _ in range(n):
            x, t = next(batches)
            logits, state = model(x, state)
            loss = F.cross_entropy(logits, t.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
            optimizer.step()
            state = tuple(s.detach() for s in state)
        return loss.item()

    return run


def build(framework, corpus, opts: Options):
    return {"zerodl": _zerodl, "torch": _torch}[framework](corpus, opts)


def _flops_per_batch():
    n = BATCH * STEPS
    # every GEMM needs dW and dX in backward (the embedding is trained, so the LSTM's
    # input gradient is needed too): 3x the forward
    lstm = STEPS * (linear_flops(BATCH, EMBED, 4 * HIDDEN) + linear_flops(BATCH, HIDDEN, 4 * HIDDEN))
    return 3.0 * (lstm + linear_flops(n, HIDDEN, VOCAB))


W4 = Workload(
    key="W4",
    title="LSTM LM: vocab 10k, emb 100, hidden 100, 35 steps, batch 20, SGD(20)+clip 0.25",
    frameworks=("zerodl", "torch"),
    targets={"torch": 1.0},
    load=lambda opts: Corpus(opts.lstm_batches + W4.warmup, opts.seed),
    build=build,
    batches=lambda opts: opts.lstm_batches,
    unit=lambda opts: f"{opts.lstm_batches} batches ({opts.lstm_batches * BATCH * STEPS:,} tokens)",
    flops_per_batch=_flops_per_batch(),
    warmup=3,
)
