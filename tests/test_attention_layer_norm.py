"""F.layer_norm / nn.LayerNorm: closed-form values, PyTorch where installed, errors, configs.

(Gradients are checked in float64 by tests/test_gradcheck.py.)
"""
import numpy as np
import pytest

import zerodl as zd
import zerodl.functions as F
import zerodl.nn as nn


def _reference(x, axes, gamma, beta, eps):
    mu = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * gamma + beta


def test_layer_norm_values_closed_form():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 4, 5)) * 3 + 1
    g, b = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    y = F.layer_norm(zd.tensor(x, dtype=np.float64), (4, 5), g, b, eps=1e-5)
    np.testing.assert_allclose(y.data, _reference(x, (2, 3), g, b, 1e-5), rtol=1e-12, atol=1e-12)
    # Without affine parameters each group has mean 0 and (biased) variance 1 / (1 + eps/var).
    y = F.layer_norm(zd.tensor(x, dtype=np.float64), 5).data
    np.testing.assert_allclose(y.mean(axis=-1), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=-1), x.var(-1) / (x.var(-1) + 1e-5), rtol=1e-10)


def test_layer_norm_keeps_float32():
    x = zd.tensor(np.random.default_rng(1).standard_normal((4, 6)), requires_grad=True)
    ln = nn.LayerNorm(6)
    y = ln(x)
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32
    assert ln.gamma.grad.dtype == np.float32 and ln.beta.grad.shape == (6,)


def test_layer_norm_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 7, 8))
    g, b = rng.standard_normal(8), rng.standard_normal(8)
    gy = rng.standard_normal((3, 7, 8))

    xs = [zd.tensor(a, dtype=np.float64, requires_grad=True) for a in (x, g, b)]
    F.layer_norm(xs[0], 8, xs[1], xs[2]).backward(gy)
    ts = [torch.tensor(a, requires_grad=True) for a in (x, g, b)]
    torch.nn.functional.layer_norm(ts[0], (8,), ts[1], ts[2], eps=1e-5).backward(torch.tensor(gy))
    for z, t in zip(xs, ts):
        np.testing.assert_allclose(z.grad, t.grad.numpy(), rtol=1e-10, atol=1e-12)
    with zd.default_dtype(np.float64):
        layer = nn.LayerNorm((7, 8))
    tl = torch.nn.LayerNorm((7, 8), dtype=torch.float64)
    np.testing.assert_allclose(layer(zd.tensor(x, dtype=np.float64)).data, tl(torch.tensor(x)).detach().numpy(), rtol=1e-10, atol=1e-12)


def test_layer_norm_module_parameters_config_and_errors():
    ln = nn.LayerNorm(4, eps=1e-6)
    assert [n for n, _ in ln.named_parameters()] == ["gamma", "beta"]
    np.testing.assert_array_equal(ln.gamma.data, np.ones(4))
    again = nn.module_from_config(nn.module_to_config(ln))
    assert again.normalized_shape == (4,) and again.eps == 1e-6
    assert list(nn.LayerNorm(3, elementwise_affine=False).parameters()) == []
    assert [n for n, _ in nn.LayerNorm(3, bias=False).named_parameters()] == ["gamma"]
    with pytest.raises(ValueError, match=r"LayerNorm\(\(4,\)\): expected input of shape \(\.\.\., 4\), got shape \(2, 5\)"):
        ln(np.zeros((2, 5), np.float32))
    with pytest.raises(ValueError, match="layer_norm: input of shape"):
        F.layer_norm(np.zeros((2, 3)), (2, 3, 4))
    with pytest.raises(ValueError, match="gamma of shape"):
        F.layer_norm(np.zeros((2, 3)), 3, np.ones(4))
    with pytest.raises(ValueError, match="LayerNorm: normalized_shape must be a positive integer"):
        nn.LayerNorm(0)
