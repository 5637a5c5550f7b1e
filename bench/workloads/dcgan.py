"""GAN: one DCGAN training step (a discriminator update and a generator update), batch 64.

The architecture, recipe and step of ``examples/dcgan.py`` with its default widths (imported
from there for zerodl, so the benchmark times exactly what the example runs), and the same in
PyTorch::

    G: Linear(100, 256*7*7) - BatchNorm1d - ReLU - reshape
       - ConvTranspose2d(256, 128, 3, s1, p1) - BatchNorm2d - ReLU          # 7x7
       - ConvTranspose2d(128, 64, 4, s2, p1) - BatchNorm2d - ReLU           # 14x14
       - ConvTranspose2d(64, 1, 4, s2, p1) - Tanh                           # 28x28
    D: Conv2d(1, 64, 4, s2, p1) - LeakyReLU(0.2) - Conv2d(64, 128, 4, s2, p1) - BatchNorm2d
       - LeakyReLU(0.2) - Conv2d(128, 256, 3, s2, p1) - BatchNorm2d - LeakyReLU(0.2)      # 4x4
       - Flatten - Linear(4096, 1)

One step: D on a real batch (target 0.9, one-sided label smoothing) and on G(z).detach()
(target 0), BCE with logits, Adam(2e-4, (0.5, 0.999)); then G through D with D frozen
(``requires_grad_(False)``: no weight gradients for D), target 1, Adam. The constants below
mirror the example's defaults (tests/test_bench_dcgan.py checks that they still do). Real
batches are consecutive slices of the shuffled training images scaled to [-1, 1]; the noise
is drawn once, before timing, and is the same for both frameworks.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from bench.data import load_mnist
from bench.workloads.base import Options, Workload, batch_slices, conv_flops, linear_flops

BATCH, NOISE = 64, 100
# examples/dcgan.py's defaults: widths, the stride-1 layer's kernel, D's BatchNorm / dropout /
# kernel, D's target for real images
G_WIDTH, D_WIDTH, DEEP_KERNEL, D_BATCH_NORM, D_DROPOUT, D_KERNEL, REAL_LABEL = 128, 64, 3, True, 0.0, 4, 0.9
D_DEPTH = 3  # D's strided convolutions (3: a 3x3 one to 4x4, 4 * D_WIDTH channels)
STEPS = 10
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _g_forward(b):
    head = 2 * G_WIDTH if DEEP_KERNEL else G_WIDTH
    deep = [conv_flops(b, G_WIDTH, head, DEEP_KERNEL, 7, 7)] if DEEP_KERNEL else []
    return [linear_flops(b, NOISE, head * 49)] + deep + [
        conv_flops(b, G_WIDTH // 2, G_WIDTH, 4, 7, 7),   # a transposed conv costs its conv's GEMM
        conv_flops(b, 1, G_WIDTH // 2, 4, 14, 14)]


def _d_forward(b):
    third = [conv_flops(b, 2 * D_WIDTH, 4 * D_WIDTH, 3, 4, 4)] if D_DEPTH == 3 else []
    return [conv_flops(b, 1, D_WIDTH, D_KERNEL, 14, 14), conv_flops(b, D_WIDTH, 2 * D_WIDTH, D_KERNEL, 7, 7),
            *third, linear_flops(b, 4 * D_WIDTH * 16 if third else 2 * D_WIDTH * 49, 1)]


def step_flops(b=BATCH):
    """D step: D forward on real and fake, dW everywhere, dX but for the first layer (x2);
    G step: D forward and dX (no dW: D is frozen), G forward, dW and dX but for its first layer."""
    g, d = _g_forward(b), _d_forward(b)
    d_step = 2 * (sum(d) + sum(d) + sum(d) - d[0])
    g_step = 2 * sum(d) + sum(g) + sum(g) + sum(g) - g[0]
    return d_step + g_step


def _load(opts: Options):
    data = load_mnist(opts.data_dir, opts.seed)
    real = data.x_train * 2 - 1
    z = np.random.default_rng(opts.seed).standard_normal((STEPS * 8, BATCH, NOISE)).astype(np.float32)
    return real, z


def _build_zerodl(data, opts):
    import zerodl as zd

    sys.path.insert(0, str(EXAMPLES))
    import dcgan  # examples/dcgan.py: its generator, discriminator, optimizers and step

    real, z = data
    zd.manual_seed(opts.seed)
    G = dcgan.dcgan_init(dcgan.generator(G_WIDTH, deep_kernel=DEEP_KERNEL))
    D = dcgan.dcgan_init(dcgan.discriminator(D_WIDTH, batch_norm=D_BATCH_NORM, dropout=D_DROPOUT, kernel=D_KERNEL,
                                             depth=D_DEPTH))
    opt_G, opt_D = dcgan.adam(G), dcgan.adam(D)
    slices = batch_slices(len(real), BATCH)
    counter = iter(range(10 ** 9))

    def run(n):
        loss = None
        for _ in range(n):
            loss = dcgan.gan_step(G, D, opt_G, opt_D, real[next(slices)], z[next(counter) % len(z)], REAL_LABEL)[1]
        return loss

    return run


def _torch_models():
    from torch import nn

    head = 2 * G_WIDTH if DEEP_KERNEL else G_WIDTH
    deep = ([nn.ConvTranspose2d(head, G_WIDTH, DEEP_KERNEL, 1, DEEP_KERNEL // 2), nn.BatchNorm2d(G_WIDTH), nn.ReLU()]
            if DEEP_KERNEL else [])
    G = nn.Sequential(
        nn.Linear(NOISE, head * 49), nn.BatchNorm1d(head * 49), nn.ReLU(), nn.Unflatten(1, (head, 7, 7)), *deep,
        nn.ConvTranspose2d(G_WIDTH, G_WIDTH // 2, 4, 2, 1), nn.BatchNorm2d(G_WIDTH // 2), nn.ReLU(),
        nn.ConvTranspose2d(G_WIDTH // 2, 1, 4, 2, 1), nn.Tanh())
    pad = (D_KERNEL - 1) // 2

    def act():
        return [nn.LeakyReLU(0.2)] + ([nn.Dropout(D_DROPOUT)] if D_DROPOUT else [])

    def norm(channels):
        return [nn.BatchNorm2d(channels)] if D_BATCH_NORM else []

    third = [nn.Conv2d(2 * D_WIDTH, 4 * D_WIDTH, 3, 2, 1), *norm(4 * D_WIDTH), *act()] if D_DEPTH == 3 else []
    D = nn.Sequential(
        nn.Conv2d(1, D_WIDTH, D_KERNEL, 2, pad), *act(),
        nn.Conv2d(D_WIDTH, 2 * D_WIDTH, D_KERNEL, 2, pad), *norm(2 * D_WIDTH), *act(), *third,
        nn.Flatten(), nn.Linear(4 * D_WIDTH * 16 if third else 2 * D_WIDTH * 49, 1))
    for m in list(G.modules()) + list(D.modules()):
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
    return G, D


def _build_torch(data, opts):
    import torch
    import torch.nn.functional as F

    real, z = data
    torch.manual_seed(opts.seed)
    real, z = torch.from_numpy(real), torch.from_numpy(z)
    G, D = _torch_models()
    opt_G = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_D = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    ones, zeros = torch.ones(BATCH, 1), torch.zeros(BATCH, 1)
    real_targets = torch.full((BATCH, 1), REAL_LABEL)
    slices = batch_slices(len(real), BATCH)
    counter = iter(range(10 ** 9))

    def step(x, noise):
        fake = G(noise)
        loss_D = (F.binary_cross_entropy_with_logits(D(x), real_targets)
                  + F.binary_cross_entropy_with_logits(D(fake.detach()), zeros))
        opt_D.zero_grad()
        loss_D.backward()
        opt_D.step()
        D.requires_grad_(False)
        loss_G = F.binary_cross_entropy_with_logits(D(fake), ones)
        opt_G.zero_grad()
        loss_G.backward()
        opt_G.step()
        D.requires_grad_(True)
        return loss_G.item()

    def run(n):
        loss = None
        for _ in range(n):
            loss = step(real[next(slices)], z[next(counter) % len(z)])
        return loss

    return run


def build(framework, data, opts: Options):
    return {"zerodl": _build_zerodl, "torch": _build_torch}[framework](data, opts)


GAN = Workload(
    key="GAN",
    title="DCGAN step (D and G updates) as examples/dcgan.py (its default nets), Adam(2e-4), batch 64",
    frameworks=("zerodl", "torch"),
    targets={"torch": 1.0},
    load=_load,
    build=build,
    batches=lambda opts: STEPS,
    unit=lambda opts: f"{STEPS} GAN steps",
    flops_per_batch=step_flops(),
    warmup=3,
)
