"""W1: MLP 784-100-100-100-10, ReLU, Adam(1e-3), batch 100, one epoch of MNIST.

The model builders are shared with bench/overhead.py.
"""
from __future__ import annotations

from bench.data import load_mnist
from bench.workloads.base import Options, Workload, batch_slices, linear_flops, training_flops

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


def zerodl_train_step(model, optimizer, x, t):
    """The natural zerodl training step (one batch)."""
    import zerodl as zd
    import zerodl.functions as F

    loss = F.softmax_cross_entropy(model(zd.Tensor(x)), t)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss


def torch_train_step(model, optimizer, x, t):
    """The natural PyTorch training step (one batch)."""
    import torch.nn.functional as F

    loss = F.cross_entropy(model(x), t)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss


def _flat(data):
    return data.x_train.reshape(len(data.x_train), -1), data.t_train


def _zerodl(data, opts):
    import zerodl as zd
    import zerodl.optim as optim

    zd.manual_seed(opts.seed)
    x, t = _flat(data)
    model = zerodl_mlp()
    optimizer = optim.Adam(model.parameters(), lr=LR)
    slices = batch_slices(len(x), BATCH)

    def run(n):
        for _ in range(n):
            s = next(slices)
            loss = zerodl_train_step(model, optimizer, x[s], t[s])
        return loss.item()

    return run


def _torch(data, opts):
    import torch

    torch.manual_seed(opts.seed)
    x, t = (torch.from_numpy(a) for a in _flat(data))
    model = torch_mlp()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    slices = batch_slices(len(x), BATCH)

    def run(n):
        for _ in range(n):
            s = next(slices)
            loss = torch_train_step(model, optimizer, x[s], t[s])
        return loss.item()

    return run


def _numpy(data, opts):
    from bench.peers.numpy_floor import MLP, Adam

    x, t = _flat(data)
    net = MLP(SIZES, seed=opts.seed)
    optimizer = Adam(net.params(), lr=LR)
    slices = batch_slices(len(x), BATCH)

    def run(n):
        for _ in range(n):
            s = next(slices)
            loss = net.loss_and_grads(x[s], t[s])
            optimizer.step(net.grads())
        return loss

    return run


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
