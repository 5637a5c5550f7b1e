"""The PyTorch peer of ``_dcgan_probe.py`` (not an example itself; needs torch).

``dcgan.py``'s networks, initialisation, losses and step at the same widths, written in
PyTorch; every ``--every`` steps 1,000 samples of G (eval mode) from fixed noise go into an
.npz file, judged afterwards by ``_dcgan_probe.py --judge-npz`` with the same judge::

    /work/venv-torch/bin/python examples/_dcgan_probe_torch.py --data-dir DIR --out samples.npz
"""
import argparse
import gzip
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class ToImage(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.width = width

    def forward(self, x):
        return x.view(len(x), self.width, 7, 7)


def networks(gw, dw):
    G = nn.Sequential(nn.Linear(100, gw * 49), nn.BatchNorm1d(gw * 49), nn.ReLU(), ToImage(gw),
                      nn.ConvTranspose2d(gw, gw // 2, 4, 2, 1), nn.BatchNorm2d(gw // 2), nn.ReLU(),
                      nn.ConvTranspose2d(gw // 2, 1, 4, 2, 1), nn.Tanh())
    D = nn.Sequential(nn.Conv2d(1, dw, 4, 2, 1), nn.LeakyReLU(0.2),
                      nn.Conv2d(dw, 2 * dw, 4, 2, 1), nn.BatchNorm2d(2 * dw), nn.LeakyReLU(0.2),
                      nn.Flatten(), nn.Linear(2 * dw * 49, 1))
    for m in list(G.modules()) + list(D.modules()):
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0, 0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(m.weight, 1, 0.02)
            nn.init.zeros_(m.bias)
    return G, D


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default="../shared/data/mnist")
    p.add_argument("--g-width", type=int, default=64)
    p.add_argument("--d-width", type=int, default=16)
    p.add_argument("--steps", type=int, default=1800)
    p.add_argument("--every", type=int, default=300)
    p.add_argument("--out", default="dcgan_torch_samples.npz")
    a = p.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    with gzip.open(f"{a.data_dir}/train-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28).astype(np.float32) / 255
    real = torch.from_numpy(x * 2 - 1)
    G, D = networks(a.g_width, a.d_width)
    opt_G = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_D = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
    bce = F.binary_cross_entropy_with_logits
    ones, zeros = torch.ones(64, 1), torch.zeros(64, 1)
    eval_z = torch.from_numpy(rng.standard_normal((1000, 100)).astype(np.float32))
    order, pos, out, t0 = rng.permutation(len(real)), 0, {}, time.perf_counter()
    for step in range(1, a.steps + 1):
        if pos + 64 > len(order):
            order, pos = rng.permutation(len(real)), 0
        idx = order[pos:pos + 64]
        pos += 64
        fake = G(torch.from_numpy(rng.standard_normal((64, 100)).astype(np.float32)))
        loss_D = bce(D(real[idx]), ones) + bce(D(fake.detach()), zeros)
        opt_D.zero_grad()
        loss_D.backward()
        opt_D.step()
        loss_G = bce(D(fake), ones)  # D's grads from here are zeroed before D's next step
        opt_G.zero_grad()
        loss_G.backward()
        opt_G.step()
        if step % a.every == 0:
            G.eval()
            with torch.no_grad():
                out[f"step_{step}"] = G(eval_z).numpy()
            G.train()
            print(f"step {step} ({time.perf_counter() - t0:.0f} s) L_D {loss_D.item():.3f} L_G {loss_G.item():.3f}",
                  flush=True)
    np.savez(a.out, **out)


if __name__ == "__main__":
    main()
