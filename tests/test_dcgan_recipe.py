"""examples/dcgan.py's recipe options: the deeper generator (a stride-1 transposed convolution
at 7x7), the TensorFlow tutorial's discriminator (no BatchNorm, dropout, 5x5 kernels) and
one-sided label smoothing in the step (L_D against its closed form)."""
import sys
from pathlib import Path

import numpy as np
import pytest

import zerodl as zd
import zerodl.nn as nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
pytest.importorskip("matplotlib")  # the examples' _common imports it
import dcgan  # noqa: E402


def _shapes(model, x):
    shapes = []
    with zd.no_grad():
        h = zd.tensor(x)
        for layer in model.children():
            h = layer(h)
            shapes.append((type(layer).__name__, h.shape))
    return shapes


@pytest.mark.parametrize("kernel", [3, 5])
def test_deep_generator_has_a_stride_1_layer_at_7x7(kernel):
    zd.manual_seed(0)
    G = dcgan.dcgan_init(dcgan.generator(width=8, noise_dim=6, deep_kernel=kernel)).eval()
    shapes = _shapes(G, np.zeros((3, 6), np.float32))
    convs = [s for name, s in shapes if name == "ConvTranspose2d"]
    assert shapes[0] == ("Linear", (3, 16 * 7 * 7))
    assert convs == [(3, 8, 7, 7), (3, 4, 14, 14), (3, 1, 28, 28)]
    assert shapes[-1][0] == "Tanh"
    classic = dcgan.generator(width=8, noise_dim=6)
    assert [s for name, s in _shapes(classic.eval(), np.zeros((3, 6), np.float32)) if name == "ConvTranspose2d"] \
        == [(3, 4, 14, 14), (3, 1, 28, 28)]


@pytest.mark.parametrize("kernel", [4, 5])
def test_tutorial_discriminator_no_batchnorm_dropout_after_each_leaky_relu(kernel):
    zd.manual_seed(0)
    D = dcgan.dcgan_init(dcgan.discriminator(width=4, batch_norm=False, dropout=0.3, kernel=kernel))
    names = [type(m).__name__ for m in D.children()]
    assert "BatchNorm2d" not in names
    assert names == ["Conv2d", "LeakyReLU", "Dropout", "Conv2d", "LeakyReLU", "Dropout", "Flatten", "Linear"]
    x = np.random.default_rng(0).uniform(-1, 1, (5, 1, 28, 28)).astype(np.float32)
    assert [s for name, s in _shapes(D.eval(), x) if name == "Conv2d"] == [(5, 4, 14, 14), (5, 8, 7, 7)]
    with zd.no_grad():
        a, b = D(zd.tensor(x)).data, D(zd.tensor(x)).data
        np.testing.assert_array_equal(a, b)  # eval: dropout is the identity
        D.train()
        c, d = D(zd.tensor(x)).data, D(zd.tensor(x)).data
    assert a.shape == (5, 1) and not np.array_equal(c, d)  # training: a fresh mask per call


def _log_sigmoid(a):
    return -np.logaddexp(0.0, -a)


def test_one_sided_label_smoothing_in_the_discriminators_loss():
    zd.manual_seed(0)
    G = dcgan.dcgan_init(dcgan.generator(width=8, noise_dim=6))
    D = dcgan.dcgan_init(dcgan.discriminator(width=4))
    rng = np.random.default_rng(1)
    real = rng.uniform(-1, 1, (4, 1, 28, 28)).astype(np.float32)
    z = rng.standard_normal((4, 6)).astype(np.float32)
    # The logits D gives before its update, from copies in the same (training) mode.
    G2, D2 = G.copy(), D.copy()
    with zd.no_grad():
        a = D2(zd.tensor(real)).data.astype(np.float64)
        b = D2(G2(zd.tensor(z))).data.astype(np.float64)
    r = 0.9
    want = (-(r * _log_sigmoid(a) + (1 - r) * _log_sigmoid(-a)).mean() - _log_sigmoid(-b).mean())
    l_d, l_g = dcgan.gan_step(G, D, dcgan.adam(G), dcgan.adam(D), real, z, real_label=r)
    assert np.isclose(l_d, want, rtol=1e-5)
    unsmoothed = -_log_sigmoid(a).mean() - _log_sigmoid(-b).mean()
    assert not np.isclose(l_d, unsmoothed, rtol=1e-3)


@pytest.mark.parametrize("batch_norm", [True, False])
def test_three_layer_discriminator_goes_to_4x4(batch_norm):
    zd.manual_seed(0)
    D = dcgan.discriminator(8, batch_norm=batch_norm, depth=3)
    shapes = _shapes(D, np.zeros((2, 1, 28, 28), np.float32))
    convs = [s for name, s in shapes if name == "Conv2d"]
    assert convs == [(2, 8, 14, 14), (2, 16, 7, 7), (2, 32, 4, 4)]
    assert [name for name, _ in shapes].count("BatchNorm2d") == (2 if batch_norm else 0)
    assert shapes[-1] == ("Linear", (2, 1))


def test_linear_decay_falls_from_the_rate_to_zero_over_the_last_epochs():
    lr = [dcgan.linear_decay(e, s, 4, 3, 5, lr=1.0) for e in (3, 4, 5) for s in range(4)]
    np.testing.assert_allclose(lr, 1 - np.arange(12) / 12)  # 12 steps in epochs 3-5
    assert dcgan.linear_decay(5, 3, 4, 3, 5, lr=2e-4) == pytest.approx(2e-4 / 12)
