"""Benchmark W2's network, checked against a float64 reference written here in plain NumPy.

The SimpleConvNet of bench/workloads/convnet.py (conv 30 5x5 - ReLU - 2x2 max pool - Linear
4320->100 - ReLU - Linear 100->10 - softmax cross entropy), built from zerodl.nn in float32,
against an independent float64 forward and backward: a naive convolution (a loop over
output positions), a naive pool (a loop over windows) and dense layers, with the gradients
derived by hand. Loss, logits and every parameter gradient must agree to float32 precision.
"""
import numpy as np
import pytest

import zerodl as zd
import zerodl.functions as F
import zerodl.nn as nn

N, C, H, FILTERS, K, HIDDEN, CLASSES = 4, 1, 28, 30, 5, 100, 10
OH = H - K + 1  # 24
PH = OH // 2  # 12


# ----------------------------------------------------------------------------- the reference
def conv_forward(x, W, b):
    """y[n, o, i, j] = sum_{c, p, q} x[n, c, i + p, j + q] * W[o, c, p, q] + b[o]."""
    y = np.empty((x.shape[0], W.shape[0], OH, OH))
    for i in range(OH):
        for j in range(OH):
            y[:, :, i, j] = np.einsum("ncpq,ocpq->no", x[:, :, i : i + K, j : j + K], W) + b
    return y


def conv_weight_grad(x, gy):
    gW = np.zeros((FILTERS, C, K, K))
    for i in range(OH):
        for j in range(OH):
            gW += np.einsum("no,ncpq->ocpq", gy[:, :, i, j], x[:, :, i : i + K, j : j + K])
    return gW


def pool_forward(a):
    """2x2 max pool, stride 2; also where each maximum came from (the first one)."""
    y = np.empty(a.shape[:2] + (PH, PH))
    where = np.empty(a.shape[:2] + (PH, PH), dtype=int)
    for i in range(PH):
        for j in range(PH):
            win = a[:, :, 2 * i : 2 * i + 2, 2 * j : 2 * j + 2].reshape(a.shape[:2] + (4,))
            where[:, :, i, j] = win.argmax(axis=-1)
            y[:, :, i, j] = win.max(axis=-1)
    return y, where


def pool_backward(gy, where, shape):
    ga = np.zeros(shape)
    for i in range(PH):
        for j in range(PH):
            for k in range(4):
                p, q = divmod(k, 2)
                ga[:, :, 2 * i + p, 2 * j + q] += gy[:, :, i, j] * (where[:, :, i, j] == k)
    return ga


def reference(x, t, params):
    """float64 loss, logits and gradients {name: array} of the SimpleConvNet."""
    Wc, bc, W1, b1, W2, b2 = (params[k] for k in ("0.W", "0.b", "4.W", "4.b", "6.W", "6.b"))
    z0 = conv_forward(x, Wc, bc)
    a0 = np.maximum(z0, 0)
    p0, where = pool_forward(a0)
    f = p0.reshape(len(x), -1)
    z1 = f @ W1 + b1
    a1 = np.maximum(z1, 0)
    logits = a1 @ W2 + b2

    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(len(x)), t].mean()

    onehot = np.eye(CLASSES)[t]
    g_logits = (np.exp(log_p) - onehot) / len(x)
    g = {"6.W": a1.T @ g_logits, "6.b": g_logits.sum(axis=0)}
    g_z1 = (g_logits @ W2.T) * (z1 > 0)
    g["4.W"], g["4.b"] = f.T @ g_z1, g_z1.sum(axis=0)
    g_p0 = (g_z1 @ W1.T).reshape(p0.shape)
    g_z0 = pool_backward(g_p0, where, a0.shape) * (z0 > 0)
    g["0.W"], g["0.b"] = conv_weight_grad(x, g_z0), g_z0.sum(axis=(0, 2, 3))
    return loss, logits, g


# ----------------------------------------------------------------------------- the test
def _close(actual, expected, what):
    """float32 against float64: relative 1e-4, plus an absolute floor at 1e-5 of the scale."""
    scale = float(np.abs(expected).max())
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-5 * scale, err_msg=what)


def test_reference_checks_itself():
    """The hand-derived reference gradient of the conv weight against central differences."""
    rng = np.random.default_rng(1)
    x = rng.random((2, C, H, H))
    t = np.array([3, 7])
    params = {"0.W": rng.normal(0, 0.1, (FILTERS, C, K, K)), "0.b": rng.normal(0, 0.1, FILTERS),
              "4.W": rng.normal(0, 0.02, (30 * PH * PH, HIDDEN)), "4.b": rng.normal(0, 0.1, HIDDEN),
              "6.W": rng.normal(0, 0.1, (HIDDEN, CLASSES)), "6.b": rng.normal(0, 0.1, CLASSES)}
    _, _, g = reference(x, t, params)
    for name, idx in (("0.W", (4, 0, 2, 3)), ("0.b", (7,)), ("4.W", (100, 5)), ("6.b", (3,))):
        eps = 1e-6
        plus, minus = dict(params), dict(params)
        plus[name], minus[name] = params[name].copy(), params[name].copy()
        plus[name][idx] += eps
        minus[name][idx] -= eps
        numeric = (reference(x, t, plus)[0] - reference(x, t, minus)[0]) / (2 * eps)
        assert numeric == pytest.approx(g[name][idx], rel=1e-5, abs=1e-9), name


def test_simple_convnet_matches_float64_reference():
    zd.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, FILTERS, K), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(),
        nn.Linear(30 * PH * PH, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, CLASSES))
    rng = np.random.default_rng(0)
    for name, p in model.named_parameters():  # non-zero biases, so they are checked too
        if name.endswith(".b"):
            p.data[...] = rng.normal(0, 0.1, p.shape)
    params = {name: p.data.astype(np.float64) for name, p in model.named_parameters()}
    assert sorted(params) == ["0.W", "0.b", "4.W", "4.b", "6.W", "6.b"]
    assert all(p.dtype == np.float32 for p in model.parameters())

    x = rng.random((N, C, H, H), dtype=np.float32)  # MNIST-like pixels in [0, 1)
    t = np.array([0, 3, 9, 3])

    logits = model(zd.Tensor(x))
    loss = F.softmax_cross_entropy(logits, t)
    model.zero_grad()
    loss.backward()
    assert logits.dtype == np.float32

    ref_loss, ref_logits, ref_grads = reference(x.astype(np.float64), t, params)
    assert loss.item() == pytest.approx(ref_loss, rel=1e-5)
    _close(logits.data, ref_logits, "logits")
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.dtype == np.float32, name
        _close(p.grad, ref_grads[name], f"gradient of {name}")
