"""PyTorch twin of examples/rnnlm.py: the same model, data and schedule, trained in PyTorch.

The data (vocabulary, id streams, BPTT batches) comes from zerodl itself (``kjv_lm_splits``,
``StreamBatches``), the hyper-parameters and the learning-rate schedule from
examples/rnnlm.py (``DEFAULTS``, ``lr_at``), so the two runs differ only in the framework.
Initialisation follows the same distributions: embedding (= tied output weight)
U(-0.1, 0.1), LSTM weights U(-1/sqrt(H), 1/sqrt(H)) (both frameworks' default), one LSTM
bias (PyTorch's ``bias_hh`` set to zero: zerodl has a single bias), output bias zero.

    /work/venv-torch/bin/python bench/rnnlm_torch.py [--epochs N] [--quick] ...   (PYTHONPATH=. for zerodl)

Prints the validation perplexity per epoch and the test perplexity once, as
``result: test_perplexity = ...``.
"""
import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))
sys.path.insert(0, str(ROOT))

import rnnlm as Z  # noqa: E402  (examples/rnnlm.py: DEFAULTS, QUICK, lr_at, load_data)
from zerodl.data.text import StreamBatches  # noqa: E402


class TorchLM(nn.Module):
    def __init__(self, V, H, layers, dropout, cell):
        super().__init__()
        self.embed = nn.Embedding(V, H)
        nn.init.uniform_(self.embed.weight, -0.1, 0.1)
        self.drop = nn.Dropout(dropout)
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        self.rnn = rnn(H, H, layers, dropout=dropout, batch_first=True)
        if cell == "lstm":
            with torch.no_grad():
                for name, p in self.rnn.named_parameters():
                    if name.startswith("bias_hh"):
                        p.zero_()
        self.out = nn.Linear(H, V)
        self.out.weight = self.embed.weight
        nn.init.zeros_(self.out.bias)

    def forward(self, ids, state=None):
        h, state = self.rnn(self.drop(self.embed(ids)), state)
        return self.out(self.drop(h)), state


def detach(state):
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def run_epoch(model, batches, opt=None, clip=None):
    model.train(opt is not None)
    state, total, count = None, 0.0, 0
    lossf = nn.CrossEntropyLoss()
    with torch.set_grad_enabled(opt is not None):
        for x, t in batches:
            x, t = torch.from_numpy(x), torch.from_numpy(t)
            logits, state = model(x, state)
            loss = lossf(logits.reshape(-1, logits.shape[-1]), t.reshape(-1))
            if opt is not None:
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), clip)
                opt.step()
            state = detach(state)
            total += loss.item() * t.numel()
            count += t.numel()
    return math.exp(total / count)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default=None)
    Z.add_options(parser)
    args = Z.finish_args(parser.parse_args(argv))
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    vocab, splits, source = Z.load_data(args, argv)
    print(f"data: {source}; vocabulary {len(vocab)}; tokens train {len(splits['train'])}")
    model = TorchLM(len(vocab), args.hidden, args.layers, args.dropout, args.cell)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr)
    train = StreamBatches(splits["train"], args.batch_size, args.bptt)
    valid = StreamBatches(splits["valid"], 10, args.bptt)
    test = StreamBatches(splits["test"], 10, args.bptt)
    print(f"torch {torch.__version__}, 1 thread; {len(train)} batches/epoch")
    t0 = time.time()
    for epoch in range(args.epochs):
        lr = Z.lr_at(epoch, args)
        for g in opt.param_groups:
            g["lr"] = lr
        tr = run_epoch(model, train, opt, args.clip)
        va = run_epoch(model, valid)
        print(f"epoch {epoch + 1}: lr {lr:g}  train ppl {tr:.2f}  valid ppl {va:.2f}  "
              f"({time.time() - t0:.0f} s)", flush=True)
    te = run_epoch(model, test)
    print(f"result: valid_perplexity = {va:.2f}")
    print(f"result: test_perplexity = {te:.2f}")
    print(f"result: train_seconds = {time.time() - t0:.0f}")
    return te


if __name__ == "__main__":
    np.seterr(all="raise")
    main()
