"""Embedding gradients on a V = 10,000 table: dense vs row-sparse, zerodl and PyTorch, one thread.

One step = look up ``n`` ids (Zipf-distributed, as words are) in a (V, D) table, a loss on the
rows (``sum(rows * C)`` with a fixed C, so that the gradient stays bounded), backward, and a plain SGD step. Dense: the gradient is a (V, D) array
(zero-filled, then the used rows scattered in; SGD then reads and writes all V rows).
Sparse: zerodl's ``F.embedding(..., sparse=True)`` (a ``RowSparseGrad``: only the used rows,
which SGD updates in place) and PyTorch's ``nn.Embedding(sparse=True)``.

    /work/venv-torch/bin/python bench/embedding_grad.py [--vocab 10000] [--dim 100]
                                                        [--ids 64,1024,8192] [--repeats 5]

Prints a markdown table of CPU (process) milliseconds per step, medians over repeats.
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import zerodl as zd  # noqa: E402
import zerodl.functions as F  # noqa: E402
import zerodl.optim as zoptim  # noqa: E402


def zipf_ids(n, V, rng, steps):
    p = 1.0 / np.arange(1, V + 1)
    p /= p.sum()
    return [rng.choice(V, n, p=p).astype(np.int64) for _ in range(steps)]


def zerodl_step(W0, sparse, C):
    W = zd.Tensor(W0.copy(), requires_grad=True)
    opt = zoptim.SGD([W], lr=0.01)
    C = {n: zd.Tensor(c) for n, c in C.items()}

    def step(ids):
        y = F.embedding(ids, W, sparse=sparse)
        loss = (y * C[len(ids)]).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def torch_step(W0, sparse, C):
    import torch

    C = {n: torch.from_numpy(c) for n, c in C.items()}
    emb = torch.nn.Embedding(*W0.shape, sparse=sparse)
    with torch.no_grad():
        emb.weight.copy_(torch.from_numpy(W0))
    opt = torch.optim.SGD(emb.parameters(), lr=0.01)

    def step(ids):
        y = emb(torch.from_numpy(ids))
        loss = (y * C[len(ids)]).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def measure(make, W0, sparse, batches, warmup=5):
    n = len(batches[0])
    C = {n: np.random.default_rng(1).standard_normal((n, W0.shape[1])).astype(np.float32)}
    step = make(W0, sparse, C)
    for ids in batches[:warmup]:
        step(ids)
    c0 = time.process_time()
    for ids in batches[warmup:]:
        step(ids)
    return (time.process_time() - c0) / (len(batches) - warmup)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--vocab", type=int, default=10_000)
    p.add_argument("--dim", type=int, default=100)
    p.add_argument("--ids", default="64,1024,8192")
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    W0 = (rng.standard_normal((args.vocab, args.dim)) * 0.01).astype(np.float32)
    print(f"V = {args.vocab}, D = {args.dim}, float32, SGD, 1 thread; numpy {np.__version__}, "
          f"torch {torch.__version__}; CPU ms per step (median of {args.repeats})\n")
    print("| ids per step | zerodl dense | zerodl sparse | torch dense | torch sparse | zerodl sparse / dense | zerodl sparse / torch sparse |")
    print("|---|---|---|---|---|---|---|")
    for n in (int(x) for x in args.ids.split(",")):
        batches = zipf_ids(n, args.vocab, rng, args.steps + 5)
        t = {k: [] for k in ("zd", "zs", "td", "ts")}
        for _ in range(args.repeats):
            t["zd"].append(measure(zerodl_step, W0, False, batches))
            t["zs"].append(measure(zerodl_step, W0, True, batches))
            t["td"].append(measure(torch_step, W0, False, batches))
            t["ts"].append(measure(torch_step, W0, True, batches))
        m = {k: statistics.median(v) * 1e3 for k, v in t.items()}
        print(f"| {n} | {m['zd']:.3f} | {m['zs']:.3f} | {m['td']:.3f} | {m['ts']:.3f} | "
              f"{m['zs'] / m['zd']:.2f} | {m['zs'] / m['ts']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
