"""S2S: seq2seq with attention on book 2's addition task (the model of examples/seq2seq_addition.py).

Embedding(13, 16) - LSTM(16 -> 128) encoder over the 7 question characters (reversed);
Embedding(13, 16) - LSTM(16 -> 128) decoder over the 4 answer steps, started from the
encoder's last hidden state (cell zero); dot-product attention of every decoder state over
the encoder states; Linear(256 -> 13) on [context, decoder state]; softmax cross entropy
(mean over the 4 x 128 answer characters); Adam(1e-3), gradients clipped to norm 5; batch 128.
Data: ``zerodl.data.datasets.addition()`` (45,000 training pairs), consecutive batches.
Timed per ``BATCHES`` batches.
"""
from __future__ import annotations

import numpy as np

from bench.workloads.base import Options, Workload, batch_slices, linear_flops

V, D, H, BATCH, TX, TY = 13, 16, 128, 128, 7, 4
LR, CLIP, BATCHES = 1e-3, 5.0, 100


def _load(opts: Options):
    from zerodl.data import datasets

    task = datasets.addition(seed=1984)
    return np.ascontiguousarray(task.x_train[:, ::-1]), task.t_train


def _zerodl(data, opts):
    import zerodl as zd
    import zerodl.optim as optim
    from zerodl.nn.seq2seq import Seq2seq

    x, t = data
    zd.manual_seed(opts.seed)
    model = Seq2seq(V, D, H, decoder="attention")
    params = list(model.parameters())
    optimizer = optim.Adam(params, lr=LR)
    slices = batch_slices(len(x), BATCH)

    def run(n):
        for _ in range(n):
            s = next(slices)
            loss = model.loss(x[s], t[s])
            optimizer.zero_grad()
            loss.backward()
            optim.clip_grad_norm_(params, CLIP)
            optimizer.step()
        return loss.item()

    return run


def _torch(data, opts):
    import torch
    import torch.nn.functional as F
    from torch import nn

    class AttentionSeq2seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc_embed, self.dec_embed = nn.Embedding(V, D), nn.Embedding(V, D)
            self.encoder = nn.LSTM(D, H, batch_first=True)
            self.decoder = nn.LSTM(D, H, batch_first=True)
            self.out = nn.Linear(2 * H, V)

        def forward(self, xs, ts_in):
            enc, _ = self.encoder(self.enc_embed(xs))  # (N, Tx, H)
            h0 = enc[:, -1].unsqueeze(0).contiguous()
            dec, _ = self.decoder(self.dec_embed(ts_in), (h0, torch.zeros_like(h0)))
            w = torch.softmax(dec @ enc.transpose(1, 2), dim=-1)  # (N, Ty, Tx)
            return self.out(torch.cat([w @ enc, dec], dim=-1))

    x, t = (torch.from_numpy(a) for a in data)
    torch.manual_seed(opts.seed)
    model = AttentionSeq2seq()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    slices = batch_slices(len(x), BATCH)

    def run(n):
        for _ in range(n):
            s = next(slices)
            xs, ts = x[s], t[s]
            logits = model(xs, ts[:, :-1])
            loss = F.cross_entropy(logits.reshape(-1, V), ts[:, 1:].reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
            optimizer.step()
        return loss.item()

    return run


def _flops_per_batch():
    enc = TX * (linear_flops(BATCH, D, 4 * H) + linear_flops(BATCH, H, 4 * H))
    dec = TY * (linear_flops(BATCH, D, 4 * H) + linear_flops(BATCH, H, 4 * H))
    attention = 2 * 2.0 * BATCH * TY * TX * H
    out = linear_flops(BATCH * TY, 2 * H, V)
    return 3.0 * (enc + dec + attention + out)


S2S = Workload(
    key="S2S",
    title="seq2seq + attention, addition: emb 16, LSTM 128 enc/dec, batch 128, Adam + clip 5",
    frameworks=("zerodl", "torch"),
    targets={"torch": 1.0},
    load=_load,
    build=lambda framework, data, opts: {"zerodl": _zerodl, "torch": _torch}[framework](data, opts),
    batches=lambda opts: BATCHES,
    unit=lambda opts: f"{BATCHES} batches ({BATCHES * BATCH:,} questions)",
    flops_per_batch=_flops_per_batch(),
    warmup=5,
)
