"""examples/dcgan.py's sampling from the weight average of G: the EMA update (closed form)
and the standing BatchNorm statistics it is sampled with (the average of per-batch
statistics, computed here layer by layer)."""
import sys
from pathlib import Path

import numpy as np
import pytest

import zerodl as zd
import zerodl.nn as nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
pytest.importorskip("matplotlib")  # the examples' _common imports it
import dcgan  # noqa: E402


def _generator(seed=0):
    zd.manual_seed(seed)
    return dcgan.dcgan_init(dcgan.generator(width=4, noise_dim=3))


def test_ema_update_is_the_convex_combination_and_leaves_g_alone():
    G, ema = _generator(0), _generator(1)
    g0 = [p.data.copy() for p in G.parameters()]
    e0 = [p.data.copy() for p in ema.parameters()]
    dcgan.ema_update(ema, G, 0.9)
    for e, a, b, p in zip(ema.parameters(), e0, g0, G.parameters()):
        np.testing.assert_allclose(e.data, 0.9 * a + 0.1 * b, rtol=1e-6, atol=1e-7)
        np.testing.assert_array_equal(p.data, b)
    assert all(p.grad is None for p in ema.parameters())


def test_standing_statistics_average_the_batch_statistics():
    G = _generator()
    z = np.random.default_rng(0).standard_normal((12, 3)).astype(np.float32)
    # By hand: each BatchNorm's input for every batch of 4 (training mode, batch statistics).
    layers = list(G.children())
    norms = [i for i, m in enumerate(layers) if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))]
    means = {i: [] for i in norms}
    variances = {i: [] for i in norms}
    probe = G.copy().train()
    with zd.no_grad():
        for b in range(3):
            h = zd.tensor(z[4 * b:4 * b + 4])
            for i, layer in enumerate(list(probe.children())):
                if i in norms:
                    axes = (0,) if h.ndim == 2 else (0, 2, 3)
                    means[i].append(h.data.mean(axis=axes))
                    variances[i].append(h.data.var(axis=axes, ddof=1))
                h = layer(h)
    out = dcgan.standing_statistics(G, z, batch_size=4)
    assert out is G and not G.training
    for i in norms:
        bn = layers[i]
        np.testing.assert_allclose(bn.running_mean, np.mean(means[i], axis=0), rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(bn.running_var, np.mean(variances[i], axis=0), rtol=1e-4, atol=1e-6)
        assert bn.momentum == 0.1  # restored
