"""W1: MLP 784-100-100-100-10, ReLU, Adam(1e-3), batch 100, one epoch of MNIST.

The model builders are shared with bench/overhead.py.
"""
from __future__ import annotations

from bench.data import load_mnist
from bench.workloads.base import Options, Workload, linear_flops, training_flops
from bench.workloads.trainers import numpy_trainer, torch_trainer, zerodl_trainer

SIZES = (784, 100, 100, 100, 10)
BATCH = 100
LR = 1e-3


def zerodl_mlp(sizes=SIZES):
    import zerodl.nn as nn

    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def torch_mlp(sizes=SIZES):
    from torch import nn

    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def _flat(data):
    return data.x_train.reshape(len(data.x_train), -1), data.t_train


def _zerodl(data, opts):
    return zerodl_trainer(zerodl_mlp, *_flat(data), opts.seed, BATCH, LR)


def _torch(data, opts):
    return torch_trainer(torch_mlp, *_flat(data), opts.seed, BATCH, LR)


def _numpy(data, opts):
    from bench.peers.numpy_floor import MLP

    return numpy_trainer(MLP(SIZES, seed=opts.seed), *_flat(data), BATCH, LR)


def build(framework, data, opts: Options):
    return {"zerodl": _zerodl, "torch": _torch, "numpy": _numpy}[framework](data, opts)


W1 = Workload(
    key="W1",
    title="MLP 784-100-100-100-10, ReLU, Adam(1e-3), batch 100",
    frameworks=("zerodl", "torch", "numpy"),
    targets={"torch": 0.8, "numpy": 1.15},
    load=lambda opts: load_mnist(opts.data_dir, opts.seed),
    build=build,
    batches=lambda opts: opts.mlp_samples // BATCH,
    unit=lambda opts: ("1 epoch (60,000 samples)" if opts.mlp_samples == 60_000
                       else f"{opts.mlp_samples:,} samples"),
    flops_per_batch=training_flops(
        [linear_flops(BATCH, a, b) for a, b in zip(SIZES[:-1], SIZES[1:])]),
    warmup=10,
)
