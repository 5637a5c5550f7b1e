"""One training step of a conv workload, zerodl only (and PyTorch with ``--torch``): median wall
and CPU milliseconds at a thread count. For before/after comparisons of a change: ``--zerodl``
imports zerodl from another tree (a ``git worktree`` at the old commit), so both sides run this
same script on the same synthetic batch.

    python -m bench.conv_step --workload W3 --threads 1 [--zerodl /path/to/old/tree] [--torch]

Workloads: W3 (DeepConvNet), KCNN (the material's Keras CNN, zerodl.nn), W2 (SimpleConvNet);
batch 100, Adam(1e-3), random images in [0, 1) and labels. Set the BLAS environment in the
command (``OPENBLAS_NUM_THREADS``; unset ``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE``).
"""
from __future__ import annotations

import argparse
import os
import sys
import time


def _layers(workload, nn):
    if workload == "W3":
        from bench.workloads.deepconvnet import _layers as layers
        return layers(nn)
    if workload == "KCNN":
        from bench.workloads.keras_cnn import nn_layers
        return nn_layers(nn)
    if workload == "W2":
        from bench.workloads import convnet
        return convnet.zerodl_model() if nn.__name__.startswith("zerodl") else convnet.torch_model()
    raise SystemExit(f"conv_step: unknown workload {workload!r} (W3, KCNN, W2)")


def _median_step(step, steps):
    for _ in range(3):
        step()
    runs = []
    for _ in range(steps):
        t, c = time.perf_counter(), time.process_time()
        step()
        runs.append((time.perf_counter() - t, time.process_time() - c))
    wall = sorted(r[0] for r in runs)[steps // 2]
    cpu = sorted(r[1] for r in runs)[steps // 2]
    return wall * 1e3, cpu * 1e3


def zerodl_step(workload, threads, x, t):
    import zerodl as zd
    import zerodl.nn as nn
    import zerodl.nn.functional as F

    if hasattr(zd, "set_num_threads"):
        zd.set_num_threads(threads)
    try:
        from zerodl.functions import winograd
    except ImportError:  # a tree from before the Winograd path
        winograd = None
    if hasattr(winograd, "preload"):
        winograd.preload()
    model = _layers(workload, nn)
    opt = zd.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        loss = F.cross_entropy(model(zd.Tensor(x)), zd.Tensor(t))
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def torch_step(workload, threads, x, t):
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    model = _layers(workload, nn)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xt, tt = torch.from_numpy(x), torch.from_numpy(t)

    def step():
        opt.zero_grad()
        nn.functional.cross_entropy(model(xt), tt).backward()
        opt.step()

    return step


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workload", default="W3")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=9)
    p.add_argument("--zerodl", help="import zerodl from this tree (default: this checkout's)")
    p.add_argument("--torch", action="store_true", help="time PyTorch's step too")
    args = p.parse_args(argv)
    if args.zerodl:
        sys.path.insert(0, os.path.abspath(args.zerodl))
    import zerodl  # noqa: F401  (before NumPy, as a zerodl script would: see zerodl/_platform.py)
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.random((100, 1, 28, 28), dtype=np.float32)
    t = rng.integers(0, 10, 100)
    wall, cpu = _median_step(zerodl_step(args.workload, args.threads, x, t), args.steps)
    print(f"{args.workload} zerodl ({os.path.dirname(os.path.dirname(zerodl.__file__))}) threads "
          f"{args.threads}: step {wall:.1f} ms wall, {cpu:.1f} ms CPU (median of {args.steps})")
    if args.torch:
        wall, cpu = _median_step(torch_step(args.workload, args.threads, x, t), args.steps)
        print(f"{args.workload} PyTorch threads {args.threads}: step {wall:.1f} ms wall, {cpu:.1f} ms CPU")


if __name__ == "__main__":
    main()
