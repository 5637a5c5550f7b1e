"""The Numba kernels of zerodl/functions/_fast_pointwise.py (batch norm, LeakyReLU) against the
NumPy code they replace, values and gradients (skipped without numba)."""
import numpy as np
import pytest

import zerodl as zd
from tests._threads import one_then_two_threads
import zerodl.functions as F
from zerodl.functions import activations as activations_module, normalization as normalization_module

pytest.importorskip("numba")
from zerodl.functions import _fast_pointwise  # noqa: E402  (needs numba)

RNG = np.random.default_rng(11)


def _both(monkeypatch, module, run):
    """run() on the NumPy code, then on the kernels: the two results."""
    out = []
    for fast in (None, _fast_pointwise):
        monkeypatch.setattr(module, "fast_module", lambda name, fast=fast: fast)
        out.append(run())
    return out


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 2e-5), (np.float64, 1e-12)])
@pytest.mark.parametrize("shape", [(16, 300), (8, 5, 6, 7), (2, 3, 1, 1)])
@pytest.mark.parametrize("grads", [(True, True, True), (False, True, True), (True, False, False)])
def test_batch_norm_kernels_match_numpy(monkeypatch, dtype, rtol, shape, grads):
    C = shape[1]
    x = (RNG.standard_normal(shape) * 3 + 2).astype(dtype)
    gamma, beta = RNG.uniform(0.5, 2, C).astype(dtype), RNG.standard_normal(C).astype(dtype)
    R = RNG.standard_normal(shape).astype(dtype)

    def run():
        rm, rv = np.zeros(C, dtype), np.ones(C, dtype)
        ts = [zd.tensor(a, requires_grad=g, dtype=dtype) for a, g in zip((x, gamma, beta), grads)]
        y = F.batch_norm(*ts, rm, rv, training=True)
        y.backward(R)
        return [y.data, rm, rv] + [t.grad for t in ts]

    ref, fast = _both(monkeypatch, normalization_module, run)
    for a, b in zip(ref, fast):
        if a is None:
            assert b is None
            continue
        assert b.dtype == dtype
        np.testing.assert_allclose(b, a, rtol=rtol, atol=rtol)


def _batch_norm_run(x, gamma, beta, R):
    C = x.shape[1]

    def run():
        rm, rv = np.zeros(C, x.dtype), np.ones(C, x.dtype)
        ts = [zd.tensor(a, requires_grad=True, dtype=x.dtype) for a in (x, gamma, beta)]
        y = F.batch_norm(*ts, rm, rv, training=True)
        y.backward(R)
        return [y.data, rm, rv] + [np.asarray(t.grad) for t in ts]

    return run


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 2e-5), (np.float64, 1e-12)])
@pytest.mark.parametrize("shape, pieces", [((64, 16, 8, 32), 2), ((64, 64, 8, 8), 2), ((37, 7, 30, 30), 1),
                                           ((64, 4096), 2), ((9, 64, 32, 32), 4), ((40, 8, 64, 64), 8)])
def test_batch_norm_kernels_in_pieces_match_numpy(monkeypatch, dtype, rtol, shape, pieces):
    """Batches large enough for several pieces (of unequal lengths where N is not a multiple):
    the pieces' sums added give the NumPy code's statistics and gradients."""
    assert len(normalization_module._batch_pieces(np.empty(shape).reshape(shape[0], shape[1], -1))) == pieces
    x = (RNG.standard_normal(shape) * 3 + 2).astype(dtype)
    gamma, beta = RNG.uniform(0.5, 2, shape[1]).astype(dtype), RNG.standard_normal(shape[1]).astype(dtype)
    ref, fast = _both(monkeypatch, normalization_module, _batch_norm_run(x, gamma, beta, RNG.standard_normal(shape).astype(dtype)))
    for a, b in zip(ref, fast):
        assert b.dtype == dtype
        np.testing.assert_allclose(b, a, rtol=rtol, atol=rtol * 10)


def test_batch_norm_batch_pieces_follow_the_shape_only():
    pieces = normalization_module._batch_pieces
    assert pieces(np.empty((64, 128, 49))) == [slice(0, 32), slice(32, 64)]       # 401,408 elements
    assert pieces(np.empty((64, 64, 196))) == [slice(i, i + 16) for i in range(0, 64, 16)]
    assert pieces(np.empty((3, 1 << 20, 1))) == [slice(0, 1), slice(1, 3)]        # a power of two <= N
    assert pieces(np.empty((9, 64, 1024))) == [slice(0, 2), slice(2, 4), slice(4, 6), slice(6, 9)]
    assert pieces(np.empty((64, 100, 1))) == [slice(0, 64)]                      # one piece
    assert pieces(np.empty((256, 64, 1024))) == [slice(i, i + 32) for i in range(0, 256, 32)]  # at most 8


def test_batch_norm_on_the_pool_gives_the_one_thread_result_bitwise():
    x = (RNG.standard_normal((64, 128, 7, 7)) * 2 + 1).astype(np.float32)
    gamma, beta = RNG.uniform(0.5, 2, 128).astype(np.float32), RNG.standard_normal(128).astype(np.float32)
    one, two = one_then_two_threads(_batch_norm_run(x, gamma, beta, RNG.standard_normal(x.shape).astype(np.float32)))
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("slope", [0.2, 0.0, 1.5, -0.3])
def test_leaky_relu_kernels_match_numpy(monkeypatch, dtype, slope):
    x = RNG.standard_normal((4, 3, 5, 5)).astype(dtype)
    x[0, 0, 0, :3] = 0.0  # the kink: gradient slope * gy, as the NumPy code
    R = RNG.standard_normal(x.shape).astype(dtype)

    def run():
        t = zd.tensor(x, requires_grad=True, dtype=dtype)
        y = F.leaky_relu(t, slope)
        y.backward(R)
        return y.data, t.grad

    (y0, g0), (y1, g1) = _both(monkeypatch, activations_module, run)
    assert y1.dtype == g1.dtype == dtype
    np.testing.assert_array_equal(y1, y0)
    np.testing.assert_array_equal(g1, g0)


def test_non_contiguous_and_integer_inputs_take_the_numpy_code(monkeypatch):
    calls = []
    monkeypatch.setattr(activations_module, "fast_module", lambda name: calls.append(name) or _fast_pointwise)
    x = RNG.standard_normal((6, 4)).T  # a transposed view
    y = F.leaky_relu(zd.tensor(x, requires_grad=True), 0.1)
    np.testing.assert_allclose(y.data, np.where(x > 0, x, 0.1 * x))
    assert calls == []
    np.testing.assert_allclose(F.leaky_relu(zd.tensor(np.array([[-2, 3]])), 0.5).data, [[-1.0, 3.0]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layouts", [("c", "c"), ("last", "last"), ("c", "last"), ("last", "c")])
def test_relu_grad_kernel_matches_numpy(monkeypatch, dtype, layouts):
    """One pass (kernel) or two (NumPy), any pair of memory layouts: the same bits."""
    def laid(a, layout):
        return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2) if layout == "last" else a

    x = laid(RNG.standard_normal((6, 5, 7, 3)).astype(dtype), layouts[0])
    x[0, 0, 0, :2] = 0.0  # the kink: zero gradient in both
    R = laid(RNG.standard_normal(x.shape).astype(dtype), layouts[1])

    def run():
        t = zd.tensor(x, requires_grad=True, dtype=dtype)
        y = F.relu(t)
        y.backward(R)
        return y.data, t.grad

    (y_ref, g_ref), (y, g) = _both(monkeypatch, activations_module, run)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(g, g_ref)
    assert g.dtype == dtype and g.strides == g_ref.strides


@pytest.mark.parametrize("layouts", [("last", "last"), ("c", "last"), ("last", "c")])
def test_leaky_relu_kernels_on_channels_last_images_match_numpy(monkeypatch, layouts):
    """A channels-last x (a Winograd conv's output) takes the kernels and keeps its layout;
    gy in another layout takes the NumPy code; the values are the same bits either way."""
    def laid(a, layout):
        return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2) if layout == "last" else a

    x = laid(RNG.standard_normal((6, 5, 7, 3)).astype(np.float32), layouts[0])
    x[0, 0, 0, :2] = 0.0
    R = laid(RNG.standard_normal(x.shape).astype(np.float32), layouts[1])

    def run():
        t = zd.tensor(x, requires_grad=True)
        y = F.leaky_relu(t, 0.2)
        y.backward(R)
        return y.data, np.asarray(t.grad)

    (y0, g0), (y1, g1) = _both(monkeypatch, activations_module, run)
    assert y1.strides == x.strides
    np.testing.assert_array_equal(y1, y0)
    np.testing.assert_array_equal(g1, g0)


def test_leaky_relu_on_the_pool_gives_the_one_thread_result_bitwise():
    pytest.importorskip("threadpoolctl")
    x = RNG.standard_normal((64, 64, 14, 14)).astype(np.float32)
    R = RNG.standard_normal(x.shape).astype(np.float32)

    def run():
        t = zd.tensor(x, requires_grad=True)
        y = F.leaky_relu(t, 0.2)
        y.backward(R)
        return y.data, np.asarray(t.grad)

    one, two = one_then_two_threads(run)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(one[0], np.where(x > 0, x, x * np.float32(0.2)))
