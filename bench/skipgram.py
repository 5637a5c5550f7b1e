"""Skip-gram with negative sampling, zerodl vs PyTorch, one thread, in one run.

Both train the same model on the same batches from the same initial weights: two (V, D)
tables, the book's EmbeddingDot scores ``h . W_out[targets]`` for 1 positive + k negatives,
binary cross entropy with logits summed over the batch, plain SGD. zerodl uses
``zerodl.text.word2vec.SkipGram`` (row-sparse gradients); PyTorch uses two
``nn.Embedding(sparse=True)`` and ``torch.bmm`` (its fastest form for this model: sparse
gradients, which ``torch.optim.SGD`` applies row-wise); ``--dense`` compares both with dense
gradients instead. Batches come from ``zerodl.text.word2vec.Word2VecBatches`` on the shipped
King James Bible (V = words seen >= 5 times), made before timing.

    /work/venv-torch/bin/python bench/skipgram.py [--steps 300] [--batch-size 1024] [--dim 100]
                                                  [--repeats 5] [--dense]   (PYTHONPATH=.)

Reports the median wall and CPU (process) time per step of each framework and the ratios
zerodl / PyTorch (target <= 1.0), and checks that both reach the same weights. On a shared
machine the CPU-time ratio is the steadier one (wall time includes time descheduled).
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import zerodl as zd  # noqa: E402
import zerodl.optim as zoptim  # noqa: E402
from zerodl.data import datasets  # noqa: E402
from zerodl.data.text import Vocab, encode_lines, tokenize_words  # noqa: E402
from zerodl.text.word2vec import SkipGram, Word2VecBatches, negative_sampling_loss  # noqa: E402


def make_batches(args):
    verses = datasets.kjv_bible("train")
    vocab = Vocab.build((tokenize_words(v) for v in verses), min_freq=5)
    ids = encode_lines(verses, vocab, add_eos=False)
    it = iter(Word2VecBatches(ids, vocab.counts, window=5, negatives=args.negatives,
                              batch_size=args.batch_size, drop=(vocab.unk_id,), seed=0))
    return len(vocab), [next(it) for _ in range(args.steps + args.warmup)]


def zerodl_runner(V, W_in, W_out, args):
    model = SkipGram(V, args.dim, sparse=not args.dense)
    model.W_in.data[...] = W_in
    model.W_out.data[...] = W_out
    opt = zoptim.SGD(model.parameters(), lr=args.lr)

    def step(c, t):
        loss = negative_sampling_loss(model(c, t), reduction="sum")
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step, lambda: (model.W_in.data, model.W_out.data)


def torch_runner(V, W_in, W_out, args):
    import torch
    from torch import nn

    torch.set_num_threads(1)
    e_in = nn.Embedding(V, args.dim, sparse=not args.dense)
    e_out = nn.Embedding(V, args.dim, sparse=not args.dense)
    with torch.no_grad():
        e_in.weight.copy_(torch.from_numpy(W_in))
        e_out.weight.copy_(torch.from_numpy(W_out))
    opt = torch.optim.SGD([e_in.weight, e_out.weight], lr=args.lr)
    labels = {}

    def step(c, t):
        c, t = torch.from_numpy(c), torch.from_numpy(t)
        lab = labels.get(t.shape)
        if lab is None:
            lab = labels[t.shape] = torch.zeros(t.shape)
            lab[:, 0] = 1
        s = torch.bmm(e_out(t), e_in(c).unsqueeze(2)).squeeze(2)
        loss = nn.functional.binary_cross_entropy_with_logits(s, lab, reduction="sum")
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step, lambda: (e_in.weight.detach().numpy(), e_out.weight.detach().numpy())


def time_once(make, V, W_in, W_out, batches, args):
    step, weights = make(V, W_in, W_out, args)
    for c, t in batches[:args.warmup]:
        step(c, t)
    t0, c0 = time.perf_counter(), time.process_time()
    for c, t in batches[args.warmup:]:
        step(c, t)
    return (time.perf_counter() - t0) / args.steps, (time.process_time() - c0) / args.steps, weights()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=1024)
    p.add_argument("--negatives", type=int, default=5)
    p.add_argument("--dim", type=int, default=100)
    p.add_argument("--lr", type=float, default=0.025)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--dense", action="store_true", help="dense gradients in both frameworks")
    args = p.parse_args(argv)
    import torch

    V, batches = make_batches(args)
    rng = np.random.default_rng(0)
    W_in = (rng.standard_normal((V, args.dim)) * 0.01).astype(np.float32)
    W_out = (rng.standard_normal((V, args.dim)) * 0.01).astype(np.float32)
    times = {"zerodl": [], "torch": []}
    cpu = {"zerodl": [], "torch": []}
    finals = {}
    for _ in range(args.repeats):
        for name, make in (("zerodl", zerodl_runner), ("torch", torch_runner)):
            zd.manual_seed(0)
            t, c, finals[name] = time_once(make, V, W_in, W_out, batches, args)
            times[name].append(t)
            cpu[name].append(c)
    diff = max(float(np.abs(a - b).max()) for a, b in zip(finals["zerodl"], finals["torch"]))
    z, t = statistics.median(times["zerodl"]), statistics.median(times["torch"])
    zc, tc = statistics.median(cpu["zerodl"]), statistics.median(cpu["torch"])
    kind = "dense" if args.dense else "sparse"
    print(f"skip-gram NS, V={V}, D={args.dim}, batch {args.batch_size} x (1 + {args.negatives}), "
          f"{kind} gradients, SGD, 1 thread, {args.steps} steps x {args.repeats} repeats; "
          f"numpy {np.__version__}, torch {torch.__version__}")
    print(f"zerodl {z * 1e3:.2f} ms/step (runs {', '.join(f'{x * 1e3:.2f}' for x in times['zerodl'])})")
    print(f"torch  {t * 1e3:.2f} ms/step (runs {', '.join(f'{x * 1e3:.2f}' for x in times['torch'])})")
    print(f"max |weight difference| after training: {diff:.2e}")
    print(f"CPU time per step: zerodl {zc * 1e3:.2f} ms, torch {tc * 1e3:.2f} ms, ratio {zc / tc:.2f}")
    print(f"ratio zerodl / PyTorch (wall) = {z / t:.2f}  (target <= 1.0: {'PASS' if z <= t else 'FAIL'})")
    return z / t


if __name__ == "__main__":
    main()
