"""The book's SimpleConvNet: W2 (training) and W5 (inference).

conv 30 filters 5x5 (stride 1, pad 0) on 1x28x28 - ReLU - 2x2 max pool (stride 2) -
Linear 4320->100 - ReLU - Linear 100->10.
W2: Adam(1e-3), batch 100, timed per ``--samples`` samples (default 10,000).
W5: forward only (no_grad, eval mode), batch 1000, the test images, per ``--samples``.
"""
from __future__ import annotations

from bench.data import load_mnist
from bench.workloads.base import (Options, Workload, batch_slices, conv_flops, conv_out,
                                  linear_flops, training_flops)
from bench.workloads.trainers import numpy_trainer, torch_trainer, zerodl_trainer

FILTERS, K, HIDDEN, CLASSES = 30, 5, 100, 10
OUT = conv_out(28, K)  # 24
FLAT = FILTERS * (OUT // 2) ** 2  # 4320
TRAIN_BATCH, INFER_BATCH = 100, 1000
LR = 1e-3


def forward_flops(batch):
    return [conv_flops(batch, 1, FILTERS, K, OUT, OUT),
            linear_flops(batch, FLAT, HIDDEN),
            linear_flops(batch, HIDDEN, CLASSES)]


def zerodl_model():
    import zerodl.nn as nn

    return nn.Sequential(
        nn.Conv2d(1, FILTERS, K), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(),
        nn.Linear(FLAT, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, CLASSES))


def torch_model():
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(1, FILTERS, K), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(),
        nn.Linear(FLAT, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, CLASSES))


# --- W2: training -------------------------------------------------------------------------

def _train_zerodl(data, opts):
    return zerodl_trainer(zerodl_model, data.x_train, data.t_train, opts.seed, TRAIN_BATCH, LR)


def _train_torch(data, opts):
    return torch_trainer(torch_model, data.x_train, data.t_train, opts.seed, TRAIN_BATCH, LR)


def _train_numpy(data, opts):
    from bench.peers.numpy_floor import SimpleConvNet

    return numpy_trainer(SimpleConvNet(seed=opts.seed), data.x_train, data.t_train, TRAIN_BATCH, LR)


# --- W5: inference ------------------------------------------------------------------------

def _infer_zerodl(data, opts):
    import zerodl as zd

    zd.manual_seed(opts.seed)
    x = data.x_test
    model = zerodl_model()
    model.eval()
    slices = batch_slices(len(x), INFER_BATCH)

    def run(n):
        with zd.no_grad():
            for _ in range(n):
                y = model(zd.Tensor(x[next(slices)]))
        return float(y.data[0, 0])

    return run


def _infer_torch(data, opts):
    import torch

    torch.manual_seed(opts.seed)
    x = torch.from_numpy(data.x_test)
    model = torch_model()
    model.eval()
    slices = batch_slices(len(x), INFER_BATCH)

    def run(n):
        with torch.no_grad():
            for _ in range(n):
                y = model(x[next(slices)])
        return float(y[0, 0])

    return run


def _infer_numpy(data, opts):
    from bench.peers.numpy_floor import SimpleConvNet

    x = data.x_test
    net = SimpleConvNet(seed=opts.seed)
    slices = batch_slices(len(x), INFER_BATCH)

    def run(n):
        for _ in range(n):
            y = net.predict(x[next(slices)])
        return float(y[0, 0])

    return run


def build_train(framework, data, opts: Options):
    return {"zerodl": _train_zerodl, "torch": _train_torch,
            "numpy": _train_numpy}[framework](data, opts)


def build_infer(framework, data, opts: Options):
    return {"zerodl": _infer_zerodl, "torch": _infer_torch,
            "numpy": _infer_numpy}[framework](data, opts)


def _load(opts):
    return load_mnist(opts.data_dir, opts.seed)


W2 = Workload(
    key="W2",
    title="SimpleConvNet (conv30 5x5, pool, 100, 10), Adam, batch 100",
    frameworks=("zerodl", "torch", "numpy"),
    targets={"torch": 1.0},
    load=_load,
    build=build_train,
    batches=lambda opts: opts.samples // TRAIN_BATCH,
    unit=lambda opts: f"{opts.samples:,} samples",
    flops_per_batch=training_flops(forward_flops(TRAIN_BATCH)),
    warmup=5,
)

W5 = Workload(
    key="W5",
    title="SimpleConvNet inference, no_grad + eval, batch 1000",
    frameworks=("zerodl", "torch", "numpy"),
    targets={"torch": 1.0},
    load=_load,
    build=build_infer,
    batches=lambda opts: max(1, opts.samples // INFER_BATCH),
    unit=lambda opts: f"{max(1, opts.samples // INFER_BATCH) * INFER_BATCH:,} samples",
    flops_per_batch=sum(forward_flops(INFER_BATCH)),
    warmup=1,
)
