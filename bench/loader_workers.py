"""DataLoader(num_workers=N): epoch time against num_workers=0, on two kinds of data set.

    python -m bench.loader_workers [--samples 2000] [--repeats 3]

``augment``: a Dataset whose ``__getitem__`` does NumPy work per sample (a random crop, a
flip and a normalisation of a 3x64x64 image, then a 2-D FFT low-pass: the kind of work that
releases the GIL); ``tensor``: a TensorDataset (one fancy index per batch). Each epoch also
runs a consumer step (a 2-D matmul per batch), so prefetching can overlap with it. Reported:
the median epoch time of each num_workers, and its ratio to num_workers=0.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from zerodl.data import DataLoader, Dataset, TensorDataset  # noqa: E402


class Augmented(Dataset):
    def __init__(self, n):
        self.images = np.random.default_rng(0).standard_normal((n, 3, 72, 72)).astype(np.float32)

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        r = np.random.default_rng(i)  # per-sample generator: thread-safe and repeatable
        y, x = r.integers(0, 9, 2)
        img = self.images[i, :, y:y + 64, x:x + 64]
        if r.random() < 0.5:
            img = img[:, :, ::-1]
        img = (img - img.mean()) / (img.std() + 1e-6)
        f = np.fft.rfft2(img)
        f[:, 16:48] = 0
        return np.fft.irfft2(f, s=(64, 64)).astype(np.float32), np.int64(i % 10)


def epoch_time(loader, W):
    t0 = time.perf_counter()
    for x, _ in loader:
        x.reshape(len(x), -1)[:, :W.shape[0]] @ W
    return time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    W = np.random.default_rng(1).standard_normal((4096, 256)).astype(np.float32)
    sets = {"augment": Augmented(args.samples),
            "tensor": TensorDataset(np.random.default_rng(2).standard_normal((args.samples * 10, 3, 64, 64)).astype(np.float32),
                                    np.zeros(args.samples * 10, np.int64))}
    import os

    print(f"cores available: {len(os.sched_getaffinity(0))}")
    print(f"{'data set':10s} {'workers':>7s} {'epoch s':>8s} {'ratio':>6s}")
    counts = (0, 1, 2, 4)
    for name, ds in sets.items():
        loaders = {w: DataLoader(ds, batch_size=64, shuffle=True, seed=0, num_workers=w) for w in counts}
        epoch_time(loaders[0], W)  # warm-up: page in the data once
        times = {w: [] for w in counts}
        for _ in range(args.repeats):  # interleaved, so a busy moment hits every setting alike
            for w in counts:
                times[w].append(epoch_time(loaders[w], W))
        base = statistics.median(times[0])
        for w in counts:
            med = statistics.median(times[w])
            print(f"{name:10s} {w:7d} {med:8.3f} {med / base:6.2f}")
        orders = [[b[0].sum().round(2).tolist() for b in DataLoader(ds, batch_size=64, shuffle=True, seed=3, num_workers=w)]
                  for w in counts]
        assert all(o == orders[0] for o in orders), "num_workers changed the batches"
    print("same batches in the same order for every num_workers: yes")


if __name__ == "__main__":
    main()
