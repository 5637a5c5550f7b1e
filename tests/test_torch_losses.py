"""PyTorch-habit losses: ignore_index, binary_cross_entropy on probabilities (values by closed form)."""
import numpy as np
import pytest

import zerodl as zd
import zerodl.functions as F


def _log_softmax(x):
    s = x - x.max(axis=-1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=-1, keepdims=True))


def test_ignore_index_averages_over_the_kept_targets_only():
    x = np.random.default_rng(0).standard_normal((5, 4))
    t = np.array([1, -100, 3, -100, 0])
    z = zd.tensor(x, dtype=np.float64, requires_grad=True)
    loss = F.softmax_cross_entropy(z, t, ignore_index=-100)
    kept = [0, 2, 4]
    want = -np.mean(_log_softmax(x)[kept, t[kept]])
    assert loss.item() == pytest.approx(want, rel=1e-12)
    loss.backward()
    p = np.exp(_log_softmax(x))
    g = np.zeros_like(x)
    g[kept] = p[kept]
    g[kept, t[kept]] -= 1
    np.testing.assert_allclose(z.grad, g / 3, rtol=1e-12)


def test_ignore_index_all_ignored_is_nan_and_no_gradient():
    z = zd.tensor(np.ones((2, 3)), requires_grad=True)
    loss = F.softmax_cross_entropy(z, np.array([-1, -1]), ignore_index=-1)
    assert np.isnan(loss.item())
    loss.backward()
    np.testing.assert_array_equal(z.grad, 0)


def test_ignore_index_still_checks_the_kept_targets():
    with pytest.raises(IndexError, match="class index 7 is out of range for C=3"):
        F.softmax_cross_entropy(np.zeros((2, 3)), np.array([7, -100]), ignore_index=-100)
    with pytest.raises(ValueError, match="ignore_index needs int class-index targets"):
        F.softmax_cross_entropy(np.zeros((2, 3)), np.eye(3)[:2], ignore_index=0)


def test_binary_cross_entropy_closed_form_and_clipping():
    p = np.array([[0.2, 0.9], [0.5, 0.7]])
    t = np.array([[0.0, 1.0], [1.0, 0.3]])
    want = -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))
    assert F.binary_cross_entropy(zd.tensor(p, dtype=np.float64), t).item() == pytest.approx(want, rel=1e-12)
    # p exactly 0 or 1 on the wrong side: each log clamps at -100 (PyTorch's BCELoss), not inf
    edge = zd.tensor([0.0, 1.0], requires_grad=True)
    loss = F.binary_cross_entropy(edge, np.array([1.0, 0.0]))
    assert loss.item() == pytest.approx(100.0)
    loss.backward()
    assert np.all(np.isfinite(edge.grad))
    assert loss.dtype == np.float32


def test_binary_cross_entropy_refuses_non_probabilities_and_mismatched_shapes():
    with pytest.raises(ValueError, match=r"binary_cross_entropy: inputs must be probabilities in \[0, 1\]"):
        F.binary_cross_entropy(np.array([1.5, 0.2]), np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match=r"binary_cross_entropy: prediction of shape \(2, 1\) and target of shape \(2,\)"):
        F.binary_cross_entropy(np.full((2, 1), 0.5), np.array([1.0, 0.0]))
