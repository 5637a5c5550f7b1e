"""The pieces of the generative examples that carry the maths: the VAE's ELBO (against a
NumPy reference and float64 central differences), the DCGAN step (who learns what, D frozen
during G's update), and the sample-quality measure (closed forms)."""
import math
import sys
from pathlib import Path

import numpy as np
import pytest

import zerodl as zd
import zerodl.functions as F
import zerodl.nn as nn
from zerodl.utils import gradient_check

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
pytest.importorskip("matplotlib")  # the examples' _common imports it
import dcgan  # noqa: E402
import vae  # noqa: E402


def _softplus(a):
    return np.logaddexp(0.0, a)


def test_vae_negative_elbo_matches_numpy_reference():
    with zd.default_dtype(np.float64):
        model = vae.VAE(latent_dim=3)
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (4, 784))
    eps = rng.standard_normal((4, 3))
    with zd.default_dtype(np.float64):
        loss, recon, kl = vae.negative_elbo(model, x, eps)

    p = {k: v.data for k, v in model.named_parameters()}
    relu = lambda a: np.maximum(a, 0)  # noqa: E731
    h = relu(relu(x @ p["encoder.0.W"] + p["encoder.0.b"]) @ p["encoder.2.W"] + p["encoder.2.b"])
    mu, logvar = h @ p["mu.W"] + p["mu.b"], h @ p["logvar.W"] + p["logvar.b"]
    z = mu + np.exp(0.5 * logvar) * eps
    d = relu(relu(z @ p["decoder.0.W"] + p["decoder.0.b"]) @ p["decoder.2.W"] + p["decoder.2.b"])
    logits = d @ p["decoder.4.W"] + p["decoder.4.b"]
    log_px = (x * -_softplus(-logits) + (1 - x) * -_softplus(logits)).sum(axis=1)   # Bernoulli log-lik
    kl_ref = 0.5 * (np.exp(logvar) + mu ** 2 - 1 - logvar).sum(axis=1)
    np.testing.assert_allclose(recon, -log_px.mean(), rtol=1e-10)
    np.testing.assert_allclose(kl, kl_ref.mean(), rtol=1e-10)
    np.testing.assert_allclose(float(loss.data), (kl_ref - log_px).mean(), rtol=1e-10)


def test_vae_gradient_through_the_reparameterisation():
    with zd.default_dtype(np.float64):
        model = vae.VAE(latent_dim=2)
    rng = np.random.default_rng(1)
    x, eps = rng.uniform(0, 1, (3, 784)), rng.standard_normal((3, 2))
    params = [model.mu.b, model.logvar.b, model.decoder[0].b]  # through z = mu + exp(logvar / 2) * eps
    with zd.default_dtype(np.float64):
        result = gradient_check(lambda: vae.negative_elbo(model, x, eps)[0], params=params)
    assert result.ok, result


def test_vae_kl_is_zero_at_the_prior():
    with zd.default_dtype(np.float64):
        model = vae.VAE(latent_dim=2)
    for lin in (model.mu, model.logvar):
        lin.W.data[...] = 0
        lin.b.data[...] = 0
    with zd.default_dtype(np.float64):
        _, _, kl = vae.negative_elbo(model, np.full((2, 784), 0.5), np.zeros((2, 2)))
    assert kl == 0.0


def _gan(seed=0):
    zd.manual_seed(seed)
    G = dcgan.dcgan_init(dcgan.generator(width=8, noise_dim=6))
    D = dcgan.dcgan_init(dcgan.discriminator(width=4))
    return G, D, dcgan.adam(G), dcgan.adam(D)


def test_gan_step_updates_both_and_keeps_d_out_of_gs_step():
    G, D, opt_G, opt_D = _gan()
    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, (4, 1, 28, 28)).astype(np.float32)
    z = rng.standard_normal((4, 6)).astype(np.float32)
    g0 = [p.data.copy() for p in G.parameters()]
    d0 = [p.data.copy() for p in D.parameters()]

    # D's gradient must be that of L_D alone: G's step adds nothing to it.
    G2, D2, _, _ = _gan()
    fake = G2(zd.tensor(z))
    ones, zeros = np.ones((4, 1), np.float32), np.zeros((4, 1), np.float32)
    loss_D = (F.binary_cross_entropy_with_logits(D2(zd.tensor(real)), ones)
              + F.binary_cross_entropy_with_logits(D2(fake.detach()), zeros))
    loss_D.backward()
    want = [p.grad.copy() for p in D2.parameters()]

    l_d, l_g = dcgan.gan_step(G, D, opt_G, opt_D, real, z)
    assert math.isfinite(l_d) and math.isfinite(l_g)
    assert np.isclose(l_d, float(loss_D.data), rtol=1e-6)
    for p, w in zip(D.parameters(), want):
        np.testing.assert_allclose(p.grad, w, rtol=1e-5, atol=1e-7)
    assert all(p.requires_grad for p in D.parameters())  # unfrozen again for the next step
    assert all(not np.array_equal(p.data, a) for p, a in zip(G.parameters(), g0))
    assert all(not np.array_equal(p.data, a) for p, a in zip(D.parameters(), d0))


def test_generator_and_discriminator_shapes():
    G, D, _, _ = _gan()
    img = G(zd.tensor(np.zeros((3, 6), np.float32)))
    assert img.shape == (3, 1, 28, 28) and np.abs(img.data).max() <= 1
    assert D(img).shape == (3, 1)


class _FixedLogits(nn.Module):
    def __init__(self, logits):
        super().__init__()
        self.logits = logits

    def forward(self, x):
        return zd.tensor(self.logits[: len(x)])


def test_quality_share_and_entropy_closed_forms():
    big = 10.0
    logits = np.zeros((10, 10), np.float32)
    logits[np.arange(10), np.arange(10)] = big  # each class once, p = e^10/(e^10+9) > 0.9
    logits[0] = 0.0                              # one uniform row: p = 0.1, predicted class 0
    share, entropy, hist = dcgan.quality(_FixedLogits(logits), np.zeros((10, 1, 28, 28), np.float32))
    assert share == 0.9
    assert hist.tolist() == [1] * 10
    assert entropy == pytest.approx(math.log(10))
    collapsed = np.tile(logits[3], (10, 1))
    share, entropy, hist = dcgan.quality(_FixedLogits(collapsed), np.zeros((10, 1, 28, 28), np.float32))
    assert (share, entropy, hist[3]) == (1.0, 0.0, 10)


def test_image_grid_places_images_row_by_row():
    imgs = -np.ones((3, 1, 2, 2), np.float32)
    imgs[1] = 1.0
    grid = dcgan.image_grid(imgs, nrow=2, pad=1)
    assert grid.shape == (2 * 3 + 1, 2 * 3 + 1)
    assert (grid[1:3, 4:6] == 255).all() and (grid[1:3, 1:3] == 0).all() and grid[4:6, 1:3].max() == 0
