"""W3: the book's DeepConvNet (deep_convnet.py), Adam(1e-3), batch 100.

conv3x3 16 (pad 1) - relu - conv 16 (pad 1) - relu - pool -
conv 32 (pad 1) - relu - conv 32 (pad 2) - relu - pool -
conv 64 (pad 1) - relu - conv 64 (pad 1) - relu - pool -
affine 1024->50 - relu - dropout 0.5 - affine 50->10 - dropout 0.5 - softmax
Spatial sizes 28 -> 14 -> 16 -> 8 -> 4, so 64*4*4 = 1024 features; as in the book there
is a dropout after the last affine too.  Timed per ``--samples`` samples.
"""
from __future__ import annotations

from bench.data import load_mnist
from bench.workloads.base import (Options, Workload, conv_flops, conv_out,
                                  linear_flops, training_flops)
from bench.workloads.trainers import torch_trainer, zerodl_trainer

# (out_channels, pad) of the six 3x3 convolutions, a 2x2 pool after every second one
CONVS = [(16, 1), (16, 1), (32, 1), (32, 2), (64, 1), (64, 1)]
HIDDEN, CLASSES, DROPOUT = 50, 10, 0.5
BATCH, LR = 100, 1e-3


def _shapes():
    """Per conv: (c_in, c_out, pad, out_size); and the flattened size."""
    c, size, out = 1, 28, []
    for i, (c_out, pad) in enumerate(CONVS):
        size = conv_out(size, 3, 1, pad)
        out.append((c, c_out, pad, size))
        c = c_out
        if i % 2 == 1:
            size //= 2
    return out, c * size * size


CONV_SHAPES, FLAT = _shapes()  # FLAT == 1024


def _layers(nn):
    """The same layer list for zerodl.nn and torch.nn (identical names and signatures)."""
    layers = []
    for i, (c_in, c_out, pad, _) in enumerate(CONV_SHAPES):
        layers += [nn.Conv2d(c_in, c_out, 3, stride=1, padding=pad), nn.ReLU()]
        if i % 2 == 1:
            layers.append(nn.MaxPool2d(2, 2))
    layers += [nn.Flatten(), nn.Linear(FLAT, HIDDEN), nn.ReLU(), nn.Dropout(DROPOUT),
               nn.Linear(HIDDEN, CLASSES), nn.Dropout(DROPOUT)]
    return nn.Sequential(*layers)


def _zerodl(data, opts):
    import zerodl.nn as nn

    return zerodl_trainer(lambda: _layers(nn), data.x_train, data.t_train, opts.seed, BATCH, LR)


def _torch(data, opts):
    from torch import nn

    return torch_trainer(lambda: _layers(nn), data.x_train, data.t_train, opts.seed, BATCH, LR)


def build(framework, data, opts: Options):
    return {"zerodl": _zerodl, "torch": _torch}[framework](data, opts)


def _forward_flops(batch):
    return ([conv_flops(batch, c_in, c_out, 3, s, s) for c_in, c_out, _, s in CONV_SHAPES]
            + [linear_flops(batch, FLAT, HIDDEN), linear_flops(batch, HIDDEN, CLASSES)])


W3 = Workload(
    key="W3",
    title="DeepConvNet (6 conv3x3 16-16-32-32-64-64, 50, 10, dropout), Adam, batch 100",
    frameworks=("zerodl", "torch"),
    targets={"torch": 1.2},
    load=lambda opts: load_mnist(opts.data_dir, opts.seed),
    build=build,
    batches=lambda opts: opts.samples // BATCH,
    unit=lambda opts: f"{opts.samples:,} samples",
    flops_per_batch=training_flops(_forward_flops(BATCH)),
    warmup=2,
)
